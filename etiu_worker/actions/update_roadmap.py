"""``update_roadmap``: write the agreed roadmap into every ticket whose short description does not
carry it."""

from __future__ import annotations

from typing import Any, Mapping

from ..errors import RoadmapError
from ..engagement.roadmap import format_short_description
from ..playbook.action_kinds import ActionFields, ActionKind
from ..playbook.rules import Action, Rule
from ..playbook.templates import render_file
from .base import Plan, Write, compose_note, flag_write, note_ref, render_note


def plan_update_roadmap(plan: Plan, rule: Rule, action: Action, context: Mapping[str, Any]) -> None:
    sync = context["sync"]
    if sync.conflicts:
        return  # the conflict is flagged; writing either side could undo a person's change
    schema = plan.playbook.schema
    stale = set(sync.stale)
    for ticket in plan.engagement.tickets:
        if ticket.number not in stale or ticket.parsed is None:
            continue
        try:
            text = format_short_description(
                ticket.parsed.title, sync.agreed, max_length=schema.short_description_max, extras=ticket.parsed.extras
            )
        except RoadmapError as error:
            _plan_overflow_flag(plan, rule, action, context, ticket, error)
            continue
        if text == ticket.short_description:
            continue
        changes = ticket.parsed.roadmap.changes(sync.agreed)
        ref = note_ref(plan.engagement.key, rule.name, ticket.number, text)
        posted = plan.already_posted(ticket.sys_id, ref)
        body = "" if posted else render_note(plan, action, {**context, "ticket": ticket, "changes": changes})
        plan.writes.append(Write(
            rule=rule.name, engagement=plan.engagement.key, kind="update_roadmap", table=ticket.table,
            sys_id=ticket.sys_id, number=ticket.number, target=ticket.code,
            fields={schema.ticket.short_description: text},
            before={schema.ticket.short_description: ticket.short_description},
            note_field="work_notes", note=compose_note(plan, body, rule, ref) if body else "", note_ref=ref,
        ))


def _plan_overflow_flag(plan: Plan, rule: Rule, action: Action, context: Mapping[str, Any], ticket, error: RoadmapError) -> None:
    """The dates cannot be written without dropping text a person wrote: ask the person."""
    key = f"overflow:{error.problem}"
    plan.raised_flags.add((rule.name, f"{ticket.code}:{key}"))
    ref = note_ref(plan.engagement.key, rule.name, ticket.number, key)
    if not action.options.overflow_template or plan.already_posted(ticket.sys_id, ref):
        return
    body = render_file(plan.playbook.env, action.options.overflow_template, {**context, "ticket": ticket, "error": error})
    plan.writes.append(flag_write(
        marks=plan.playbook.marks, rule=rule.name, engagement=plan.engagement.key, table=ticket.table, sys_id=ticket.sys_id,
        number=ticket.number, target=ticket.code, body=body, ref=ref, flag_key=f"{ticket.code}:{key}",
        kind="overflow",
    ))


class UpdateRoadmapFields(ActionFields):
    """``overflow_template``: the flag posted when the dates do not fit a ticket's title."""

    overflow_template: str = ""

    def template_files(self) -> dict[str, str]:
        return {**super().template_files(), "overflow_template": self.overflow_template}


UPDATE_ROADMAP = ActionKind("update_roadmap", UpdateRoadmapFields, plan_update_roadmap, needs_target=False)
