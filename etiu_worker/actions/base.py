"""What an action plans: writes, each explained, none sent yet."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from ..engagement.engagements import Engagement
from ..engagement.records import Record
from ..playbook.pack_file import NoteMarks
from ..playbook.rules import Action, Playbook, Rule
from ..playbook.templates import render, render_file



@dataclass(frozen=True)
class ClockCheck:
    """Compare the instance's time stamp on a posted note with the worker's clock."""

    minutes: float
    flag_template: str
    rule: Rule
    marks: NoteMarks
    env: Any = field(repr=False)
    context: Mapping[str, Any] = field(repr=False)


@dataclass(frozen=True, slots=True)
class Write:
    """One request the worker means to send, with what it changes and why."""

    rule: str
    engagement: str
    kind: str
    table: str
    sys_id: str  # "" when the write creates the record
    number: str
    target: str  # how people name the record: a ticket's code, change request
    fields: Mapping[str, str] = field(default_factory=dict)
    before: Mapping[str, str] = field(default_factory=dict)
    note_field: str = ""
    note: str = ""
    note_ref: str = ""
    flag_key: str = ""
    flag_message: str = ""
    flag_severity: str = ""  # a flag's: "problem" or "warning"
    flag_kind: str = ""  # a flag's: what its key names first (see ``flag_kind``)
    clock_check: ClockCheck | None = None
    role: str = ""  # for a create: the slot of the record created (its role, or role:step), as memory keys it

    @property
    def is_create(self) -> bool:
        return not self.sys_id

    def payload(self) -> dict[str, str]:
        payload = dict(self.fields)
        if self.note:
            payload[self.note_field] = self.note
        return payload


@dataclass
class Plan:
    """The writes planned for one engagement, and what they will have changed once sent.

    Later actions of a cycle see the effect of earlier ones (a ticket about to be created exists,
    a state about to be set is set), so rules compose without writing twice.
    """

    engagement: Engagement
    playbook: Playbook
    already_posted: Callable[[str, str], bool]
    writes: list[Write] = field(default_factory=list)
    states: dict[str, str] = field(default_factory=dict)  # target -> planned state name
    created: set[str] = field(default_factory=set)
    raised_flags: set[tuple[str, str]] = field(default_factory=set)  # (rule, flag key) still true now
    created_earlier: Mapping[str, str] = field(default_factory=dict)  # role or role:step -> sys_id this worker created
    waiting: list[tuple[str, str, str]] = field(default_factory=list)  # (rule, record, why it is not created yet)

    def role(self, target: str) -> str:
        """The role a target names: itself, or the role another name of ``[context]`` stands for."""
        return self.playbook.context_names.aliases.get(target, target)

    def record(self, target: str) -> Record | None:
        return self.engagement.one(self.role(target))

    def exists(self, target: str) -> bool:
        return target in self.created or self.record(target) is not None

    def state_of(self, target: str) -> str | None:
        if target in self.states:
            return self.states[target]
        record = self.record(target)
        return record.state if record is not None else None


def target_label(plan: Plan, target: str) -> str:
    """How people name the record of a target: its role's code, else its table in words."""
    declared = plan.playbook.declarations.records[plan.role(target)]
    if declared.identity is not None and declared.identity.kind == "code":
        return str(declared.identity.value)
    return declared.table.replace("_", " ")


def state_field(plan: Plan, target: str) -> tuple[str, str]:
    """The table of a target's role, and the field its state is stored in."""
    declared = plan.playbook.declarations.records[plan.role(target)]
    return declared.table, declared.state_field


def state_value(plan: Plan, target: str, name: str) -> str:
    """The stored value of the state ``name`` of a target's role."""
    return plan.playbook.declarations.records[plan.role(target)].states[name]


def note_ref(engagement: str, rule: str, target: str, key: str) -> str:
    """A short, stable reference for one note, written into it so it can be found again."""
    return hashlib.sha256(f"{engagement}|{rule}|{target}|{key}".encode()).hexdigest()[:12]


def compose_note(plan: Plan, body: str, rule: Rule, ref: str) -> str:
    """The note's text: its body, then the pack's footer naming the rule and the reference."""
    return f"{body}\n\n{plan.playbook.marks.footer.format(rule=rule.name, ref=ref)}"


def flag_kind(rule_key: str) -> str:
    """``cancelled`` → cancelled; ``duplicate-code:X02`` → duplicate-code; ``grace|2026-12-04`` →
    grace: the kind of problem a rule's flag key names, which the report labels finer by."""
    return rule_key.split("|", 1)[0].split(":", 1)[0]


def flag_write(*, marks: NoteMarks, rule: str, engagement: str, table: str, sys_id: str, number: str, target: str,
               body: str, ref: str, flag_key: str, kind: str, footer: str = "") -> Write:
    """A problem flag on one record: the marker, the body, the footer with its reference."""
    text = f"{marks.problem} {body}"
    footer = footer or marks.footer.format(rule=rule, ref=ref)
    return Write(
        rule=rule, engagement=engagement, kind="flag", table=table, sys_id=sys_id, number=number,
        target=target, note_field="work_notes", note=f"{text}\n\n{footer}", note_ref=ref,
        flag_key=flag_key, flag_message=text.splitlines()[0][:300], flag_severity="problem",
        flag_kind=kind,
    )


def render_note(plan: Plan, action: Action, context: Mapping[str, Any]) -> str:
    return render_file(plan.playbook.env, action.template, dict(context))


def render_inline(plan: Plan, source: str, context: Mapping[str, Any], *, name: str) -> str:
    return render(plan.playbook.env, source, dict(context), name=name)
