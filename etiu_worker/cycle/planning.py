"""Plan one pack's writes for some engagements: evaluate every rule on each, and say what to
remember and when each engagement must be evaluated again (``wakes``, playbook/wakeups.py).

``plan_cycle`` decides and writes nothing; the engine (engine.py) sends what it planned.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import AbstractSet, Any, Callable

from ..actions import KINDS, Plan, Write
from ..engagement.engagements import Engagement
from ..engagement.history import History
from ..engagement.roadmap import Roadmap
from ..engagement.roadmap_memory import AGREED, CARRIED_FROM, CARRYING, remember_roadmap
from ..playbook.context import build_context, compute_facts, rule_context, with_latches
from ..playbook.evaluate import RuleResult, evaluate_conditions, evaluate_rule
from ..playbook.roadmap_sync import remembered_conflicts
from ..playbook.rules import Playbook
from ..playbook.wakeups import wake_up

log = logging.getLogger(__name__)


@dataclass
class CyclePlan:
    engagements: list[Engagement]
    results: list[RuleResult] = field(default_factory=list)
    writes: list[Write] = field(default_factory=list)
    memories: dict[str, dict[str, Any]] = field(default_factory=dict)
    latched: dict[str, dict[str, Any]] = field(default_factory=dict)  # memory as read, latches as now (saved first)
    raised_flags: dict[str, AbstractSet[tuple[str, str]]] = field(default_factory=dict)
    evaluated_rules: dict[str, AbstractSet[str]] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)  # engagement -> why it could not be planned
    packs: dict[str, tuple[str, ...]] = field(default_factory=dict)  # pack -> the engagements it took
    waiting: dict[str, list[tuple[str, str, str]]] = field(default_factory=dict)  # engagement -> (rule, record, why not created)
    wakes: dict[str, datetime] = field(default_factory=dict)  # engagement -> when the clock alone may change its outcome
    evaluated: list[str] = field(default_factory=list)  # the keys of the engagements evaluated this cycle
    total: int = 0  # the engagements found, evaluated or not (incremental evaluation skips the unchanged)


def plan_cycle(
    playbook: Playbook,
    engagements: list[Engagement],
    memories: dict[str, dict[str, Any]],
    at: datetime,
    already_posted: Callable[[str, str], bool],
    history: History | None = None,
    *,
    keep_results: bool = True,
) -> CyclePlan:
    """``history``: the tickets' short-description history by sys_id, read for the engagements
    ``needs_history`` names (None: the instance would not give it). Without ``keep_results`` the
    plan holds no rule's result: a cycle does not read them, and at 20,000 engagements they
    are tens of megabytes."""
    cycle = CyclePlan(engagements, evaluated=[engagement.key for engagement in engagements], total=len(engagements))
    for engagement in engagements:
        try:
            plan_engagement(playbook, engagement, memories.get(engagement.key, {}), at, already_posted, cycle, history,
                            keep_results)
        except Exception as error:  # noqa: BLE001 - one engagement's bad data must not stop the others
            log.error("engagement %s skipped: %s: %s", engagement.key, type(error).__name__, error,
                      extra={"engagement": engagement.key}, exc_info=log.isEnabledFor(logging.DEBUG))
            cycle.skipped[engagement.key] = f"{type(error).__name__}: {error}"
    return cycle


def plan_engagement(playbook, engagement, memory, at, already_posted, cycle: CyclePlan, history=None,
                    keep_results: bool = True) -> None:
    facts = compute_facts(engagement, playbook, memory, at, history)
    base = build_context(engagement, facts, playbook, at)
    plan = Plan(engagement, playbook, already_posted, created_earlier=memory.get("created", {}))
    evaluated: set[str] = set()
    for rule in playbook.rules:
        context = rule_context(base, rule)
        result = evaluate_rule(playbook, rule, engagement.key, engagement.is_broken, context)
        if keep_results:
            cycle.results.append(result)
        if result.skipped:
            continue
        evaluated.add(rule.name)
        if result.matched:
            for action in rule.actions:
                if _holds(playbook, action.when, context):
                    KINDS[action.kind].plan(plan, rule, action, context)
    cycle.writes += plan.writes
    cycle.raised_flags[engagement.key] = _shared(frozenset(plan.raised_flags))
    if plan.waiting:
        cycle.waiting[engagement.key] = plan.waiting
    for rule, record, why in plan.waiting:
        log.info("%s %s", record, why, extra={"engagement": engagement.key, "rule": rule})
    cycle.evaluated_rules[engagement.key] = _shared(frozenset(evaluated))
    cycle.memories[engagement.key] = with_latches(next_memory(engagement, memory, facts), base, playbook)
    latched = with_latches(memory, base, playbook)
    if latched != memory:
        cycle.latched[engagement.key] = latched
    cycle.wakes[engagement.key] = wake_up(playbook, engagement, base, at)


@functools.lru_cache(maxsize=1024)
def _shared(names: frozenset) -> frozenset:
    """One set object for equal sets: most engagements of a pack evaluate the same rules and raise
    no flag, and a plan keeps a set of each per engagement to the end of the cycle."""
    return names


def _holds(playbook, conditions, context) -> bool:
    results = evaluate_conditions(playbook, conditions, context)
    return len(results) == len(conditions) and all(result.value for result in results)


def next_memory(engagement: Engagement, memory: dict[str, Any], facts) -> dict[str, Any]:
    """What to remember: the roadmap once every ticket agrees on it (the pack's latches are
    remembered by ``with_latches``)."""
    updated = dict(memory)
    if facts.sync is None:
        return updated  # a pack without a roadmap remembers only its latches
    if facts.carriers and facts.sync.consistent and not engagement.is_broken:
        updated[AGREED] = remember_roadmap(facts.sync.agreed)
    elif not memory.get(AGREED) and facts.sync.carried and not facts.sync.conflicts and not engagement.is_broken:
        # First sight, and a person's change is being carried: remember the dates it replaces as
        # the last agreed roadmap. Should a carry not land on every ticket, the ticket left behind
        # is then carried to again next cycle, instead of its old date being read as the newest
        # change (its update stamp moves with any note the worker posts on it) and carried back.
        replaced = facts.sync.agreed.replace(**{carry.field: carry.old for carry in facts.sync.carried})
        updated[AGREED] = remember_roadmap(replaced)
    if not engagement.is_broken:
        updated = _remembered_carry(remembered_conflicts(updated, facts.sync), facts.sync)
    return updated


def _remembered_carry(memory: dict[str, Any], sync) -> dict[str, Any]:
    """The dates the worker is about to carry, so that next cycle a ticket holding one is read as
    the worker's write (a carry that did not reach every ticket goes on), and only a ticket
    holding a third date as a person's newer change; and the ticket each came from, which the
    carry's note goes on naming (the other tickets holding it are the worker's)."""
    rest = {key: value for key, value in memory.items() if key not in (CARRYING, CARRIED_FROM)}
    if sync.consistent or not sync.carried:
        return rest
    carrying = Roadmap(sync.agreed.labels, **{carry.field: carry.new for carry in sync.carried})
    sources = {carry.field: carry.source for carry in sync.carried}
    return {**rest, CARRYING: remember_roadmap(carrying), CARRIED_FROM: sources}
