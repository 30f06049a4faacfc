"""What a coordinator's report holds, and the views and filters that pick its rows. Pure, no I/O.

A row (``EngagementRow``) is one engagement: its phase, roadmap, open tickets, flags and next
deadline; ``coordinator_phases`` builds it, ``coordinator`` reads the state folder for it.

Views (``VIEWS``) answer the coordinators' standing questions; "this week" is Monday to Sunday
of today in each client's own time zone, as the playbook counts business days:

* ``no-prod-upgrade``: tickets open (Open or Work in Progress) but no prod upgrade scheduled.
* ``upgrades-this-week``: the roadmap's prod upgrade falls this week (scheduled or not).
* ``support-weeks-ending``: in the support week, and its last business day is this week or past.
* ``bp-not-held``: the prod upgrade is scheduled and ETIU04 (best practices) is not closed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from ..state.journal import Run

KICKOFF, DEV_UPGRADE, VALIDATION = "kickoff", "dev upgrade", "client validation"
SCHEDULED, SUPPORT_WEEK, DONE_PHASE, NEEDS_ATTENTION = "scheduled", "support week", "done", "needs attention"
# In playbook order: the order of a table sorted by phase, and of the ``--phase`` choices.
PHASES = (KICKOFF, DEV_UPGRADE, VALIDATION, SCHEDULED, SUPPORT_WEEK, DONE_PHASE, NEEDS_ATTENTION)
STAGES = PHASES[:-1]  # how far an engagement got, whatever its records' problems


# --- rows -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RoadmapDates:
    """The engagement's agreed roadmap, and the support week the playbook derives from it."""

    kickoff: date | None = None
    dev_upgrade: date | None = None
    prod_upgrade: str = ""  # as written: the client's local time and zone label, e.g. 2026-11-24 18:00 EST
    prod_upgrade_day: date | None = None  # its local day
    prod_upgrade_utc: datetime | None = None
    bp: date | None = None
    support_week: date | None = None  # as written on the roadmap: its first day
    support_week_days: tuple[date, ...] = ()  # the business days after the prod upgrade
    grace_days: tuple[date, ...] = ()  # the days a BP session is still allowed, with a warning

    @property
    def support_week_first(self) -> date | None:
        return self.support_week_days[0] if self.support_week_days else None

    @property
    def support_week_last(self) -> date | None:
        return self.support_week_days[-1] if self.support_week_days else None


@dataclass(frozen=True)
class OpenFlag:
    """One open problem on the engagement, as the worker flagged it (on one or more records)."""

    rule: str
    severity: str  # "problem" or "warning"
    message: str  # without its [ETIU FLAG] / [ETIU WARNING] marker
    numbers: tuple[str, ...]  # the records it was posted on
    opened_at: datetime
    kind: str = ""  # what the rule's flag key names first: cancelled, moved, grace, overdue, duplicate-code…


@dataclass(frozen=True)
class Deadline:
    what: str  # kickoff, dev upgrade, validation due, prod upgrade, BP session, support week ends
    day: date  # in the client's time zone
    text: str  # the date as people read it (the prod upgrade with its time and zone)
    overdue: bool


@dataclass(frozen=True)
class EngagementRow:
    key: str
    client: str
    phase: str  # one of PHASES
    stage: str  # how far it got (one of STAGES): the phase, but for "needs attention"
    roadmap: RoadmapDates
    open_tickets: tuple[str, ...]  # codes of the tickets in Open or Work in Progress, in playbook order
    scheduled: bool  # the prod upgrade is scheduled (and its change request not cancelled)
    cancelled: bool  # it was scheduled, and the change request has since been cancelled
    bp_held: bool  # ETIU04 is closed (a session skipped with approval is Closed Skipped)
    bp_position: str  # inside, grace, outside, missing, or "" while the prod upgrade is unknown
    validation_due: date | None  # the last day of client validation, while it runs
    flags: tuple[OpenFlag, ...]
    next_deadline: Deadline | None
    consultant: str  # the assignee on most of its tickets: their name where known, else as the records hold it
    consultants: tuple[str, ...]  # every assignee on its tickets and change request, likewise
    today: date  # today in the client's time zone
    zone: str
    problems: tuple[str, ...]  # why it needs attention
    consultant_ids: tuple[str, ...] = ()  # the assignees as the records hold them (sys_ids), in that order

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


