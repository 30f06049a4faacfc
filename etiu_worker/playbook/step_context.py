"""The engagement's steps as conditions read them (``steps``): each step's record found by its
group's role, what its state means by the role's declared meanings, and where its clock starts.

A group written as one step has its role's one record; a step of a group with items has the
record of its role whose step field holds its id (of two, the newer: the duplicate is a problem
of the engagement's). A ``start_from`` naming a field,
``role.field``, is that field of the role's record; ``paused_when`` and a duration's amount are
evaluated over the rest of the context.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Mapping

from ..engagement.roles import Declarations
from ..errors import RulesError
from ..spelling import did_you_mean
from .durations import TimeFrame
from .step_model import STARTS, Step, StepPlan
from .step_states import StepFacts, StepRecord, StepsState
from .step_status import derive_steps
from .templates import compiled_expression

CLOSED = ("done", "skipped", "canceled")


def engagement_steps(plan: StepPlan, declarations: Declarations, engagement: Any, env: Any,
                     context: Mapping[str, Any], frame: TimeFrame, now: datetime) -> StepsState:
    """Every step of ``plan`` derived for ``engagement``; ``context`` is what ``paused_when`` and
    amounts read."""
    return derive_steps(plan, step_facts(plan, declarations, engagement, env, context), frame, now)


def step_facts(plan: StepPlan, declarations: Declarations, engagement: Any, env: Any,
               context: Mapping[str, Any]) -> dict[str, StepFacts]:
    """What ``derive_steps`` reads of the engagement, by step key; a wake-up derives the steps
    again from them at later moments (playbook/projections.py): they change with the clock only
    where a ``paused_when`` compares ``now``, at an instant the wake-up already wakes at."""
    return {step.key: _facts(step, plan, declarations, engagement, env, context) for step in plan.steps.values()}


def _facts(step: Step, plan: StepPlan, declarations: Declarations, engagement: Any, env: Any,
           context: Mapping[str, Any]) -> StepFacts:
    group = plan.groups[step.group]
    record = engagement.one(group.role) if group.single else engagement.by_step(group.role).get(step.id)
    return StepFacts(
        record=step_record(record, declarations.records[group.role].meaning if record is not None else {}),
        start=start_instant(step.start_from, engagement),
        paused=bool(_evaluate(env, step.paused_when, context)) if step.paused_when else False,
        amount=_evaluate(env, step.duration.amount_from, context) if step.duration and step.duration.amount_from else None,
    )


def step_record(record: Any, meanings: Mapping[str, str]) -> StepRecord:
    """What the step derivation reads of a record: its meaning, when it started (its
    ``work_start``, when it has one) and when it was done, once closed: its ``closed_at`` when its
    role declares that field and it is set, else its last update (which a later edit moves)."""
    if record is None:
        return StepRecord()
    meaning = meanings.get(record.state, "pending")
    done_at = (getattr(record, "closed_at", None) or record.updated_on) if meaning in CLOSED else None
    return StepRecord(meaning, getattr(record, "work_start", None), done_at)


def start_instant(start_from: str, engagement: Any) -> datetime | None:
    """The instant a ``start_from`` of ``role.field`` names, or None (not set, or after/started)."""
    if start_from in STARTS:
        return None
    role, field = start_from.split(".", 1)
    return getattr(engagement.one(role), field, None)


def _evaluate(env: Any, expression: str, context: Mapping[str, Any]) -> Any:
    return compiled_expression(env, expression)(**context)


def check_step_records(plan: StepPlan, declarations: Declarations, where: str) -> None:
    """Refuse a group whose role is not declared, or a ``start_from`` naming a role or field that
    is not, naming the valid ones."""
    for name, group in plan.groups.items():
        if group.role not in declarations.records:
            raise RulesError(f"{where}: steps.{name}.role: {group.role!r} is not a declared role"
                             f"{did_you_mean(group.role, declarations.records)}; the roles are: "
                             f"{', '.join(declarations.records)}")
    for step in plan.steps.values():
        if step.start_from not in STARTS:
            _check_field(step, declarations, where)


def _check_field(step: Step, declarations: Declarations, where: str) -> None:
    role, _, field = step.start_from.partition(".")
    known = declarations.records.get(role)
    fields = list(known.fields) if known else []
    if known is None or field not in fields:
        raise RulesError(f"{where}: steps.{step.key}.start_from: {step.start_from!r} names no declared field; write "
                         f"after, started or role.field with a field of [records.<role>].fields"
                         f"{did_you_mean(step.start_from, [f'{r}.{f}' for r, d in declarations.records.items() for f in d.fields])}")
