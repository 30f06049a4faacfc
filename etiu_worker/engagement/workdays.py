"""The engagement's business calendar: which days count as working days, and counting them.

Everything is in the engagement's own time zone. Days are plain ``date`` values, already local;
instants (``elapsed_business_days``) are converted to the zone before anything is counted, so
a 23- or 25-hour day around a daylight-saving change still counts as one day.

Conventions, chosen so that counting undoes stepping:
``business_days_between(d, add_business_days(d, n)) == n`` for every ``d`` and every ``n``
but the one case below where ``n == 0`` rolls a non-business day forward.

* ``add_business_days(d, n)``: the n-th business day after ``d`` (before it when n < 0);
  ``d`` itself need not be a business day. ``n == 0`` is ``d`` when ``d`` is a business day,
  else the next business day (a deadline "0 business days from Saturday" is Monday).
* ``business_days_between(start, end)``: the business days in ``(start, end]`` when
  ``end >= start``; minus those in ``[end, start)`` when ``end < start``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

ONE_DAY = timedelta(days=1)
SATURDAY_AND_SUNDAY = frozenset({5, 6})


@dataclass(frozen=True)
class BusinessCalendar:
    """Working days: every day but the ``weekend`` weekdays (Monday is 0) and the ``holidays``."""

    holidays: frozenset[date] = field(default_factory=frozenset)
    weekend: frozenset[int] = SATURDAY_AND_SUNDAY

    def __post_init__(self) -> None:
        # Accept any iterable, but store frozensets so that the calendar stays hashable.
        object.__setattr__(self, "holidays", frozenset(self.holidays))
        object.__setattr__(self, "weekend", frozenset(self.weekend))
        for holiday in self.holidays:
            _require_day(holiday, "a holiday")
        if not self.weekend <= set(range(7)):
            raise ValueError(f"weekend days are weekday numbers 0 (Monday) to 6, got {sorted(self.weekend)}")
        if len(self.weekend) == 7:
            raise ValueError("a weekend of all seven days leaves no business day")

    def is_business_day(self, day: date) -> bool:
        _require_day(day, "day")
        return day.weekday() not in self.weekend and day not in self.holidays

    def add_business_days(self, day: date, n: int) -> date:
        """The n-th business day after ``day`` (before it when n < 0); see the module notes."""
        _require_day(day, "day")
        if n == 0:
            return day if self.is_business_day(day) else self.add_business_days(day, 1)
        step = ONE_DAY if n > 0 else -ONE_DAY
        remaining = abs(n)
        while remaining:
            day += step
            remaining -= self.is_business_day(day)
        return day

    def business_days_after(self, day: date, n: int) -> list[date]:
        """The next ``n`` business days strictly after ``day``, in order."""
        if n < 0:
            raise ValueError(f"cannot list {n} business days")
        days: list[date] = []
        while len(days) < n:
            day = self.add_business_days(day, 1)
            days.append(day)
        return days

    def business_days_between(self, start: date, end: date) -> int:
        """Business days in ``(start, end]``, or minus those in ``[end, start)`` when end < start."""
        _require_day(start, "start")
        _require_day(end, "end")
        if end < start:
            return -sum(self.is_business_day(end + ONE_DAY * k) for k in range((start - end).days))
        return sum(self.is_business_day(start + ONE_DAY * k) for k in range(1, (end - start).days + 1))

    def elapsed_business_days(self, start: datetime, now: datetime, zone: ZoneInfo) -> float:
        """How many business days of work have passed from ``start`` to ``now``, in ``zone``.

        Both instants are read on the client's wall clock; each business day between them
        contributes the share of its 24 wall-clock hours that lies between the two readings,
        other days nothing. Monday 15:00 to Wednesday 15:00 is 2.0; Friday 15:00 to Monday
        15:00 is 1.0 whatever the daylight-saving change that weekend; a start on a Saturday
        starts counting on Monday at 00:00. ``now`` before ``start`` (clock skew) is 0.0.
        Take ``math.floor`` of it for whole days. Counting wall-clock hours keeps a day a day
        across DST; the price is that in the repeated hour of a fall-back *on a business day*
        (none in the Americas, Europe or Australia) the count steps back by that hour.
        """
        first, last = _wall_clock(start, zone, "start"), _wall_clock(now, zone, "now")
        worked = timedelta()
        day = first.date()
        while day <= last.date():
            if self.is_business_day(day):
                midnight = datetime.combine(day, time())
                worked += max(timedelta(), min(last, midnight + ONE_DAY) - max(first, midnight))
            day += ONE_DAY
        return worked / ONE_DAY


def _require_day(day: date, name: str) -> None:
    # A datetime is a date too, but never equals one: holidays would silently stop matching.
    if isinstance(day, datetime) or not isinstance(day, date):
        raise TypeError(f"{name} must be a date, got {day!r}")


def _wall_clock(moment: datetime, zone: ZoneInfo, name: str) -> datetime:
    """The naive wall-clock reading of an aware instant in ``zone``."""
    if not isinstance(moment, datetime) or moment.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime (an instant), got {moment!r}")
    return moment.astimezone(zone).replace(tzinfo=None)
