"""``create_ticket``: create a missing ticket of a code-identified role, carrying the engagement's
roadmap in its short description."""

from __future__ import annotations

from typing import Any, Mapping

from ..engagement.roadmap import Roadmap, format_short_description
from ..engagement.roadmap_labels import RoadmapLabels
from ..playbook.action_kinds import ActionKind, PackRecords, require
from ..playbook.rules import Action, Rule
from .base import Plan, Write, compose_note, note_ref, render_inline, render_note, state_value, target_label
from .set_state import SetStateFields, check_set_state


def plan_create_ticket(plan: Plan, rule: Rule, action: Action, context: Mapping[str, Any]) -> None:
    for target in action.targets:
        if plan.exists(target):
            continue
        if target in plan.created_earlier:
            _plan_repair(plan, rule, target, action)
            continue
        title = render_inline(plan, action.options.title, context, name=f"rule {rule.name}, create_ticket title")
        text_field, fit = _title_field(plan, target)
        text = format_short_description(title, context.get("roadmap") or _no_roadmap(plan), max_length=fit)
        ref = note_ref(plan.engagement.key, rule.name, target, "created")
        note = compose_note(plan, render_note(plan, action, {**context, "target": target}), rule, ref)
        fields = {**_identity_fields(plan, target, action), text_field: text}
        plan.writes.append(Write(
            rule=rule.name, engagement=plan.engagement.key, kind="create_ticket", table=_table(plan, target),
            sys_id="", number="", target=target_label(plan, target), fields=fields,
            note_field="work_notes", note=note, note_ref=ref, role=target,
        ))
        plan.created.add(target)
        plan.states[target] = action.options.state


def _no_roadmap(plan: Plan) -> Roadmap:
    """An empty roadmap of the pack's labels: a pack without the roadmap check writes the title only."""
    check = plan.playbook.checks.roadmap_sync
    return Roadmap(check.roadmap_labels if check is not None else RoadmapLabels(()))


def _plan_repair(plan: Plan, rule: Rule, target: str, action: Action) -> None:
    """A ticket this worker created is not among the engagement's records: its engagement key or
    code did not save. Write them again rather than create a second ticket."""
    plan.writes.append(Write(
        rule=rule.name, engagement=plan.engagement.key, kind="create_ticket", table=_table(plan, target),
        sys_id=plan.created_earlier[target], number="", target=target_label(plan, target),
        fields=_identity_fields(plan, target, action), role=target,
    ))
    plan.created.add(target)
    plan.states[target] = action.options.state


def _identity_fields(plan: Plan, target: str, action: Action) -> dict[str, str]:
    """The fields that make a new record one of ``target``'s role: the engagement key, the code, the state."""
    declarations = plan.playbook.declarations
    role = plan.role(target)
    declared = declarations.records[role]
    assert declared.identity is not None  # check_create_ticket: a code-identified role
    return {
        str(declarations.link_of(role).field): plan.engagement.key,
        declared.identity.field: str(declared.identity.value),
        declared.state_field: state_value(plan, target, action.options.state),
    }


def _title_field(plan: Plan, target: str) -> tuple[str, int]:
    """The field the new record's title (with the roadmap) is written to, and how long it may be."""
    check = plan.playbook.checks.roadmap_sync
    alias = check.field if check else "title"
    return plan.playbook.declarations.records[plan.role(target)].fields[alias].field, check.fit if check else 160


def _table(plan: Plan, target: str) -> str:
    return plan.playbook.declarations.records[plan.role(target)].table


class CreateTicketFields(SetStateFields):
    """``state``: the new ticket's state; ``title``: a template for its title."""

    title: str = ""

    def inline_templates(self) -> dict[str, str]:
        return {"title": self.title, **super().inline_templates()}


def check_create_ticket(fields: CreateTicketFields, targets: tuple[str, ...], records: PackRecords, where: str) -> None:
    check_set_state(fields, targets, records, where)
    creatable = _creatable(records)
    require(all(target in creatable for target in targets), where,
            f"create_ticket creates tickets; target must be one of {', '.join(creatable)}")
    require(bool(fields.title), where, "create_ticket needs a title template for the new ticket")


CREATE_TICKET = ActionKind("create_ticket", CreateTicketFields, plan_create_ticket, check_create_ticket)


def _creatable(records: PackRecords) -> list[str]:
    """The roles a ticket can be created in: identified by a code, joined by the engagement key,
    with a title field."""
    found = []
    for role, declared in records.declarations.records.items():
        identity = declared.identity
        if identity is not None and identity.kind == "code" and records.declarations.link_of(role).kind == "key" \
                and "title" in declared.fields:
            found.append(role)
    return found
