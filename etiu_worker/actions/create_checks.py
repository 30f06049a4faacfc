"""The load-time check of a ``create`` action against its pack: the role it creates in, the state,
the fields it writes and the checklist it creates from. Each mistake is one RulesError naming
the rule's file, line and action, and what to write instead."""

from __future__ import annotations

from typing import Any

from ..engagement.roles import Declarations, RoleDeclaration
from ..playbook.action_kinds import PackRecords, require
from ..spelling import did_you_mean


def check_create(fields: Any, targets: tuple[str, ...], records: PackRecords, where: str) -> None:
    roles = records.declarations.records
    require(len(targets) == 1, where, "create makes the records of one role: give one target")
    role = targets[0]
    require(role in roles, where, f"create makes records of a declared role; {role!r} is not a [records.*] role"
                                  f"{did_you_mean(role, roles)}: use one of {', '.join(roles)}")
    declared = roles[role]
    _check_link(records.declarations, role, where)
    _check_state(fields.state, role, declared, where)
    if fields.ready_state:
        require(bool(fields.steps), where, "ready_state is the state of a ready step's record: give steps, "
                                           "the checklist to create from, or drop ready_state")
        states = list(declared.states)
        require(fields.ready_state in states, where, f"ready_state {fields.ready_state!r} is not a state of {role}"
                                                     f"{did_you_mean(fields.ready_state, states)}: use one of "
                                                     f"{', '.join(states)}")
    _check_fields(fields, role, records.declarations, where)
    _check_steps(fields, role, declared, records, where)


def _check_link(declarations: Declarations, role: str, where: str) -> None:
    link = declarations.link_of(role)
    require(link.kind != "referenced_by", where,
            f"create cannot join a new {role} record to its engagement: {role} is found from the {link.of} record "
            f"that points at it (link.referenced_by), and create writes only the new record")


def _check_state(state: str, role: str, declared: RoleDeclaration, where: str) -> None:
    states = list(declared.states)
    if not states:
        require(not state, where, f"{role} declares no states: drop state")
        return
    require(bool(state), where, f"create needs state, the state of the new {role} record: one of {', '.join(states)}")
    require(state in states, where, f"state {state!r} is not a state of {role}{did_you_mean(state, states)}: "
                                    f"use one of {', '.join(states)}")


def _check_fields(fields: Any, role: str, declarations: Declarations, where: str) -> None:
    declared = declarations.records[role]
    writable = list(declared.writable)
    filled = _filled_by_create(declarations, role)
    for alias in [*fields.fields, *([fields.title_field] if fields.title_field else [])]:
        key = "title_field" if alias == fields.title_field and alias not in fields.fields else f"fields.{alias}"
        known = declared.fields.get(alias)
        require(known is None or known.field not in filled, where,
                f"{key}: {alias} is {role}'s {filled.get(known.field if known else '', '')} field, "
                f"which create fills itself: drop it")
        require(alias in writable or _is_text_identity(declared, known), where,
                f"{key}: {alias!r} is not a writable field of {role}{did_you_mean(alias, writable)}: use one of "
                f"{', '.join(writable) or '(none: add it to writable in [records.' + role + '])'}")
    require(not fields.title or bool(fields.title_field), where,
            "title needs title_field, the writable field of the new record the title goes into")


def _is_text_identity(declared: RoleDeclaration, known: Any) -> bool:
    """A matched-text identity's field may be written: the text it holds is how the record is found."""
    identity = declared.identity
    return known is not None and identity is not None and identity.kind == "text" and identity.field == known.field


def _filled_by_create(declarations: Declarations, role: str) -> dict[str, str]:
    """The fields create writes itself: the link (unless a text identity's), the code or step id."""
    declared = declarations.records[role]
    filled = {}
    link = declarations.link_of(role)
    if link.kind != "referenced_by":
        filled[str(link.field or link.ref)] = "link"
    if declared.identity is not None and declared.identity.kind != "text":
        filled[declared.identity.field] = "identity"
    return filled


def _check_steps(fields: Any, role: str, declared: RoleDeclaration, records: PackRecords, where: str) -> None:
    identity = declared.identity
    by_step = identity is not None and identity.kind == "step"
    if not fields.steps:
        require(not fields.only and fields.order == "forward", where,
                "only and order choose among the steps of a checklist: give steps, the group to create from")
        require(not by_step, where, f"{role} records are told apart by their step ({identity and identity.field}): "
                                    f"give steps, the [steps.*] group to create them from")
        return
    groups = records.steps.groups
    require(fields.steps in groups, where, f"steps: {fields.steps!r} is not a [steps.*] group"
                                           f"{did_you_mean(fields.steps, groups)}: use one of "
                                           f"{', '.join(groups) or '(none)'}")
    group = groups[fields.steps]
    require(group.role == role, where, f"steps: the steps of {fields.steps} are {group.role} records, not {role}: "
                                       f"set target = \"{group.role}\"")
    require(by_step, where, f"steps: {role} has no step identity (identity = {{ field = \"...\" }}), so a record "
                            f"created for a step could not be found again")
    ids = [step.id for step in group.steps]
    for id_ in fields.only:
        require(id_ in ids, where, f"only: {id_!r} is not a step of {fields.steps}{did_you_mean(id_, ids)}: "
                                   f"the steps are {', '.join(ids)}")
