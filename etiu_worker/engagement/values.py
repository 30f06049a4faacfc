"""Field values as ServiceNow sends them (text), read into the types a role declares. No I/O.

Each reader returns the value, or raises ``UnreadableValue`` with what was expected; the caller
turns that into a problem on the engagement, never an exception out of the grouping.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping
from datetime import date, datetime, timezone
from typing import Any
from zoneinfo import ZoneInfo

SN_DATETIME = "%Y-%m-%d %H:%M:%S"
SN_DATE = "%Y-%m-%d"
_TRUE = ("true", "1", "yes")
_FALSE = ("false", "0", "no")
TEXT_CACHE_SIZE = 32_768


class UnreadableValue(ValueError):
    """A field's text is not a value of its declared type; ``expected`` says what would be."""

    def __init__(self, expected: str) -> None:
        super().__init__(expected)
        self.expected = expected


def plain(value: Any) -> str:
    """A field's stored value as text, whichever shape ServiceNow sent it in (a reference as a
    ``{"value": ...}`` object, an empty field as None)."""
    if type(value) is str:  # most fields: skip the Mapping check, the slow part
        return value
    if isinstance(value, Mapping):
        value = value.get("value", "")
    return "" if value is None else str(value)


def read_value(kind: str, text: str, zone: ZoneInfo) -> Any:
    """``text`` as a value of type ``kind``; None for an empty field of any type but text."""
    if kind == "text":
        return text
    if not text.strip():
        return None
    return _READERS[kind](text.strip(), zone)


def parse_sn_datetime(text: str) -> datetime:
    """A ServiceNow UTC date-time (``2026-11-24 23:00:00``) as an aware datetime."""
    parsed = _parsed(text, SN_DATETIME)
    if parsed is None:
        raise UnreadableValue("a date-time like 2026-11-24 23:00:00")
    return parsed.replace(tzinfo=timezone.utc)


# Parsed by their text: every cycle reads the same stamps again, and strptime is slow. The values
# are immutable (None: the text is not one); the bound keeps a long run's memory flat.
@functools.lru_cache(maxsize=TEXT_CACHE_SIZE)
def _parsed(text: str, form: str) -> datetime | None:
    try:
        return datetime.strptime(text, form)
    except ValueError:
        return None


def format_sn_datetime(value: datetime) -> str:
    """An aware datetime as ServiceNow stores a UTC date-time."""
    return value.astimezone(timezone.utc).strftime(SN_DATETIME)


def _datetime(text: str, zone: ZoneInfo) -> datetime:
    return parse_sn_datetime(text)


def _date(text: str, zone: ZoneInfo) -> date:
    parsed = _parsed(text, SN_DATE)
    if parsed is None:
        raise UnreadableValue("a date like 2026-11-24")
    return parsed.date()


def _local_datetime(text: str, zone: ZoneInfo) -> datetime:
    """A wall-clock time in the engagement's zone; one the clocks skip (spring forward) is refused."""
    expected = f"a local date and time like 2026-11-24 13:00 in {zone.key}"
    try:
        wall = datetime.fromisoformat(text)
    except ValueError:
        raise UnreadableValue(expected) from None
    if wall.tzinfo is not None or len(text) < len("2026-11-24 13:00"):
        raise UnreadableValue(expected + ", without a UTC offset")
    local = wall.replace(tzinfo=zone)
    if local.astimezone(timezone.utc).astimezone(zone).replace(tzinfo=None) != wall:
        raise UnreadableValue(f"a time that exists in {zone.key} (the clocks skip this one)")
    return local


def _reference(text: str, zone: ZoneInfo) -> str:
    return text


def _number(text: str, zone: ZoneInfo) -> int | float:
    try:
        return int(text)
    except ValueError:
        pass
    try:
        number = float(text)
    except ValueError:
        raise UnreadableValue("a number like 5 or 2.5") from None
    if not math.isfinite(number):
        raise UnreadableValue("a finite number like 5 or 2.5")
    return number


def _boolean(text: str, zone: ZoneInfo) -> bool:
    folded = text.casefold()
    if folded in _TRUE or folded in _FALSE:
        return folded in _TRUE
    raise UnreadableValue("true or false")


_READERS: dict[str, Callable[[str, ZoneInfo], Any]] = {
    "date": _date,
    "datetime": _datetime,
    "local_datetime": _local_datetime,
    "reference": _reference,
    "number": _number,
    "boolean": _boolean,
}
