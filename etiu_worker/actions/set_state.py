"""``set_state``: move the record of a role to one of its states, with a note saying why."""

from __future__ import annotations

from typing import Any, Mapping

from ..playbook.action_kinds import ActionFields, ActionKind, PackRecords, require
from ..playbook.action_targets import each_role
from ..playbook.rules import Action, Rule, states_for
from .base import Plan, Write, compose_note, note_ref, render_note, state_field, state_value, target_label
from .targets import Target, expand, planned_state, state_write


def plan_set_state(plan: Plan, rule: Rule, action: Action, context: Mapping[str, Any]) -> None:
    for target in expand(plan, action, context):
        if planned_state(plan, target) in (None, action.options.state):
            continue  # missing records are created by a create action; a state already set needs nothing
        record = target.record
        if record is None:  # created earlier this cycle: its planned state is set then
            continue
        table, field, value = _state_write(plan, target, action.options.state)
        ref = note_ref(plan.engagement.key, rule.name, target.slot, f"state:{action.options.state}:{record.state_value}")
        # A state that did not stick is set again next cycle, but its note is not posted twice.
        posted = plan.already_posted(record.sys_id, ref)
        scope = {**target.context, "target": target.role}
        note = "" if posted else compose_note(plan, render_note(plan, action, scope), rule, ref)
        plan.writes.append(Write(
            rule=rule.name, engagement=plan.engagement.key, kind="set_state", table=table,
            sys_id=record.sys_id, number=record.number, target=target.label or target_label(plan, target.name),
            fields={field: value}, before={field: record.state_value},
            note_field="work_notes", note=note, note_ref=ref,
        ))
        plan.states[target.slot] = action.options.state


def _state_write(plan: Plan, target: Target, state: str) -> tuple[str, str, str]:
    if target.each:
        return state_write(plan, target, state)
    return (*state_field(plan, target.name), state_value(plan, target.name, state))


class SetStateFields(ActionFields):
    """``state``: the state name to set, one of the target's."""

    state: str = ""


def check_set_state(fields: SetStateFields, targets: tuple[str, ...], records: PackRecords, where: str) -> None:
    # An each: target's state is one of its role's own.
    plain = tuple(target for target in targets if each_role(target) is None)
    choices = [list(records.declarations.records[role].states) for role in map(each_role, targets) if role]
    choices += [states_for(plain, records)] if plain or not targets else []
    for states in choices:
        require(fields.state in states, where, f"state {fields.state!r} is not one of {', '.join(states)}")


SET_STATE = ActionKind("set_state", SetStateFields, plan_set_state, check_set_state, each=True)
