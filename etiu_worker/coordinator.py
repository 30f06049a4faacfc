"""The coordinator's report: one row per engagement, built from the local state only. No printing.

What a coordinator asks ("she can see that you have 3 tickets open without a Prod Upgrade open")
is answered from the state folder, never from the instance: the records of every engagement as
the worker last read them (``records.sqlite3``), the worker's own verified writes since, its
memory of each engagement and its open flags (the journal), and the playbook's calendar. Nothing
here builds a ServiceNow client or sends a request, so the report works while the instance is
down, and while a worker runs (SQLite readers do not block it).

The cache holds the records as read at the start of the last cycle, before that cycle's writes.
Those writes are in the journal, read back and verified: a ``done`` state change, roadmap update
or ticket creation newer than the cached version of its record is laid over it, so a report run
right after ``run --once`` shows ETIU03 closed, not the state the worker just changed.

Phases (``PHASES``), in playbook order; the first that applies, from the bottom up:

* ``needs attention``: records the playbook cannot trust (the sanity rule's problems: duplicate
  codes, unknown states, an unreadable roadmap, a bad date or time zone); the worker leaves the
  engagement alone until a person fixes them.
* ``done``: the Support Week ticket is closed, or every ticket is closed and the support week over.
* ``support week``: the prod upgrade is scheduled and its time has come (until ``done``).
* ``scheduled``: the prod upgrade is scheduled (planned window verified and planned-dates CTASK
  closed, or ETIU03 closed for it) and still ahead. A cancelled change request is not scheduled.
* ``client validation``: ETIU03 reached (open, in progress or closed) or ETIU02 closed, and the
  prod upgrade not scheduled: client process validation and prod upgrade scheduling.
* ``dev upgrade``: ETIU02 reached or ETIU01 closed.
* ``kickoff``: otherwise.

Views (``VIEWS``) answer the coordinators' standing questions; "this week" is Monday to Sunday
of today in each client's own time zone, as the playbook counts business days:

* ``no-prod-upgrade``: tickets open (Open or Work in Progress) but no prod upgrade scheduled.
* ``upgrades-this-week``: the roadmap's prod upgrade falls this week (scheduled or not).
* ``support-weeks-ending``: in the support week, and its last business day is this week or past.
* ``bp-not-held``: the prod upgrade is scheduled and ETIU04 (best practices) is not closed.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from .cache import CACHE_NAME, RecordCache
from .config import SchemaSettings, Settings
from .context import client_name, compute_facts
from .facts import Facts
from .journal import DONE, Flag, Journal, JournalEntry, Run
from .model import Engagement, EngagementBuilder, format_sn_datetime, parse_sn_datetime
from .people import USERS_TABLE, assignee_names, reference_value
from .roadmap import prod_upgrade_to_utc
from .rules import Playbook, load_playbook
from .sync import scopes

KICKOFF, DEV_UPGRADE, VALIDATION = "kickoff", "dev upgrade", "client validation"
SCHEDULED, SUPPORT_WEEK, DONE_PHASE, NEEDS_ATTENTION = "scheduled", "support week", "done", "needs attention"
# In playbook order: the order of a table sorted by phase, and of the ``--phase`` choices.
PHASES = (KICKOFF, DEV_UPGRADE, VALIDATION, SCHEDULED, SUPPORT_WEEK, DONE_PHASE, NEEDS_ATTENTION)
STAGES = PHASES[:-1]  # how far an engagement got, whatever its records' problems

# The ticket field that names the consultant: ServiceNow's assignee, a sys_user reference (its
# sys_id, as the cache holds it, shown by the name people.py read for it) or a user name.
CONSULTANT_FIELD = "assigned_to"
# Journal fields a write may carry besides its field changes: notes, not record fields.
NOTE_FIELDS = frozenset({"work_notes", "comments"})
# Writes whose after-values are field values of the record (notes and flags change no field).
FIELD_WRITES = frozenset({"set_state", "create_ticket", "update_roadmap"})
VALIDATION_RULE, VALIDATION_PARAM = "validation_length", "max_business_days"
WARNING_MARKER, PROBLEM_MARKER = "[ETIU WARNING]", "[ETIU FLAG]"


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


# --- building the rows (pure) ---------------------------------------------------------------


def build_rows(
    engagements: Iterable[Engagement],
    memories: Mapping[str, Mapping[str, Any]],
    flags: Iterable[Flag],
    playbook: Playbook,
    now: datetime,
    names: Mapping[str, str] | None = None,
) -> list[EngagementRow]:
    """One row per engagement, most pressing deadline first (overdue ones on top); ``names`` maps
    assignees' sys_ids to the names shown."""
    flags_by_key: dict[str, list[Flag]] = defaultdict(list)
    for flag in flags:
        flags_by_key[flag.engagement].append(flag)
    rows = [
        engagement_row(engagement, memories.get(engagement.key, {}), flags_by_key.get(engagement.key, []), playbook,
                       now, names or {})
        for engagement in engagements
    ]
    far = date.max
    return sorted(rows, key=lambda row: (row.next_deadline.day if row.next_deadline else far, row.key))


