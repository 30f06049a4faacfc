"""What a coordinator's report holds, and the views and filters that pick its rows. Pure, no I/O.

A row (``EngagementRow``) is one engagement as its pack's report data shows it: its phase, the
pack's columns, open flags, next deadline, the views it is in and what its timeline draws;
``coordinator_phases`` builds it, ``coordinator`` reads the state folder for it.

``PHASES`` and ``VIEWS`` are the shipped pack's, for callers that name phases and views before
any pack is loaded (the command line's choices); a report carries its own pack's.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from ..state.journal import Run


# --- rows -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    """One of the pack's columns of a row, as people read it."""

    label: str
    text: str
    short: str = ""  # its name in a one-line record
    dated: bool = False  # a date (or none): a one-line record lists it with the other dates, when set


@dataclass(frozen=True)
class OpenFlag:
    """One open problem on the engagement, as the worker flagged it (on one or more records)."""

    rule: str
    severity: str  # "problem" or "warning"
    message: str  # without the pack's flag marker
    numbers: tuple[str, ...]  # the records it was posted on
    opened_at: datetime
    kind: str = ""  # what the rule's flag key names first: cancelled, moved, grace, overdue, duplicate-code…
    label: str = ""  # what the timeline calls it (the pack's report.timeline.flags), else the rule's name
    day: date | None = None  # the date it concerns, else the day it was opened


@dataclass(frozen=True)
class Deadline:
    """The row's next deadline: the earliest of the pack's deadlines not met yet."""

    what: str  # the deadline's label in the pack
    day: date  # in the client's time zone
    text: str  # the date as people read it (a datetime with its time and zone)
    overdue: bool


@dataclass(frozen=True)
class Mark:
    """A date the timeline marks with a shape."""

    day: date
    label: str  # beside the shape: its name and short date
    title: str  # on hover: its name, whole date and state
    shape: str
    style: str


@dataclass(frozen=True)
class Span:
    """A band on the timeline: between two dates' middles, or over whole days."""

    first: date
    last: date
    label: str
    colour: str
    light: bool = False
    whole_days: bool = False


@dataclass(frozen=True)
class EngagementRow:
    """One engagement as its pack's report data shows it."""

    key: str
    client: str
    phase: str  # one of the pack's phases
    stage: str  # how far it got: the phase, but for an aside phase (needs attention)
    cells: tuple[Cell, ...]  # the pack's table columns
    fields: Mapping[str, Any]  # the pack's JSON/CSV fields
    flags: tuple[OpenFlag, ...]
    next_deadline: Deadline | None
    consultant: str  # the assignee on most of its records: their name where known, else as the records hold it
    consultants: tuple[str, ...]  # every assignee on its records, likewise
    today: date  # today in the client's time zone
    zone: str
    problems: tuple[str, ...]  # why it needs attention
    consultant_ids: tuple[str, ...] = ()  # the assignees as the records hold them (sys_ids), in that order
    views: frozenset[str] = frozenset()  # the pack's views it is in
    marks: tuple[Mark, ...] = ()
    spans: tuple[Span, ...] = ()
    span_days: tuple[date, ...] = ()  # the days the timeline must show

    @property
    def flag_count(self) -> int:
        return len(self.flags)

    @property
    def flagged(self) -> bool:
        return bool(self.flags)

    @property
    def week(self) -> tuple[date, date]:
        """Monday and Sunday of the client's current week."""
        monday = self.today - timedelta(days=self.today.weekday())
        return monday, monday + timedelta(days=6)

    def cell(self, label: str) -> str:
        return next((cell.text for cell in self.cells if cell.label == label), "")


@dataclass(frozen=True)
class CoordinatorReport:
    """Every engagement's row, when the dates were evaluated, and the pack's report data."""

    rows: tuple[EngagementRow, ...]
    generated_at: datetime  # the moment dates were evaluated at
    last_run: Run | None  # the worker's last run: the records are as it left them
    state_dir: str = ""
    pack: Any = field(default=None, compare=False)  # the pack's report data (playbook/report_pack.ReportPack)

    @property
    def phases(self) -> tuple[str, ...]:
        return self.pack.phase_names if self.pack else phases_of(self.rows)


# --- views and filters (pure) ---------------------------------------------------------------


def phases_of(rows: Iterable[EngagementRow]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(row.phase for row in rows))


def view_rows(rows: Iterable[EngagementRow], view: str) -> list[EngagementRow]:
    """The rows a view shows, in the given order."""
    return [row for row in rows if view in row.views]


def normalise_phase(text: str, phases: Sequence[str] | None = None) -> str:
    """A phase as typed on a command line (``dev-upgrade``, ``Dev_Upgrade``) as one of ``phases``
    (by default the shipped pack's)."""
    known = tuple(phases) if phases is not None else shipped_phases()
    phase = " ".join(text.replace("-", " ").replace("_", " ").split()).casefold()
    if phase not in known:
        raise ValueError(f"{text!r} is not a phase; phases are {', '.join(p.replace(' ', '-') for p in known)}")
    return phase


def filter_rows(
    rows: Iterable[EngagementRow],
    *,
    consultant: str | None = None,
    phase: str | None = None,
    flagged: bool = False,
    phases: Sequence[str] | None = None,
) -> list[EngagementRow]:
    """The rows of one consultant (part of an assignee's name, or the assignee as the records hold
    it; any case), one phase, or with open flags; filters given together must all hold."""
    wanted = consultant.strip().casefold() if consultant else None
    wanted_phase = normalise_phase(phase, phases) if phase else None
    return [
        row for row in rows
        if (wanted is None or _assigned_to(row, wanted))
        and (wanted_phase is None or row.phase == wanted_phase)
        and (not flagged or row.flagged)
    ]


def _assigned_to(row: EngagementRow, wanted: str) -> bool:
    return (any(wanted in name.casefold() for name in row.consultants)
            or wanted in (value.casefold() for value in row.consultant_ids))


def select(report_rows: Iterable[EngagementRow], *, consultant: str | None = None, phase: str | None = None,
           flagged: bool = False, view: str | None = None, phases: Sequence[str] | None = None) -> list[EngagementRow]:
    rows = filter_rows(report_rows, consultant=consultant, phase=phase, flagged=flagged, phases=phases)
    return view_rows(rows, view) if view else rows


def phase_counts(rows: Iterable[EngagementRow], phases: Sequence[str] | None = None) -> dict[str, int]:
    """How many rows are in each phase, in the pack's order (by default the order they come in)."""
    shown = list(rows)
    counts = Counter(row.phase for row in shown)
    order = list(phases) if phases is not None else list(phases_of(shown))
    order += [phase for phase in counts if phase not in order]
    return {phase: counts[phase] for phase in order if counts[phase]}


# --- the shipped pack's names, for callers without a pack ------------------------------------


def shipped_phases() -> tuple[str, ...]:
    from .shipped import shipped_report

    return shipped_report().phase_names


def __getattr__(name: str) -> Any:
    """``PHASES`` and ``VIEWS``: the shipped pack's phases and views (name to view), read on first use."""
    from .shipped import shipped_report

    if name == "PHASES":
        return shipped_report().phase_names
    if name == "VIEWS":
        return shipped_report().views_by_name
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
