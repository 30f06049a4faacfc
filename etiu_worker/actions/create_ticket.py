"""Create a missing ETIU ticket, carrying the engagement's roadmap in its short description."""

from __future__ import annotations

from typing import Any, Mapping

from ..engagement.roadmap import format_short_description
from ..playbook.rules import Action, Rule
from .base import Plan, Write, compose_note, note_ref, render_inline, render_note, state_value, target_label


def plan_create_ticket(plan: Plan, rule: Rule, action: Action, context: Mapping[str, Any]) -> None:
    schema = plan.playbook.schema
    for target in action.targets:
        if plan.exists(target):
            continue
        if target in plan.created_earlier:
            _plan_repair(plan, rule, target, action)
            continue
        title = render_inline(plan, action.title, context, name=f"rule {rule.name}, create_ticket title")
        text = format_short_description(title, context["roadmap"], max_length=schema.short_description_max)
        ref = note_ref(plan.engagement.key, rule.name, target, "created")
        note = compose_note(render_note(plan, action, {**context, "target": target}), rule, ref)
        fields = {
            schema.ticket.engagement: plan.engagement.key,
            schema.ticket.code: getattr(schema.codes, target),
            schema.ticket.state: state_value(plan, target, action.state),
            schema.ticket.short_description: text,
        }
        plan.writes.append(Write(
            rule=rule.name, engagement=plan.engagement.key, kind="create_ticket", table=schema.ticket.table,
            sys_id="", number="", target=target_label(plan, target), fields=fields,
            note_field="work_notes", note=note, note_ref=ref, role=target,
        ))
        plan.created.add(target)
        plan.states[target] = action.state


def _plan_repair(plan: Plan, rule: Rule, target: str, action: Action) -> None:
    """A ticket this worker created is not among the engagement's records: its engagement key or
    code did not save. Write them again rather than create a second ticket."""
    schema = plan.playbook.schema
    fields = {
        schema.ticket.engagement: plan.engagement.key,
        schema.ticket.code: getattr(schema.codes, target),
        schema.ticket.state: state_value(plan, target, action.state),
    }
    plan.writes.append(Write(
        rule=rule.name, engagement=plan.engagement.key, kind="create_ticket", table=schema.ticket.table,
        sys_id=plan.created_earlier[target], number="", target=target_label(plan, target), fields=fields, role=target,
    ))
    plan.created.add(target)
    plan.states[target] = action.state
