"""A latch's remembered value as plain JSON data, and back.

Each value is stored with its kind (``{"kind": "datetime", "value": "2026-11-24T23:00:00+00:00"}``)
so that a date read back is a date and a text that looks like one stays a text.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from .dayrange import DayRange

UTC = ZoneInfo("UTC")
PLAIN = {"text": str, "number": (int, float), "bool": bool}


def encode_value(value: Any, latch: str) -> dict[str, Any]:
    """A value a latch can remember; ValueError naming the latch for anything else."""
    if value is None:
        return {"kind": "none"}
    if isinstance(value, datetime):
        if value.utcoffset() is None:
            raise ValueError(f"latches.{latch}: {value.isoformat()} has no time zone, so it cannot be remembered")
        return {"kind": "datetime", "value": value.astimezone(UTC).isoformat()}
    if isinstance(value, date):
        return {"kind": "date", "value": value.isoformat()}
    if isinstance(value, DayRange):
        return {"kind": "days", "value": [day.isoformat() for day in value.days], "zone": value.zone.key}
    for kind in ("bool", "number", "text"):  # bool first: True is an int too
        if isinstance(value, PLAIN[kind]):
            return {"kind": kind, "value": value}
    raise ValueError(f"latches.{latch}: its value is {type(value).__name__} {value!r}; a latch remembers a "
                     "date, a datetime, a range of days, a text, a number, true/false or none")


def decode_value(data: Any, latch: str) -> Any:
    """The value ``encode_value`` stored."""
    try:
        kind = data["kind"]
        if kind == "none":
            return None
        if kind == "datetime":
            return parse_instant(data["value"], latch)
        if kind == "date":
            return date.fromisoformat(data["value"])
        if kind == "days":
            return DayRange(tuple(date.fromisoformat(day) for day in data["value"]), ZoneInfo(data["zone"]))
        if isinstance(data["value"], PLAIN[kind]):
            return data["value"]
    except (KeyError, TypeError, ValueError):
        pass
    raise ValueError(f"latches.{latch}: remembered value {data!r} is not one the worker stored")


def parse_instant(text: Any, latch: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text) if isinstance(text, str) else None
    except ValueError:
        moment = None
    if moment is None or moment.utcoffset() is None:
        raise ValueError(f"latches.{latch}: remembered time {text!r} is not an ISO date-time with its offset")
    return moment


SN_DATETIME = "%Y-%m-%d %H:%M:%S"  # how ServiceNow writes a date-time (UTC)


def kept_value(value: Any, latch: str) -> Any:
    """A latch's value as kept alone under its own memory key: a date-time as ServiceNow writes
    one (in UTC), anything else as ``encode_value`` stores it."""
    if isinstance(value, datetime) and value.utcoffset() is not None:
        return value.astimezone(UTC).strftime(SN_DATETIME)
    return encode_value(value, latch)


def read_kept_value(data: Any, latch: str) -> Any:
    """The value ``kept_value`` stored (a ServiceNow date-time text is read in UTC)."""
    if isinstance(data, str):
        try:
            return datetime.strptime(data, SN_DATETIME).replace(tzinfo=UTC)
        except ValueError:
            raise ValueError(f"latches.{latch}: remembered value {data!r} is not a date-time as ServiceNow writes one") from None
    return decode_value(data, latch)