def engagement_row(
    engagement: Engagement, memory: Mapping[str, Any], flags: Sequence[Flag], playbook: Playbook, now: datetime,
    names: Mapping[str, str] | None = None,
) -> EngagementRow:
    problems = tuple(problem.message for problem in engagement.problems)
    ids = _consultants(engagement)
    shown = tuple(dict.fromkeys((names or {}).get(value, value) for value in ids))
    try:
        facts = compute_facts(engagement, playbook, memory, now)
    except Exception as error:  # noqa: BLE001 - like a cycle: one engagement's bad data must not stop the report
        why = problems + (f"could not be evaluated: {type(error).__name__}: {error}",)
        return _unreadable_row(engagement, flags, why, now, shown, ids)
    roadmap = _roadmap_dates(engagement, facts)
    schedule = facts.schedule
    scheduled = schedule.scheduled and not schedule.cancelled
    stage = _stage(engagement, facts, roadmap, scheduled, now)
    bp = engagement.ticket("best_practices")
    validation_due = _validation_due(engagement, facts, playbook)
    return EngagementRow(
        key=engagement.key,
        client=client_name(engagement),
        phase=NEEDS_ATTENTION if problems else stage,
        stage=stage,
        roadmap=roadmap,
        open_tickets=_open_codes(engagement, playbook.schema),
        scheduled=scheduled,
        cancelled=schedule.scheduled and schedule.cancelled,
        bp_held=bool(bp and bp.is_closed),
        bp_position=facts.support_week.bp_position,
        validation_due=validation_due,
        flags=_open_flags(flags),
        next_deadline=_next_deadline(engagement, roadmap, stage, validation_due, facts.today),
        consultant=shown[0] if shown else "",
        consultants=shown,
        today=facts.today,
        zone=engagement.zone.key,
        problems=problems,
        consultant_ids=ids,
    )


def _unreadable_row(engagement: Engagement, flags: Sequence[Flag], problems: tuple[str, ...], now: datetime,
                    consultants: tuple[str, ...], ids: tuple[str, ...]) -> EngagementRow:
    return EngagementRow(
        key=engagement.key, client=client_name(engagement), phase=NEEDS_ATTENTION, stage=KICKOFF,
        roadmap=RoadmapDates(), open_tickets=tuple(sorted(t.code for t in engagement.tickets if t.is_open)),
        scheduled=False, cancelled=False, bp_held=False, bp_position="", validation_due=None,
        flags=_open_flags(flags), next_deadline=None, consultant=consultants[0] if consultants else "",
        consultants=consultants, today=now.astimezone(engagement.zone).date(), zone=engagement.zone.key,
        problems=problems, consultant_ids=ids,
    )


def _roadmap_dates(engagement: Engagement, facts: Facts) -> RoadmapDates:
    agreed = facts.sync.agreed
    prod = agreed.prod_upgrade
    prod_utc = prod_upgrade_to_utc(prod, engagement.zone) if prod else None
    week = facts.support_week
    return RoadmapDates(
        kickoff=agreed.kickoff,
        dev_upgrade=agreed.dev_upgrade,
        prod_upgrade=_prod_text(prod_utc, engagement) if prod_utc else "",
        prod_upgrade_day=prod.local.date() if prod else None,
        prod_upgrade_utc=prod_utc,
        bp=agreed.bp,
        support_week=agreed.support_week,
        support_week_days=tuple(week.days),
        grace_days=tuple(week.grace_days),
    )


