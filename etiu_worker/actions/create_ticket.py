"""``create_ticket``: create a missing ticket of a code-identified role, carrying the engagement's
roadmap in its short description."""

from __future__ import annotations

from typing import Any, Mapping

from ..engagement.roadmap import format_short_description
from ..playbook.action_kinds import ActionKind, PackRecords, require
from ..playbook.rules import TICKET_ROLES, Action, Rule
from .base import Plan, Write, compose_note, note_ref, render_inline, render_note, state_value, target_label
from .set_state import SetStateFields, check_set_state


def plan_create_ticket(plan: Plan, rule: Rule, action: Action, context: Mapping[str, Any]) -> None:
    schema = plan.playbook.schema
    for target in action.targets:
        if plan.exists(target):
            continue
        if target in plan.created_earlier:
            _plan_repair(plan, rule, target, action)
            continue
        title = render_inline(plan, action.options.title, context, name=f"rule {rule.name}, create_ticket title")
        text = format_short_description(title, context["roadmap"], max_length=schema.short_description_max)
        ref = note_ref(plan.engagement.key, rule.name, target, "created")
        note = compose_note(plan, render_note(plan, action, {**context, "target": target}), rule, ref)
        fields = {
            schema.ticket.engagement: plan.engagement.key,
            schema.ticket.code: getattr(schema.codes, target),
            schema.ticket.state: state_value(plan, target, action.options.state),
            schema.ticket.short_description: text,
        }
        plan.writes.append(Write(
            rule=rule.name, engagement=plan.engagement.key, kind="create_ticket", table=schema.ticket.table,
            sys_id="", number="", target=target_label(plan, target), fields=fields,
            note_field="work_notes", note=note, note_ref=ref, role=target,
        ))
        plan.created.add(target)
        plan.states[target] = action.options.state


def _plan_repair(plan: Plan, rule: Rule, target: str, action: Action) -> None:
    """A ticket this worker created is not among the engagement's records: its engagement key or
    code did not save. Write them again rather than create a second ticket."""
    schema = plan.playbook.schema
    fields = {
        schema.ticket.engagement: plan.engagement.key,
        schema.ticket.code: getattr(schema.codes, target),
        schema.ticket.state: state_value(plan, target, action.options.state),
    }
    plan.writes.append(Write(
        rule=rule.name, engagement=plan.engagement.key, kind="create_ticket", table=schema.ticket.table,
        sys_id=plan.created_earlier[target], number="", target=target_label(plan, target), fields=fields, role=target,
    ))
    plan.created.add(target)
    plan.states[target] = action.options.state


class CreateTicketFields(SetStateFields):
    """``state``: the new ticket's state; ``title``: a template for its title."""

    title: str = ""

    def inline_templates(self) -> dict[str, str]:
        return {"title": self.title, **super().inline_templates()}


def check_create_ticket(fields: CreateTicketFields, targets: tuple[str, ...], records: PackRecords, where: str) -> None:
    check_set_state(fields, targets, records, where)
    require(all(target in TICKET_ROLES for target in targets), where,
            f"create_ticket creates tickets; target must be one of {', '.join(TICKET_ROLES)}")
    require(bool(fields.title), where, "create_ticket needs a title template for the new ticket")


CREATE_TICKET = ActionKind("create_ticket", CreateTicketFields, plan_create_ticket, check_create_ticket)
