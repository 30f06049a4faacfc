"""What the demo engagements of the upgrade packs share: who works on them, how their times are
written, and what each seeding function returns.

Every demo engagement is dated relative to ``today`` (a date, the instance's day in UTC): a
moment in the past is put on an earlier day, so that it is past whatever the clock says today.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from . import dates
from .demo import business_days
from .store import Store

__all__ = ["DemoEngagement", "business_days", "early", "ensure_users", "local", "stamp", "task_fields"]

PACK_USERS = (  # user_name, name, time_zone
    ("pete.s", "Pete S.", "America/New_York"),
    ("dana.k", "Dana K.", "America/Chicago"),
    ("lee.w", "Lee W.", "Europe/London"),
    ("rosa.m", "Rosa M.", "America/Chicago"),
    ("sam.t", "Sam T.", "Europe/London"),
)


@dataclass(frozen=True)
class DemoEngagement:
    """One demo engagement as seeded: its pack, the story it tells, its key and its client."""

    pack: str
    story: str
    key: str
    client: str


def ensure_users(store: Store) -> dict[str, str]:
    """The packs' demo users by user name (sys_id), created when the instance lacks them."""
    users = {}
    for name, full, zone in PACK_USERS:
        found = store.query("sys_user", f"user_name={name}")
        record = found[0] if found else store.insert("sys_user", {"user_name": name, "name": full, "time_zone": zone})
        users[name] = record["sys_id"]
    return users


def local(day: date, clock: str, zone: str) -> datetime:
    """The instant of ``clock`` (HH:MM) on ``day`` on the wall clock of ``zone``."""
    return datetime.combine(day, time.fromisoformat(clock), ZoneInfo(zone))


def stamp(moment: datetime | None) -> str:
    """A moment as ServiceNow stores it (UTC text); none as an empty field."""
    return dates.stamp(moment) if moment is not None else ""


def early(day: date, minutes: int = 0) -> datetime:
    """05:00 UTC on ``day`` plus ``minutes``: on a day before today, past in every zone."""
    return datetime.combine(day, time(5), ZoneInfo("UTC")) + timedelta(minutes=minutes)


def task_fields(state: str, done: datetime | None, started: datetime | None, created: datetime) -> dict[str, str]:
    """A task's state and times: it was last updated when it was done, else when it started,
    else when it was created (a done task's update time is when it was done)."""
    touched = done or started or created
    return {"state": state, "work_start": stamp(started), "work_end": stamp(done),
            "sys_created_on": stamp(created), "sys_updated_on": stamp(touched)}