def _prod_text(prod_utc: datetime, engagement: Engagement) -> str:
    local = prod_utc.astimezone(engagement.zone)
    return f"{local:%Y-%m-%d %H:%M} {local.tzname()}"


def _stage(engagement: Engagement, facts: Facts, roadmap: RoadmapDates, scheduled: bool, now: datetime) -> str:
    support = engagement.ticket("support_week")
    tickets = engagement.tickets
    if (support and support.is_closed) or (
        tickets and all(ticket.is_closed for ticket in tickets) and facts.support_week.ended
    ):
        return DONE_PHASE
    if scheduled:
        upgrade = roadmap.prod_upgrade_utc
        return SUPPORT_WEEK if upgrade is not None and upgrade <= now else SCHEDULED
    # The furthest ticket reached (open, in progress or closed) says where the engagement is.
    for role, phase, after in (("validation", VALIDATION, VALIDATION), ("dev_upgrade", DEV_UPGRADE, VALIDATION),
                               ("kickoff", KICKOFF, DEV_UPGRADE)):
        ticket = engagement.ticket(role)
        if ticket is None or ticket.state in ("pending", "unknown"):
            continue
        return after if ticket.is_closed else phase
    return KICKOFF


def _validation_due(engagement: Engagement, facts: Facts, playbook: Playbook) -> date | None:
    """The last business day client validation may run to, per the validation_length rule."""
    started = facts.validation.started
    if not facts.validation.running or started is None or facts.schedule.scheduled:
        return None
    limit = next((rule.params.get(VALIDATION_PARAM) for rule in playbook.rules if rule.name == VALIDATION_RULE), None)
    if not isinstance(limit, (int, float)) or isinstance(limit, bool):
        return None
    return playbook.calendar.add_business_days(started.astimezone(engagement.zone).date(), math.ceil(limit))


def _next_deadline(engagement: Engagement, roadmap: RoadmapDates, stage: str, validation_due: date | None,
                   today: date) -> Deadline | None:
    """The earliest milestone not met yet: an overdue one sorts first, being earlier."""
    reached = STAGES.index(stage)
    bp = engagement.ticket("best_practices")
    candidates: list[tuple[str, date | None, str]] = []
    if reached <= STAGES.index(KICKOFF):
        candidates.append(("kickoff", roadmap.kickoff, ""))
    if reached <= STAGES.index(DEV_UPGRADE):
        candidates.append(("dev upgrade", roadmap.dev_upgrade, ""))
    candidates.append(("validation due", validation_due, ""))
    if reached <= STAGES.index(SCHEDULED):
        candidates.append(("prod upgrade", roadmap.prod_upgrade_day, roadmap.prod_upgrade))
    if reached < STAGES.index(DONE_PHASE) and not (bp and bp.is_closed):
        candidates.append(("BP session", roadmap.bp, ""))
    if stage == SUPPORT_WEEK:
        candidates.append(("support week ends", roadmap.support_week_last, ""))
    known = [(day, what, text) for what, day, text in candidates if day is not None]
    if not known:
        return None
    day, what, text = min(known, key=lambda item: item[0])
    return Deadline(what, day, text or day.isoformat(), day < today)


def _open_codes(engagement: Engagement, schema: SchemaSettings) -> tuple[str, ...]:
    order = list(schema.codes.model_dump().values())
    codes = {ticket.code for ticket in engagement.tickets if ticket.is_open}
    return tuple(sorted(codes, key=lambda code: (order.index(code) if code in order else len(order), code)))


def _consultants(engagement: Engagement) -> tuple[str, ...]:
    """Every assignee of the engagement's records, the one on most tickets first."""
    counts: Counter[str] = Counter()
    for ticket in engagement.tickets:
        counts[reference_value(ticket.raw.get(CONSULTANT_FIELD))] += 1
    if engagement.change is not None:
        counts.setdefault(reference_value(engagement.change.raw.get(CONSULTANT_FIELD)), 0)
    counts.pop("", None)
    return tuple(name for name, _ in sorted(counts.items(), key=lambda item: (-item[1], item[0])))


