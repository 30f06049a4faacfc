"""The read-only view of one engagement that rule conditions and templates see."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from types import MappingProxyType
from typing import Any, Mapping

from . import facts as f
from ..errors import RoadmapError
from ..engagement.engagements import Engagement
from ..engagement.grouping import build_engagements
from ..engagement.history import History
from ..engagement.roadmap import Roadmap, prod_upgrade_to_utc
from ..engagement.roadmap_labels import LOCAL_DATETIME, RoadmapLabels
from ..engagement.roadmap_memory import AGREED, CARRIED_FROM, CARRYING, remembered_roadmap
from .context_names import EngagementView, group_records
from .durations import TimeFrame
from .roadmap_check import carriers, client_name, with_roadmap_problems
from .rules import Playbook, Rule
from .scope import Scope, evaluate_in
from .step_context import engagement_steps
from .templates import compiled_expression


def baseline_roadmap(memory: Mapping[str, Any], labels: RoadmapLabels, key: str = AGREED) -> Roadmap | None:
    """The remembered roadmap (``AGREED``: the last agreed one; ``CARRYING``: the dates the worker
    itself was carrying to the carriers when last it wrote them), stored as data or as old text."""
    return remembered_roadmap(memory, key, labels)


def pack_engagements(playbook: Playbook, tables: Mapping[str, Any], default_zone: str) -> list[Engagement]:
    """The engagements in raw records by table, grouped as the pack's roles declare, each with the
    problems of its roadmap (``[checks.roadmap_sync]``) noted before any rule reads it."""
    built = build_engagements(playbook.declarations, tables, default_zone)
    return [with_roadmap_problems(engagement, playbook.checks.roadmap_sync) for engagement in built]


def needs_history(engagement: Engagement, memory: Mapping[str, Any], playbook: Playbook) -> bool:
    """Whether this engagement's facts need its carriers' history: first sight, and a date that
    differs between carriers (and is not a conflict already remembered). An engagement with records
    the playbook cannot trust is left alone, so it needs none; nor does a pack without a roadmap."""
    check = playbook.checks.roadmap_sync
    if check is None or engagement.is_broken:
        return False
    return f.needs_history(carriers(engagement, check), baseline_roadmap(memory, check.roadmap_labels),
                           memory.get("conflicts"))


def compute_facts(engagement: Engagement, playbook: Playbook, memory: Mapping[str, Any], now: datetime,
                  history: History | None = None) -> f.Facts:
    """The engagement's facts; ``history`` is its carriers' text history (None: unknown)."""
    check = playbook.checks.roadmap_sync
    found = carriers(engagement, check)
    sync = None
    if check is not None:
        labels = check.roadmap_labels
        synced = f.reconcile_roadmap(found, baseline_roadmap(memory, labels), history, memory.get("conflicts"),
                                     baseline_roadmap(memory, labels, CARRYING), labels, memory.get(CARRIED_FROM))
        sync = _without_unplaceable_local_times(synced, engagement)
    name = playbook.declarations.engagement.name
    client = client_name(engagement, found, name.after_last if name else None, name.role if name else None)
    return f.Facts(sync=sync, today=now.astimezone(engagement.zone).date(), memory=dict(memory),
                   carriers=found, client=client)


def _without_unplaceable_local_times(sync: f.RoadmapSync, engagement: Engagement) -> f.RoadmapSync:
    """The agreed roadmap, less a local time (the prod upgrade) with no instant in the client's zone.

    Carriers holding one are flagged by the roadmap check (which sets their roadmap aside), but
    the agreed value can still be a remembered one, e.g. after the client's zone was changed:
    dropping it here keeps every fact computable, so the engagement is flagged, not skipped.
    """
    for name, local in _local_times(sync.agreed):
        try:
            prod_upgrade_to_utc(local, engagement.zone)
        except RoadmapError:
            sync = replace(sync, agreed=sync.agreed.replace(**{name: None}))
    return sync


def _local_times(roadmap: Roadmap) -> list[tuple[str, Any]]:
    """The roadmap's set local times (its ``local_datetime`` labels), by name."""
    names = roadmap.labels.names_of_type(LOCAL_DATETIME)
    return [(name, getattr(roadmap, name)) for name in names if getattr(roadmap, name) is not None]


# What build_context adds to records_context, and reads it for: a condition that names none of
# them can be evaluated on records_context alone (building them is most of a context's cost).
COMPUTED_LAST = frozenset({"window", "steps", "dates", "latches"})


def records_context(engagement: Engagement, facts: f.Facts, playbook: Playbook, now: datetime) -> dict[str, Any]:
    """The context but for the names of ``COMPUTED_LAST``: records, roadmap, client, clock."""
    return _records_and_facts(engagement, facts, playbook, now)


def build_context(engagement: Engagement, facts: f.Facts, playbook: Playbook, now: datetime) -> dict[str, Any]:
    """Every name a condition or template reads; the pack's dates and latches are computed last,
    as they read the rest, the steps included (a pack that declares none has no ``steps``,
    ``dates`` or ``latches``: a rule naming one fails at load as any unknown name does)."""
    context = _records_and_facts(engagement, facts, playbook, now)
    if playbook.checks.planned_window is not None:
        context["window"] = _window(engagement, playbook, context)
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
    context = {
        **group_records(engagement, playbook.context_names),
        "engagement": EngagementView(engagement, playbook.context_names),
        "key": engagement.key,
        "records": MappingProxyType(dict(engagement.chosen)),
        "found": MappingProxyType(dict(engagement.found)),
        "problems": engagement.problems,
        "client": facts.client,
        "calendar": playbook.calendar,
        "zone": engagement.zone,
        "now": now,
        "today": facts.today,
        "codes": playbook.codes,
        "contacts": playbook.contacts,
        "numbers": playbook.numbers,
    }
    if facts.sync is not None:
        context |= {"roadmap": facts.sync.agreed, "sync": facts.sync, **_instants(facts.sync.agreed, engagement.zone)}
    return context


def _instants(roadmap: Roadmap, zone: Any) -> dict[str, Any]:
    """``NAME_utc`` and ``NAME_local`` for each local time of the roadmap (``prod_upgrade_utc``):
    the instant, and the same on the client's wall clock; none while not set."""
    found: dict[str, Any] = {}
    for name in roadmap.labels.names_of_type(LOCAL_DATETIME):
        local = getattr(roadmap, name)
        instant = prod_upgrade_to_utc(local, zone) if local is not None else None
        found |= {f"{name}_utc": instant, f"{name}_local": instant.astimezone(zone) if instant else None}
    return found


def _window(engagement: Engagement, playbook: Playbook, context: Mapping[str, Any]) -> f.Window:
    check = playbook.checks.planned_window
    assert check is not None  # build_context asks only then
    record = engagement.one(check.role)
    if record is None:
        return f.Window(applies=False)
    scope = Scope(context)
    applies = bool(_evaluate(playbook, check.applies, scope))
    expected = _evaluate(playbook, check.expected, scope)
    return f.check_window(record, check.start, check.end, applies, expected, engagement.zone, check.hours)


def _evaluate(playbook: Playbook, source: str, context: Mapping[str, Any]) -> Any:
    return evaluate_in(compiled_expression(playbook.env, source), context)


def rule_context(base: Mapping[str, Any], rule: Rule) -> dict[str, Any]:
    return {**base, "params": rule.params, "rule": rule}
