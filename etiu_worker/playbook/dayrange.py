"""A run of business days (``bd_range(day, 5)``), read in the engagement's zone.

A condition asks whether a moment falls inside it (``roadmap.bp in dates.window``), and reads its
``first`` and ``last`` day, or the instants it opens and closes at (local midnight).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

ONE_DAY = timedelta(days=1)


@dataclass(frozen=True)
class DayRange:
    """Whole local days, in order; a datetime is inside when its local day is one of them."""

    days: tuple[date, ...]
    zone: ZoneInfo

    def __post_init__(self) -> None:
        if not self.days:
            raise ValueError("a range of days needs at least one day")

    @property
    def first(self) -> date:
        return self.days[0]

    @property
    def last(self) -> date:
        return self.days[-1]

    @property
    def start(self) -> datetime:
        """The instant the range opens: its first day at local midnight."""
        return local_midnight(self.first, self.zone)

    @property
    def end(self) -> datetime:
        """The instant the range closes: the day after its last, at local midnight."""
        return local_midnight(self.last + ONE_DAY, self.zone)

    def contains(self, moment: date | datetime | None) -> bool:
        """Whether a date, or a datetime's local day, is one of the range's days (none: false)."""
        if moment is None:
            return False
        return local_date(moment, self.zone) in self.days

    def __contains__(self, moment: object) -> bool:
        return self.contains(moment)  # type: ignore[arg-type]

    def __len__(self) -> int:
        return len(self.days)

    def __iter__(self):
        return iter(self.days)

    def __str__(self) -> str:
        return f"{self.first.isoformat()} to {self.last.isoformat()}"


def local_date(moment: date | datetime, zone: ZoneInfo) -> date:
    """A date as it is; a datetime's day on the wall clock of ``zone``."""
    if isinstance(moment, datetime):
        if moment.utcoffset() is None:
            raise ValueError(f"{moment.isoformat()} has no time zone: read it as an instant first")
        return moment.astimezone(zone).date()
    if isinstance(moment, date):
        return moment
    raise TypeError(f"expected a date or a datetime, got {type(moment).__name__} {moment!r}")


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    return wall_instant(datetime.combine(day, time()), zone)


def next_midnight(at: datetime, zone: ZoneInfo) -> datetime:
    """The first local midnight after ``at`` in ``zone``."""
    return local_midnight(at.astimezone(zone).date() + ONE_DAY, zone)


def wall_instant(wall: datetime, zone: ZoneInfo) -> datetime:
    """The instant a wall-clock reading names in ``zone``.

    A reading that does not exist (clocks spring forward over it) moves forward by the gap:
    02:30 on the morning New York springs forward is 03:30 EDT. A reading that exists twice
    (clocks fall back) is the first of the two, the earlier instant, so a cut-off is never late.
    Both follow from reading it with the offset in force before the change, as ZoneInfo does.
    """
    return wall.replace(tzinfo=zone, fold=0).astimezone(ZoneInfo("UTC")).astimezone(zone)