def _open_flags(flags: Sequence[Flag]) -> tuple[OpenFlag, ...]:
    """The engagement's open flags, one per problem: the same note posted on the change request and
    ETIU03 is one problem on two records."""
    grouped: dict[tuple[str, str], list[Flag]] = {}
    for flag in sorted(flags, key=lambda flag: (flag.opened_at, flag.id)):
        grouped.setdefault((flag.rule, flag.message), []).append(flag)
    result = []
    for (rule, message), same in grouped.items():
        severity = "warning" if message.startswith(WARNING_MARKER) else "problem"
        text = message.removeprefix(WARNING_MARKER).removeprefix(PROBLEM_MARKER).strip()
        numbers = tuple(dict.fromkeys(flag.number for flag in same if flag.number))
        result.append(OpenFlag(rule, severity, text, numbers, same[0].opened_at, _flag_kind(same[0].key)))
    return tuple(result)


def _flag_kind(key: str) -> str:
    """``change:cancelled`` → cancelled; ``<sys_id>:duplicate-code:ETIU02`` → duplicate-code: a flag's
    key is the record slot it was posted on, then the rule's own key."""
    rest = key.split(":", 1)[1] if ":" in key else key
    return rest.split("|", 1)[0].split(":", 1)[0]


# --- the worker's own writes over the cache (pure) ------------------------------------------


def apply_worker_writes(
    tables: Mapping[str, list[dict]], entries: Iterable[JournalEntry], watermarks: Mapping[str, str | None]
) -> dict[str, list[dict]]:
    """The cached records with the worker's verified field writes laid over them.

    A write applies to the cached version of its record when it is newer than that version's
    ``sys_updated_on`` (a person's later change wins). A ticket the worker created and the cache
    has not read yet is added, unless its table was read after the creation (then it was deleted).
    """
    merged = {table: {record.get("sys_id", ""): dict(record) for record in records} for table, records in tables.items()}
    for entry in sorted(entries, key=lambda entry: (entry.time, entry.id)):
        if entry.outcome != DONE or entry.kind not in FIELD_WRITES or entry.table not in merged or not entry.sys_id:
            continue
        fields = {name: value for name, value in entry.after.items() if name not in NOTE_FIELDS}
        stamp = format_sn_datetime(entry.time)
        record = merged[entry.table].get(entry.sys_id)
        if record is None:
            watermark = watermarks.get(entry.table)
            if entry.kind == "create_ticket" and (not watermark or watermark < stamp):
                merged[entry.table][entry.sys_id] = {
                    **fields, "sys_id": entry.sys_id, "number": entry.number,
                    "sys_created_on": stamp, "sys_updated_on": stamp,
                }
            continue
        if _older_than(record.get("sys_updated_on", ""), entry.time):
            record.update(fields)
            record["sys_updated_on"] = stamp
    return {table: list(records.values()) for table, records in merged.items()}


def _older_than(stamp: str, moment: datetime) -> bool:
    try:
        updated = parse_sn_datetime(stamp)
    except (TypeError, ValueError):
        return True
    return updated is None or updated < moment


# --- reading the state folder ---------------------------------------------------------------


class NoStateError(Exception):
    """The state folder holds no records yet: no cycle has run with it."""


def read_report(settings: Settings, now: datetime | None = None) -> CoordinatorReport:
    """The report from the state folder and the playbook; no ServiceNow client, no request."""
    at = now or datetime.now(timezone.utc)
    state_dir = Path(settings.state.dir)
    if not (state_dir / CACHE_NAME).is_file():
        raise NoStateError(f"{state_dir} holds no records yet")
    playbook = load_playbook(settings.rules.path, settings.templates.path, settings.schema)
    with RecordCache.open_read_only(state_dir) as cache, Journal.open_read_only(state_dir) as journal:
        names = [table for table, _ in scopes(playbook.schema)]
        tables = apply_worker_writes(
            {table: cache.records(table) for table in names},
            [entry for entry in journal.entries(outcome=DONE) if entry.kind in FIELD_WRITES],
            {table: cache.watermark(table) for table in names},
        )
        memories = journal.all_engagement_states()
        flags = journal.open_flags()
        runs = journal.runs(limit=1)
        people = assignee_names(cache.records(USERS_TABLE))
    engagements = EngagementBuilder(playbook.schema, settings.worker.default_timezone).build(
        *(tables[table] for table in names)
    )
    rows = build_rows(engagements, memories, flags, playbook, at, people)
    return CoordinatorReport(tuple(rows), at, runs[0] if runs else None, str(state_dir))
