"""``set_field``: write one of a role's writable fields (``[records.<role>] writable``), with a note
saying why; a field that already holds the value needs nothing."""

from __future__ import annotations

from typing import Any, Mapping

from ..engagement.values import plain
from ..playbook.action_kinds import ActionFields, ActionKind, PackRecords, require
from ..spelling import did_you_mean
from ..playbook.rules import Action, Rule
from ..playbook.action_targets import role_of
from .base import Plan, Write, compose_note, note_ref, render_inline, render_note, target_label
from .targets import Target, expand


class SetFieldFields(ActionFields):
    """``field``: the alias of a writable field of the target role; ``value``: a template for it."""

    field: str = ""
    value: str = ""

    def inline_templates(self) -> dict[str, str]:
        return {"value": self.value, **super().inline_templates()}


def check_set_field(fields: SetFieldFields, targets: tuple[str, ...], records: PackRecords, where: str) -> None:
    require(bool(fields.value), where, "set_field needs value, a template for the value to write")
    for target in map(role_of, targets):
        role = records.declarations.records.get(target)
        require(role is not None, where, f"set_field writes a declared role's field; {target!r} is not a [records.*] role")
        writable = list(role.writable)
        require(fields.field in writable, where,
                f"field {fields.field!r} is not a writable field of {target}{did_you_mean(fields.field, writable)}: "
                f"use one of {', '.join(writable) or '(none: add it to writable in [records.' + target + '])'}")


def plan_set_field(plan: Plan, rule: Rule, action: Action, context: Mapping[str, Any]) -> None:
    for target in expand(plan, action, context):
        record = target.record
        if record is None:
            continue  # nothing to write on yet
        name = plan.playbook.declarations.records[target.role].fields[action.options.field].field
        value = render_inline(plan, action.options.value, target.context, name=f"rule {rule.name}, value")
        before = str(plain(record.raw.get(name)) or "")
        if value != before:
            plan.writes.append(_write(plan, rule, action, record, target, name, value, before))


def _write(plan: Plan, rule: Rule, action: Action, record: Any, target: Target, name: str, value: str,
           before: str) -> Write:
    ref = note_ref(plan.engagement.key, rule.name, target.slot, f"field:{name}:{value}")
    # A value that did not stick is written again next cycle, but its note is not posted twice.
    posted = plan.already_posted(record.sys_id, ref)
    context = {**target.context, "target": target.role}
    note = "" if posted else compose_note(plan, render_note(plan, action, context), rule, ref)
    return Write(
        rule=rule.name, engagement=plan.engagement.key, kind="set_field", table=record.table,
        sys_id=record.sys_id, number=record.number, target=target.label or target_label(plan, target.name),
        fields={name: value}, before={name: before}, note_field="work_notes", note=note, note_ref=ref,
    )


SET_FIELD = ActionKind("set_field", SetFieldFields, plan_set_field, check_set_field, each=True)
