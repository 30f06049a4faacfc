"""Post a work note, a customer-visible comment or a flag, once per distinct event."""

from __future__ import annotations

from typing import Any, Mapping

from ..playbook.rules import Action, Rule
from .base import (FLAG_MARKERS, ClockCheck, Plan, Write, compose_note, flag_kind, note_ref, render_inline, render_note,
                   target_label)

FIELD_OF_KIND = {"work_note": "work_notes", "comment": "comments", "flag": "work_notes"}


def plan_note(plan: Plan, rule: Rule, action: Action, context: Mapping[str, Any]) -> None:
    for target in action.targets:
        if target == "problems":
            for problem in plan.engagement.problems:
                _plan_one(plan, rule, action, {**context, "problem": problem}, _problem_record(plan, problem), target)
            continue
        record = plan.record(target)
        if record is None:
            continue  # nothing to write on; a ticket created this cycle gets its notes next cycle
        _plan_one(plan, rule, action, context, record, target)


def _problem_record(plan: Plan, problem) -> Any:
    """The record a problem is about, or the change request (or first ticket) when it has none."""
    records = list(plan.engagement.tickets) + [plan.engagement.change] + list(plan.engagement.ctasks)
    found = next((r for r in records if r is not None and r.sys_id == problem.sys_id and problem.sys_id), None)
    return found or plan.engagement.change or (plan.engagement.tickets[0] if plan.engagement.tickets else None)


def _plan_one(plan: Plan, rule: Rule, action: Action, context: Mapping[str, Any], record: Any, target: str) -> None:
    if record is None:
        return
    key = render_inline(plan, action.key, context, name=f"rule {rule.name}, key") if action.key else ""
    # A problem's note is keyed by the record it is about, not by a role.
    slot = record.sys_id if target == "problems" else target
    ref = note_ref(plan.engagement.key, rule.name, slot, key)
    if action.kind == "flag":
        plan.raised_flags.add((rule.name, f"{slot}:{key}"))
    if plan.already_posted(record.sys_id, ref):
        return
    body = render_note(plan, action, {**context, "target": target})
    if action.kind == "flag":
        body = f"{FLAG_MARKERS[action.severity]} {body}"
    plan.writes.append(Write(
        rule=rule.name, engagement=plan.engagement.key, kind=action.kind, table=record.table,
        sys_id=record.sys_id, number=record.number, target=_label(plan, target, record),
        note_field=FIELD_OF_KIND[action.kind], note=compose_note(body, rule, ref), note_ref=ref,
        flag_key=f"{slot}:{key}" if action.kind == "flag" else "",
        flag_message=body.splitlines()[0][:300] if action.kind == "flag" else "",
        flag_severity=action.severity if action.kind == "flag" else "",
        flag_kind=flag_kind(key) if action.kind == "flag" else "",
        clock_check=_clock_check(plan, rule, action, context),
    ))


def _clock_check(plan: Plan, rule: Rule, action: Action, context: Mapping[str, Any]) -> ClockCheck | None:
    if not action.check_clock_minutes:
        return None
    return ClockCheck(action.check_clock_minutes, action.clock_flag_template, rule, plan.playbook.env, context)


def _label(plan: Plan, target: str, record: Any) -> str:
    if target in ("change", "ctask") or target in plan.playbook.schema.codes.model_dump():
        return target_label(plan, target)
    return getattr(record, "code", "") or "change request"
