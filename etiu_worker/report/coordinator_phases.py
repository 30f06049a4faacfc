"""One engagement's row of the coordinator's report: its phase, next deadline and open flags. Pure.

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
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from ..config import SchemaSettings
from ..playbook.context import client_name, compute_facts
from .coordinator_rows import (
    DEV_UPGRADE,
    DONE_PHASE,
    KICKOFF,
    NEEDS_ATTENTION,
    SCHEDULED,
    STAGES,
    SUPPORT_WEEK,
    VALIDATION,
    Deadline,
    EngagementRow,
    OpenFlag,
    RoadmapDates,
)
from ..playbook.facts import Facts
from ..state.journal import Flag
from ..engagement.model import Engagement
from .people import reference_value
from ..engagement.roadmap import prod_upgrade_to_utc
from ..playbook.rules import Playbook

# The ticket field that names the consultant: ServiceNow's assignee, a sys_user reference (its
# sys_id, as the cache holds it, shown by the name people.py read for it) or a user name.
CONSULTANT_FIELD = "assigned_to"
VALIDATION_RULE, VALIDATION_PARAM = "validation_length", "max_business_days"
WARNING_MARKER, PROBLEM_MARKER = "[ETIU WARNING]", "[ETIU FLAG]"


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
        # The marker is for people reading the note; the journal holds the severity itself.
        text = message.removeprefix(WARNING_MARKER).removeprefix(PROBLEM_MARKER).strip()
        numbers = tuple(dict.fromkeys(flag.number for flag in same if flag.number))
        first = same[0]
        result.append(OpenFlag(rule, first.severity, text, numbers, first.opened_at, first.kind))
    return tuple(result)
