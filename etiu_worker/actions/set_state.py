"""``set_state``: move the record of a role to one of its states, with a note saying why."""

from __future__ import annotations

from typing import Any, Mapping

from ..playbook.action_kinds import ActionFields, ActionKind, PackRecords, require
from ..playbook.rules import Action, Rule, states_for
from .base import Plan, Write, compose_note, note_ref, render_note, state_field, state_value, target_label


def plan_set_state(plan: Plan, rule: Rule, action: Action, context: Mapping[str, Any]) -> None:
    for target in action.targets:
        if plan.state_of(target) in (None, action.options.state):
            continue  # missing records are created by create_ticket; a state already set needs nothing
        record = plan.record(target)
        if record is None:  # created earlier this cycle: its planned state is set then
            continue
        table, field = state_field(plan, target)
        ref = note_ref(plan.engagement.key, rule.name, target, f"state:{action.options.state}:{record.state_value}")
        # A state that did not stick is set again next cycle, but its note is not posted twice.
        posted = plan.already_posted(record.sys_id, ref)
        note = "" if posted else compose_note(plan, render_note(plan, action, {**context, "target": target}), rule, ref)
        plan.writes.append(Write(
            rule=rule.name, engagement=plan.engagement.key, kind="set_state", table=table,
            sys_id=record.sys_id, number=record.number, target=target_label(plan, target),
            fields={field: state_value(plan, target, action.options.state)}, before={field: record.state_value},
            note_field="work_notes", note=note, note_ref=ref,
        ))
        plan.states[target] = action.options.state


class SetStateFields(ActionFields):
    """``state``: the state name to set, one of the target's."""

    state: str = ""


def check_set_state(fields: SetStateFields, targets: tuple[str, ...], records: PackRecords, where: str) -> None:
    states = states_for(targets, records)
    require(fields.state in states, where, f"state {fields.state!r} is not one of {', '.join(states)}")


SET_STATE = ActionKind("set_state", SetStateFields, plan_set_state, check_set_state)
