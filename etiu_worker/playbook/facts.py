"""What the playbook needs to know about an engagement, computed once per cycle. No I/O.

Rules read these facts in their conditions and templates: the roadmap every carrier should carry
(and how people changed it, ``[checks.roadmap_sync]``), whether a record's planned window really
holds the expected instant (``[checks.planned_window]``). (Steps, named dates and latches are
the pack's own data: playbook/step_context.py, moments.py.) Each fact is a frozen object that can
say why it is what it is. The roadmap sync itself lives in roadmap_sync.py (its names are
importable from here too).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from ..engagement.records import Record
from .roadmap_sync import (  # noqa: F401 - re-exported: the roadmap sync is a fact like the others
    Carried, Carrier, Conflict, RoadmapSync, needs_history, reconcile_roadmap,
)


# --- planned window -------------------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    """The change request's planned window against the roadmap's prod upgrade."""

    applies: bool
    verified: bool = False
    problem: str = ""  # missing_start, missing_end, no_prod_upgrade, start_mismatch, end_mismatch
    hint: str = ""  # local_typed_as_utc, utc_typed_as_local
    expected_start: datetime | None = None
    expected_end: datetime | None = None
    actual_start: datetime | None = None
    actual_end: datetime | None = None
    zone: ZoneInfo | None = None
    hours: float = 3

    @property
    def local_start(self) -> datetime | None:
        return self.actual_start.astimezone(self.zone) if self.actual_start and self.zone else None

    @property
    def local_end(self) -> datetime | None:
        return self.actual_end.astimezone(self.zone) if self.actual_end and self.zone else None


def check_window(record: Record | None, start: str, end: str, applies: bool, expected: datetime | None,
                 zone: ZoneInfo, hours: float) -> Window:
    """The window of ``record``'s fields ``start`` and ``end`` (aliases) against the ``expected``
    start instant (None: the roadmap gives none), once ``applies``."""
    if record is None:
        return Window(applies=False)
    actual_start, actual_end = getattr(record, start), getattr(record, end)
    base = Window(applies=applies, actual_start=actual_start, actual_end=actual_end, zone=zone, hours=hours)
    if not base.applies:
        return base
    if expected is None:
        return replace(base, problem="no_prod_upgrade")
    base = replace(base, expected_start=expected, expected_end=expected + timedelta(hours=hours))
    if actual_start is None:
        return replace(base, problem="missing_start")
    if actual_start != expected:
        return replace(base, problem="start_mismatch", hint=_zone_hint(actual_start, expected, zone))
    if actual_end is None:
        return replace(base, problem="missing_end")
    if actual_end != base.expected_end:
        return replace(base, problem="end_mismatch")
    return replace(base, verified=True)


def _zone_hint(actual: datetime, expected: datetime, zone: ZoneInfo) -> str:
    offset = expected.astimezone(zone).utcoffset()
    if not offset:
        return ""
    if actual == expected + offset:
        return "local_typed_as_utc"
    if actual == expected - offset:
        return "utc_typed_as_local"
    return ""


@dataclass(frozen=True)
class Facts:
    """What the checks the pack declares found: the roadmap sync (None: not declared) over the
    records carrying the roadmap, the client's name, the engagement's day."""

    sync: RoadmapSync | None
    today: date
    memory: dict[str, Any] = field(default_factory=dict)
    carriers: tuple[Carrier, ...] = ()
    client: str = ""
