"""How a value a pack's expression gives (a date, a datetime, a range of days, a list, a flag) reads
in the report: as text for people, as data for JSON and CSV, as the local day it falls on. Pure."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from jinja2.runtime import Undefined

from ..playbook.dayrange import DayRange


def is_set(value: Any) -> bool:
    """A value there is something to show of: none, undefined (a date that failed), "" and [] are not."""
    return not isinstance(value, Undefined) and value is not None and value != "" and value != [] and value != ()


def text_of(value: Any, zone: ZoneInfo) -> str:
    """The value as a table cell shows it ("" when not set)."""
    if not is_set(value):
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        local = value.astimezone(zone)
        return f"{local:%Y-%m-%d %H:%M} {local.tzname()}"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, DayRange):
        return f"{value.first.isoformat()} to {value.last.isoformat()}"
    if isinstance(value, (list, tuple)):
        return " ".join(text_of(item, zone) for item in value)
    return str(value)


def data_of(value: Any, zone: ZoneInfo) -> Any:
    """The value as JSON holds it: flags and numbers as they are, lists as lists, dates as text."""
    if isinstance(value, bool) or isinstance(value, (int, float)):
        return value
    if isinstance(value, (list, tuple)):
        return [text_of(item, zone) for item in value]
    return text_of(value, zone)


def day_of(value: Any, zone: ZoneInfo) -> date | None:
    """The local day a value falls on (a range: its first day); none when not a date."""
    if not is_set(value):
        return None
    if isinstance(value, datetime):
        return value.astimezone(zone).date()
    if isinstance(value, date):
        return value
    if isinstance(value, DayRange):
        return value.first
    return None


def days_of(value: Any, zone: ZoneInfo) -> tuple[date, ...]:
    """The first and last day a value covers: one day for a date, both ends of a range."""
    if isinstance(value, DayRange):
        return (value.first, value.last)
    day = day_of(value, zone)
    return (day,) if day else ()
