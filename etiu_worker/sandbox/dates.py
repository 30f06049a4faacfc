"""Date-time text as ServiceNow stores it: UTC, ``YYYY-MM-DD HH:MM:SS``."""

from __future__ import annotations

import re
from functools import lru_cache
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

FORMAT = "%Y-%m-%d %H:%M:%S"

# pysnow sends dateGenerate("2020-01-01 00:00:00"); the UI and scripts send ('2020-01-01','00:00:00').
_DATE_GENERATE = re.compile(
    r"""^javascript:\s*gs\.dateGenerate\(\s*['"]([^'"]+)['"]\s*(?:,\s*['"]([^'"]*)['"]\s*)?\)\s*;?$"""
)
_TIME_WORDS = {"start": "00:00:00", "end": "23:59:59", "": "00:00:00"}


def utc_now() -> datetime:
    return datetime.now(UTC)


def stamp(moment: datetime) -> str:
    """The stored text of an aware (or naive UTC) datetime."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime(FORMAT)


def parse(text: str) -> datetime | None:
    """A stored value as an aware UTC datetime, or None if it is not a date-time."""
    try:
        return datetime.strptime(text, FORMAT).replace(tzinfo=UTC)
    except ValueError:
        return None


@lru_cache(maxsize=65536)  # a page of display values repeats the same few thousand stamps
def to_local(text: str, zone: ZoneInfo) -> str:
    """The display value of a stored UTC date-time; other text (garbage included) as is."""
    moment = parse(text)
    return moment.astimezone(zone).strftime(FORMAT) if moment else text


def from_local(text: str, zone: ZoneInfo) -> str:
    """A local date-time typed by the user, as stored UTC text; other text as is."""
    try:
        local = datetime.strptime(text, FORMAT).replace(tzinfo=zone)
    except ValueError:
        return text
    return stamp(local)


def query_value(text: str, zone: ZoneInfo, date_time: bool = False) -> str:
    """A query operand as stored text: ``gs.dateGenerate``, and a plain date-time compared with a
    date-time field (``date_time``), are in the user's time zone, so they are turned into UTC."""
    match = _DATE_GENERATE.match(text.strip())
    if not match:
        return from_local(text, zone) if date_time and zone.key != "UTC" else text
    day, time = match.group(1).strip(), (match.group(2) or "").strip()
    if " " not in day:
        day = f"{day} {_TIME_WORDS.get(time, time)}"
    return from_local(day, zone)
