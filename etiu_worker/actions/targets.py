"""The records an action writes on: its targets expanded, one ``Target`` per record.

A target naming a role is that role's one record. ``each:<role>`` is every record of a
many-role, each with ``record`` in the context its templates and ``where`` read; ``where``
(compiled at load as ``Action.record_filter``) keeps the records it holds for. Each record gets
its own ``slot``, the name its notes, flags and planned state are keyed by, so that two records
never share a note reference and a second cycle finds each one's notes again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from ..playbook.action_targets import each_role
from ..playbook.evaluate import evaluate_conditions
from ..playbook.rules import Action
from .base import Plan


@dataclass(frozen=True)
class Target:
    """One record an action writes on, and what its templates see."""

    name: str  # the target as written: "change", or "each:tasks" for each record of tasks
    role: str
    slot: str  # what notes, flags and planned states are keyed by: "change", "tasks:L2"
    record: Any  # the record, or None when the role has none (yet)
    context: Mapping[str, Any]
    label: str = ""  # how notes name the record, for an each: target ("tasks L2")

    @property
    def each(self) -> bool:
        return self.name != self.role


def expand(plan: Plan, action: Action, context: Mapping[str, Any]) -> list[Target]:
    """Every record ``action`` acts on, in target order; an each: target's records by number."""
    targets: list[Target] = []
    for name in action.targets:
        role = each_role(name)
        if role is None:
            # "problems" is not a role: the note planner finds the record each problem is about.
            record = None if name == "problems" else plan.record(name)
            targets.append(Target(name, name, name, record, context))
        else:
            targets += [target for target in _each(plan, name, role, context) if _kept(plan, action, target)]
    return targets


def _each(plan: Plan, name: str, role: str, context: Mapping[str, Any]) -> list[Target]:
    return [
        Target(name, role, record_slot(role, record), record, {**context, "record": record}, record_label(role, record))
        for record in plan.engagement.each(role)
    ]


def record_slot(role: str, record: Any) -> str:
    """``tasks:L2`` for a step's record, ``tasks:<sys_id>`` for another: stable from cycle to cycle."""
    return f"{role}:{record.step or record.sys_id}"


def record_label(role: str, record: Any) -> str:
    return f"{role} {record.step}" if record.step else record.number or role


def _kept(plan: Plan, action: Action, target: Target) -> bool:
    """Whether the record meets the action's ``where`` (a condition that cannot be evaluated does not)."""
    if action.record_filter is None:
        return True
    results = evaluate_conditions(plan.playbook, (action.record_filter,), target.context)
    return bool(results) and results[0].value


def planned_state(plan: Plan, target: Target) -> str | None:
    """The state the record will be in once this cycle's earlier writes are sent."""
    if target.slot in plan.states:
        return plan.states[target.slot]
    if not target.each:
        return plan.state_of(target.name)  # a record created this cycle has its planned state
    return target.record.state


def state_write(plan: Plan, target: Target, state: str) -> tuple[str, str, str]:
    """(table, state field, stored value) that puts an each: target's record in ``state``."""
    declared = plan.playbook.declarations.records[target.role]
    return declared.table, declared.state_field, declared.states[state]