@dataclass(frozen=True)
class CoordinatorReport:
    rows: tuple[EngagementRow, ...]
    generated_at: datetime  # the moment dates were evaluated at
    last_run: Run | None  # the worker's last run: the records are as it left them
    state_dir: str = ""


# --- views and filters (pure) ---------------------------------------------------------------


@dataclass(frozen=True)
class View:
    name: str
    title: str
    description: str
    holds: Callable[[EngagementRow], bool]


def _no_prod_upgrade(row: EngagementRow) -> bool:
    return bool(row.open_tickets) and not row.scheduled and row.stage != DONE_PHASE


def _upgrade_this_week(row: EngagementRow) -> bool:
    monday, sunday = row.week
    day = row.roadmap.prod_upgrade_day
    return day is not None and monday <= day <= sunday and row.stage != DONE_PHASE


def _support_week_ending(row: EngagementRow) -> bool:
    last = row.roadmap.support_week_last
    return row.stage == SUPPORT_WEEK and last is not None and last <= row.week[1]


def _bp_not_held(row: EngagementRow) -> bool:
    return row.scheduled and row.stage in (SCHEDULED, SUPPORT_WEEK) and not row.bp_held


VIEWS: dict[str, View] = {
    view.name: view
    for view in (
        View("no-prod-upgrade", "Tickets open, no prod upgrade scheduled",
             "Engagements with ETIU tickets open (Open or Work in Progress) and no prod upgrade scheduled.",
             _no_prod_upgrade),
        View("upgrades-this-week", "Prod upgrades this week",
             "The roadmap's prod upgrade falls this week, Monday to Sunday in the client's time zone; scheduled or not.",
             _upgrade_this_week),
        View("support-weeks-ending", "Support weeks ending",
             "In the support week, and its last business day is this week or already past with tickets still open.",
             _support_week_ending),
        View("bp-not-held", "Best practices sessions not yet held",
             "The prod upgrade is scheduled and the best practices ticket (ETIU04) is not closed.",
             _bp_not_held),
    )
}


def view_rows(rows: Iterable[EngagementRow], view: str) -> list[EngagementRow]:
    """The rows a view shows, in the given order; ``KeyError`` names an unknown view."""
    holds = VIEWS[view].holds
    return [row for row in rows if holds(row)]


def normalise_phase(text: str) -> str:
    """A phase as typed on a command line (``dev-upgrade``, ``Dev_Upgrade``) as one of PHASES."""
    phase = " ".join(text.replace("-", " ").replace("_", " ").split()).casefold()
    if phase not in PHASES:
        raise ValueError(f"{text!r} is not a phase; phases are {', '.join(p.replace(' ', '-') for p in PHASES)}")
    return phase


def filter_rows(
    rows: Iterable[EngagementRow],
    *,
    consultant: str | None = None,
    phase: str | None = None,
    flagged: bool = False,
) -> list[EngagementRow]:
    """The rows of one consultant (part of an assignee's name, or the assignee as the records hold
    it; any case), one phase, or with open flags; filters given together must all hold."""
    wanted = consultant.strip().casefold() if consultant else None
    wanted_phase = normalise_phase(phase) if phase else None
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
           flagged: bool = False, view: str | None = None) -> list[EngagementRow]:
    rows = filter_rows(report_rows, consultant=consultant, phase=phase, flagged=flagged)
    return view_rows(rows, view) if view else rows


def phase_counts(rows: Iterable[EngagementRow]) -> dict[str, int]:
    counts = Counter(row.phase for row in rows)
    return {phase: counts[phase] for phase in PHASES if counts[phase]}
