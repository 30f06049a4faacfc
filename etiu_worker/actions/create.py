"""``create``: create a missing record of a role, or one record per missing step of a checklist.

One record::

    type = "create"
    target = "review"                      # a declared role
    state = "open"                         # one of the role's states
    fields = { title = "Review of {{ engagement.name }}" }   # writable aliases, each a template
    template = "review_created.j2"         # the work note posted with it

A whole checklist: one record per step of ``[steps.<group>]`` that has none yet, its step field
set to the step id, ``title_field`` (a writable alias) to the step's title (or to ``title``, a
template over ``step``), ``only`` some of the steps, ``order = "reverse"`` last first (a
rollback), ``ready_state`` the state of a step's record when the step is ready (its predecessors
done or skipped: the first step of a rollback is opened as it is created, the others wait in
``state``); a mirror group with ``only = "done"`` creates the records of the steps it keeps::

    type = "create"
    target = "tasks"
    steps = "launch"
    title_field = "title"
    state = "pending"
    fields = { assignee = "{{ change.owner if step.id in ('L2', 'L3', 'L4') else '' }}" }
    template = "task_created.j2"

The action fills the link and identity itself: a key link gets the engagement key, a reference
link the sys_id of the other role's record (none yet: nothing is created, and the plan says why),
a code identity its code, a step identity the step id. A field whose template renders empty is
left out. Creating is idempotent by identity: a record with that identity is not created again,
and a record this worker created earlier (the engagement memory's ``created``, by ``role`` or
``role:step``) that is not found by its identity now is repaired, its link, identity and state
written again, rather than created twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Mapping

from pydantic import Field

from ..engagement.roles import RoleDeclaration
from ..playbook.action_kinds import ActionFields, ActionKind
from ..playbook.rules import Action, Rule
from ..playbook.step_model import Step
from .base import Plan, Write, compose_note, note_ref, render_inline, render_note
from .create_checks import check_create


class CreateFields(ActionFields):
    """``state``, ``fields`` (alias -> template), and for a checklist ``steps``, ``only``,
    ``order``, ``ready_state`` and ``title_field``; ``title`` is the template ``title_field`` gets."""

    state: str = ""
    fields: dict[str, str] = Field(default_factory=dict)
    steps: str = ""
    only: list[str] = Field(default_factory=list)
    order: Literal["forward", "reverse"] = "forward"
    title_field: str = ""
    title: str = ""
    ready_state: str = ""

    def inline_templates(self) -> dict[str, str]:
        written = {f"fields.{alias}": source for alias, source in self.fields.items()}
        return {"title": self.title, **written, **super().inline_templates()}


@dataclass(frozen=True)
class Wanted:
    """One record the action means to exist: its slot (``tasks``, ``tasks:P2``) and its step."""

    slot: str
    step: Step | None = None

    @property
    def label(self) -> str:
        role = self.slot.split(":", 1)[0]
        return f"{role} {self.step.id}" if self.step else role


def plan_create(plan: Plan, rule: Rule, action: Action, context: Mapping[str, Any]) -> None:
    role = action.targets[0]
    declared = plan.playbook.declarations.records[role]
    for wanted in _wanted(plan, action, role, context):
        if _exists(plan, role, wanted):
            continue
        link = _link_fields(plan, role, wanted)
        if isinstance(link, str):
            plan.waiting.append((rule.name, wanted.label, link))
            continue
        fields = _fields(plan, rule, action, declared, wanted, context)
        identity = _identity_fields(declared, wanted, fields)
        if isinstance(identity, str):
            plan.waiting.append((rule.name, wanted.label, identity))
            continue
        state_name = _state_name(action, wanted, context)
        state = {declared.state_field: declared.states[state_name]} if state_name else {}
        if wanted.slot in plan.created_earlier:
            _plan_repair(plan, rule, declared, wanted, {**link, **identity, **state})
        else:
            _plan_new(plan, rule, action, declared, wanted, {**fields, **link, **identity, **state}, context)
        plan.created.add(wanted.slot)
        if state_name:
            plan.states[wanted.slot] = state_name


def _wanted(plan: Plan, action: Action, role: str, context: Mapping[str, Any]) -> list[Wanted]:
    options = action.options
    if not options.steps:
        return [Wanted(role)]
    group = plan.playbook.steps.groups[options.steps]
    steps = [step for step in group.steps if not options.only or step.id in options.only]
    if group.only_done and "steps" in context:
        # A mirror of the steps done: the derived group holds only the steps it keeps.
        kept = context["steps"].groups[group.name].items
        steps = [step for step in steps if step.id in kept]
    if options.order == "reverse":
        steps.reverse()
    return [Wanted(f"{role}:{step.id}", step) for step in steps]


def _state_name(action: Action, wanted: Wanted, context: Mapping[str, Any]) -> str:
    """``ready_state`` for a step that is ready (its predecessors done or skipped), else ``state``."""
    options = action.options
    if not (options.ready_state and wanted.step and "steps" in context):
        return options.state
    derived = context["steps"].groups[wanted.step.group].items.get(wanted.step.id)
    return options.ready_state if derived is not None and derived.ready else options.state


def _exists(plan: Plan, role: str, wanted: Wanted) -> bool:
    """Found by its identity (or planned this cycle); a role of one record has it when it has any."""
    if wanted.slot in plan.created:
        return True
    if wanted.step is not None:
        return wanted.step.id in plan.engagement.by_step(role)
    return bool(plan.engagement.each(role))


def _link_fields(plan: Plan, role: str, wanted: Wanted) -> dict[str, str] | str:
    """The field that joins the record to the engagement, or why it cannot be written yet."""
    link = plan.playbook.declarations.link_of(role)
    if link.kind == "key":
        return {str(link.field): plan.engagement.key}
    other = plan.engagement.one(str(link.of))
    if other is None:
        return f"not created: its {link.ref} points at the {link.of} record, and the engagement has none (yet)"
    return {str(link.ref): other.sys_id}


def _identity_fields(declared: RoleDeclaration, wanted: Wanted, fields: Mapping[str, str]) -> dict[str, str] | str:
    """The field that tells the record apart in its role, or why the record would not be found again."""
    identity = declared.identity
    if identity is None:
        return {}
    if identity.kind == "code":
        return {identity.field: str(identity.value)}
    if identity.kind == "step":
        return {identity.field: wanted.step.id if wanted.step else ""}
    text = fields.get(identity.field, str(identity.contains))
    if not identity.matches(text):
        return f"not created: its {identity.field} {text[:60]!r} does not contain {identity.contains!r}, " \
               f"by which the record is found again"
    return {identity.field: text}


def _fields(plan: Plan, rule: Rule, action: Action, declared: RoleDeclaration, wanted: Wanted,
            context: Mapping[str, Any]) -> dict[str, str]:
    """The written fields rendered (``step`` is the checklist's step, None for one record), the empty left out."""
    options = action.options
    scope = {**context, "step": wanted.step}
    sources = dict(options.fields)
    if options.title_field:
        sources[options.title_field] = options.title or ("{{ step.title }}" if wanted.step else "")
    rendered = {
        declared.fields[alias].field: render_inline(plan, source, scope, name=f"rule {rule.name}, fields.{alias}")
        for alias, source in sources.items() if source
    }
    return {name: value for name, value in rendered.items() if value.strip()}


def _plan_new(plan: Plan, rule: Rule, action: Action, declared: RoleDeclaration, wanted: Wanted,
              fields: dict[str, str], context: Mapping[str, Any]) -> None:
    ref = note_ref(plan.engagement.key, rule.name, wanted.slot, "created")
    scope = {**context, "target": wanted.slot.split(":", 1)[0], "step": wanted.step}
    note = compose_note(plan, render_note(plan, action, scope), rule, ref)
    plan.writes.append(Write(
        rule=rule.name, engagement=plan.engagement.key, kind="create", table=declared.table, sys_id="", number="",
        target=wanted.label, fields=fields, note_field="work_notes", note=note, note_ref=ref, role=wanted.slot,
    ))


def _plan_repair(plan: Plan, rule: Rule, declared: RoleDeclaration, wanted: Wanted, fields: dict[str, str]) -> None:
    """A record this worker created is not found by its identity: its link or identity did not
    save. Write them again rather than create a second record."""
    plan.writes.append(Write(
        rule=rule.name, engagement=plan.engagement.key, kind="create", table=declared.table,
        sys_id=plan.created_earlier[wanted.slot], number="", target=wanted.label, fields=fields, role=wanted.slot,
    ))


CREATE = ActionKind("create", CreateFields, plan_create, check_create)
