"""Durations written with their unit, and stepping an instant by one in an engagement's calendar.

A pack writes every duration with its unit, so that nobody has to guess what "2 days" meant:
``30m`` minutes and ``48h`` hours are elapsed time; ``3d`` calendar days and ``1w`` weeks keep the
wall-clock time of day in the engagement's zone across a daylight-saving change; ``2bd`` business
days count only the business days of the engagement's calendar, on its wall clock, the way
``BusinessCalendar.elapsed_business_days`` counts them, so that counting undoes stepping:
``frame.elapsed(start, frame.add(start, d), d.unit) == d.amount`` for a start on a business day.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from ..errors import RulesError
from ..engagement.workdays import BusinessCalendar

ONE_DAY = timedelta(days=1)
UTC = ZoneInfo("UTC")
UNITS = {"m": "minutes", "h": "hours", "d": "calendar days", "w": "weeks", "bd": "business days"}
_PATTERN = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*(bd|m|h|d|w)\s*$")
_HOW = "write a number and a unit, e.g. 2bd (business days), 48h (hours), 3d (calendar days), 1w (weeks), 30m (minutes)"


@dataclass(frozen=True)
class Duration:
    """An amount of one unit: minutes, hours, calendar days, weeks or business days."""

    amount: float
    unit: str

    def __str__(self) -> str:
        amount = int(self.amount) if float(self.amount).is_integer() else self.amount
        return f"{amount}{self.unit}"

    def __neg__(self) -> Duration:
        return Duration(-self.amount, self.unit)


def parse_duration(text: object, where: str = "duration") -> Duration:
    """``2bd``, ``48h``, ``3d``, ``1w``, ``30m`` (a leading ``-`` counts back); RulesError otherwise."""
    found = _PATTERN.match(str(text)) if isinstance(text, (str, int, float)) else None
    if not found:
        raise RulesError(f"{where}: {text!r} is not a duration: {_HOW}")
    return Duration(float(found.group(1)), found.group(2))


def as_duration(value: object, where: str = "duration") -> Duration:
    """A Duration as is, or one parsed from its text."""
    return value if isinstance(value, Duration) else parse_duration(value, where)


@dataclass(frozen=True)
class TimeFrame:
    """An engagement's calendar and time zone: what ``d`` and ``bd`` mean for it."""

    calendar: BusinessCalendar
    zone: ZoneInfo

    def add(self, moment: datetime, duration: Duration) -> datetime:
        """The instant ``duration`` after ``moment`` (before it for a negative amount)."""
        if duration.unit in ("m", "h"):
            minutes = duration.amount * (60 if duration.unit == "h" else 1)
            # In UTC: an aware datetime plus a timedelta in its own zone steps the wall clock.
            return (moment.astimezone(UTC) + timedelta(minutes=minutes)).astimezone(self.zone)
        wall = moment.astimezone(self.zone).replace(tzinfo=None)
        if duration.unit in ("d", "w"):
            days = duration.amount * (7 if duration.unit == "w" else 1)
            return self._instant(wall + timedelta(days=days))
        return self._instant(self._step_business(wall, duration.amount * ONE_DAY))

    def subtract(self, moment: datetime, duration: Duration) -> datetime:
        return self.add(moment, -duration)

    def elapsed(self, start: datetime, end: datetime, unit: str) -> float:
        """How many ``unit`` lie between two instants (negative when ``end`` is earlier)."""
        if end < start:
            return -self.elapsed(end, start, unit)
        if unit == "bd":
            return self.calendar.elapsed_business_days(start, end, self.zone)
        if unit in ("m", "h"):
            return (end.astimezone(UTC) - start.astimezone(UTC)) / timedelta(minutes=60 if unit == "h" else 1)
        wall = [moment.astimezone(self.zone).replace(tzinfo=None) for moment in (start, end)]
        return (wall[1] - wall[0]) / (ONE_DAY * (7 if unit == "w" else 1))

    def share(self, start: datetime, now: datetime, duration: Duration) -> float:
        """The share of ``duration`` that has passed from ``start`` to ``now`` (1.0 = all of it)."""
        if duration.amount == 0:
            return 1.0 if now >= start else 0.0
        return self.elapsed(start, now, duration.unit) / duration.amount

    def _step_business(self, wall: datetime, left: timedelta) -> datetime:
        """Walk the wall clock, counting only the hours of business days."""
        if left < timedelta():
            return self._step_business_back(wall, -left)
        # The calendar's is_business_day, inline: a step of weeks asks it of every day on the way.
        weekend, holidays = self.calendar.weekend, self.calendar.holidays
        while True:
            day = wall.date()
            end_of_day = datetime.combine(day, time()) + ONE_DAY
            if day.weekday() not in weekend and day not in holidays:
                if left <= end_of_day - wall:
                    return wall + left
                left -= end_of_day - wall
            wall = end_of_day

    def _step_business_back(self, wall: datetime, left: timedelta) -> datetime:
        while True:
            day = (wall - timedelta(microseconds=1)).date()  # midnight ends the day before
            start_of_day = datetime.combine(day, time())
            if self.calendar.is_business_day(day):
                if left <= wall - start_of_day:
                    return wall - left
                left -= wall - start_of_day
            wall = start_of_day

    def _instant(self, wall: datetime) -> datetime:
        """The instant a wall-clock reading names in the zone; a reading that does not exist
        (clocks springing forward) is read with the offset before the change, as ZoneInfo does."""
        return wall.replace(tzinfo=self.zone).astimezone(UTC).astimezone(self.zone)
