"""The read-only view of one engagement that rule conditions and templates see."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any, Mapping

from . import facts as f
from ..errors import RoadmapError
from ..engagement.history import History
from ..engagement.model import ROLES, Engagement
from ..engagement.roadmap import Roadmap, prod_upgrade_to_utc, ShortDescription
from ..engagement.roadmap_memory import AGREED, CARRYING, remembered_roadmap
from .durations import TimeFrame
from .rules import Playbook, Rule
from .step_context import engagement_steps

def baseline_roadmap(memory: Mapping[str, Any], key: str = AGREED) -> Roadmap | None:
    """The remembered roadmap (``AGREED``: the last agreed one; ``CARRYING``: the dates the worker
    itself was carrying to the tickets when last it wrote them), stored as data or as old text."""
    return remembered_roadmap(memory, key)


def needs_history(engagement: Engagement, memory: Mapping[str, Any]) -> bool:
    """Whether this engagement's facts need its tickets' history: first sight, and a date that
    differs between tickets (and is not a conflict already remembered). An engagement with records
    the playbook cannot trust is left alone, so it needs none."""
    return not engagement.is_broken and f.needs_history(engagement.tickets, baseline_roadmap(memory), memory.get("conflicts"))


def compute_facts(engagement: Engagement, playbook: Playbook, memory: Mapping[str, Any], now: datetime,
                  history: History | None = None) -> f.Facts:
    """The engagement's facts; ``history`` is its tickets' short-description history (None: unknown)."""
    synced = f.reconcile_roadmap(engagement.tickets, baseline_roadmap(memory), history, memory.get("conflicts"),
                                 baseline_roadmap(memory, CARRYING))
    sync = _without_unplaceable_prod_upgrade(synced, engagement)
    window = f.check_window(engagement, sync.agreed, playbook.planned_window_hours)
    today = now.astimezone(engagement.zone).date()
    return f.Facts(
        sync=sync,
        window=window,
        today=today,
        memory=dict(memory),
    )


def _without_unplaceable_prod_upgrade(sync: f.RoadmapSync, engagement: Engagement) -> f.RoadmapSync:
    """The agreed roadmap, less a prod upgrade with no instant in the client's zone.

    Tickets carrying one are flagged by the model (which sets their roadmap aside), but the
    agreed value can still be a remembered one, e.g. after the client's zone was changed:
    dropping it here keeps every fact computable, so the engagement is flagged, not skipped.
    """
    prod = sync.agreed.prod_upgrade
    if prod is None:
        return sync
    try:
        prod_upgrade_to_utc(prod, engagement.zone)
    except RoadmapError:
        return replace(sync, agreed=sync.agreed.replace(prod_upgrade=None))
    return sync


def build_context(engagement: Engagement, facts: f.Facts, playbook: Playbook, now: datetime) -> dict[str, Any]:
    """Every name a condition or template reads; the pack's dates and latches are computed last,
    as they read the rest, the steps included (a pack that declares none has no ``steps``,
    ``dates`` or ``latches``: a rule naming one fails at load as any unknown name does)."""
    context = _records_and_facts(engagement, facts, playbook, now)
    if playbook.steps.groups:
        frame = TimeFrame(playbook.calendar, engagement.zone)
        context["steps"] = engagement_steps(playbook.steps, playbook.declarations, engagement, playbook.env,
                                            context, frame, now)
    moments = playbook.moments
    if not moments.order:
        return context
    values = moments.evaluate(context, moments.remembered(facts.memory), now)
    return {**context, "dates": values.dates, "latches": values.latches}


def with_latches(memory: dict[str, Any], context: Mapping[str, Any], playbook: Playbook) -> dict[str, Any]:
    """``memory`` with what the context's latches remember (unchanged when the pack has none)."""
    return playbook.moments.remember(memory, context.get("latches") or {})


def _records_and_facts(engagement: Engagement, facts: f.Facts, playbook: Playbook, now: datetime) -> dict[str, Any]:
    roadmap = facts.sync.agreed
    prod_utc = prod_upgrade_to_utc(roadmap.prod_upgrade, engagement.zone) if roadmap.prod_upgrade else None
    return {
        "engagement": engagement,
        "key": engagement.key,
        "tickets": {role: engagement.ticket(role) for role in ROLES},
        "change": engagement.change,
        "ctask": engagement.planned_dates_ctask,
        "problems": engagement.problems,
        "roadmap": roadmap,
        "prod_upgrade_utc": prod_utc,
        "prod_upgrade_local": prod_utc.astimezone(engagement.zone) if prod_utc else None,
        "client": client_name(engagement),
        "sync": facts.sync,
        "window": facts.window,
        "calendar": playbook.calendar,
        "zone": engagement.zone,
        "now": now,
        "today": facts.today,
        "codes": playbook.schema.codes,
        "contacts": playbook.contacts,
    }


def rule_context(base: Mapping[str, Any], rule: Rule) -> dict[str, Any]:
    return {**base, "params": rule.params, "rule": rule}


def client_name(engagement: Engagement) -> str:
    """The client's name as people wrote it: the part of a ticket title after the last ' - '."""
    # ETIU01 first: it is written first and its title is the one people read.
    for ticket in sorted(engagement.tickets, key=lambda t: (t.role != "kickoff", t.number)):
        parsed: ShortDescription | None = ticket.parsed
        if parsed and " - " in parsed.title:
            return parsed.title.rsplit(" - ", 1)[1].strip()
    return engagement.key
