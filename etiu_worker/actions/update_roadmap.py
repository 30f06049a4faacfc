"""``update_roadmap``: write the agreed roadmap into every record carrying the roadmap
(``[checks.roadmap_sync]``) whose text does not hold it."""

from __future__ import annotations

from typing import Any, Mapping

from ..errors import RoadmapError
from ..engagement.roadmap import format_short_description
from ..playbook.action_kinds import ActionFields, ActionKind
from ..playbook.roadmap_check import carriers
from ..playbook.rules import Action, Rule
from ..playbook.templates import render_file
from .base import Plan, Write, compose_note, flag_write, note_ref, render_note


def plan_update_roadmap(plan: Plan, rule: Rule, action: Action, context: Mapping[str, Any]) -> None:
    sync = context["sync"]
    if sync.conflicts:
        return  # the conflict is flagged; writing either side could undo a person's change
    check = plan.playbook.checks.roadmap_sync
    assert check is not None  # the context has a sync only then
    stale = set(sync.stale)
    for carrier in carriers(plan.engagement, check):
        ticket = carrier.record
        if ticket.number not in stale or carrier.parsed is None:
            continue
        try:
            text = format_short_description(
                carrier.parsed.title, sync.agreed, max_length=check.fit, extras=carrier.parsed.extras
            )
        except RoadmapError as error:
            _plan_overflow_flag(plan, rule, action, context, ticket, error)
            continue
        if text == carrier.text:
            continue
        changes = carrier.parsed.roadmap.changes(sync.agreed)
        ref = note_ref(plan.engagement.key, rule.name, ticket.number, text)
        posted = plan.already_posted(ticket.sys_id, ref)
        body = "" if posted else render_note(plan, action, {**context, "ticket": ticket, "changes": changes})
        field = plan.playbook.declarations.records[ticket.role].fields[check.field].field
        plan.writes.append(Write(
            rule=rule.name, engagement=plan.engagement.key, kind="update_roadmap", table=ticket.table,
            sys_id=ticket.sys_id, number=ticket.number, target=_label(ticket),
            fields={field: text}, before={field: carrier.text},
            note_field="work_notes", note=compose_note(plan, body, rule, ref) if body else "", note_ref=ref,
        ))


def _label(record) -> str:
    return record.code or record.role


def _plan_overflow_flag(plan: Plan, rule: Rule, action: Action, context: Mapping[str, Any], ticket, error: RoadmapError) -> None:
    """The dates cannot be written without dropping text a person wrote: ask the person."""
    key = f"overflow:{error.problem}"
    plan.raised_flags.add((rule.name, f"{_label(ticket)}:{key}"))
    ref = note_ref(plan.engagement.key, rule.name, ticket.number, key)
    if not action.options.overflow_template or plan.already_posted(ticket.sys_id, ref):
        return
    body = render_file(plan.playbook.env, action.options.overflow_template, {**context, "ticket": ticket, "error": error})
    plan.writes.append(flag_write(
        marks=plan.playbook.marks, rule=rule.name, engagement=plan.engagement.key, table=ticket.table, sys_id=ticket.sys_id,
        number=ticket.number, target=_label(ticket), body=body, ref=ref, flag_key=f"{_label(ticket)}:{key}",
        kind="overflow",
    ))


class UpdateRoadmapFields(ActionFields):
    """``overflow_template``: the flag posted when the dates do not fit a ticket's title."""

    overflow_template: str = ""

    def template_files(self) -> dict[str, str]:
        return {**super().template_files(), "overflow_template": self.overflow_template}


UPDATE_ROADMAP = ActionKind("update_roadmap", UpdateRoadmapFields, plan_update_roadmap, needs_target=False)
