"""``work_note``, ``comment`` and ``flag``: post a note, a customer-visible comment or a flag, once
per distinct event."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from typing import Literal

from pydantic import Field

from ..playbook.action_kinds import ActionFields, ActionKind, PackRecords, require
from ..playbook.rules import Action, Rule
from .base import (ClockCheck, Plan, Write, compose_note, flag_kind, note_ref, render_inline, render_note,
                   target_label)
from .targets import Target, expand

FIELD_OF_KIND = {"work_note": "work_notes", "comment": "comments", "flag": "work_notes"}


def plan_note(plan: Plan, rule: Rule, action: Action, context: Mapping[str, Any]) -> None:
    for target in expand(plan, action, context):
        if target.name == "problems":
            for problem in plan.engagement.problems:
                _plan_one(plan, rule, action, {**context, "problem": problem}, _problem_record(plan, problem), target)
            continue
        if target.record is None:
            continue  # nothing to write on; a ticket created this cycle gets its notes next cycle
        _plan_one(plan, rule, action, target.context, target.record, target)


def _problem_record(plan: Plan, problem) -> Any:
    """The record a problem is about, or, when it names none the engagement holds, the record of
    the role the engagement's zone is read from (else the first record found)."""
    records = plan.engagement.records
    found = next((r for r in records if problem.sys_id and r.sys_id == problem.sys_id), None)
    if found is None and problem.sys_id:
        found = _raw_record(plan, problem)
    zone_role = plan.playbook.declarations.engagement.zone.role
    fallback = plan.engagement.one(zone_role) if zone_role else None
    return found or fallback or (records[0] if records else None)


def _raw_record(plan: Plan, problem) -> Any:
    """A record no role counts (an unknown code) is still the one its problem is flagged on."""
    return _Unclaimed(problem.table, problem.sys_id, problem.number) if problem.table else None


def _plan_one(plan: Plan, rule: Rule, action: Action, context: Mapping[str, Any], record: Any, each: Target) -> None:
    if record is None:
        return
    target = each.role
    key = render_inline(plan, action.key, context, name=f"rule {rule.name}, key") if action.key else ""
    # A problem's note is keyed by the record it is about, not by a role; an each: target's by its record.
    slot = record.sys_id if target == "problems" else each.slot
    ref = note_ref(plan.engagement.key, rule.name, slot, key)
    if action.kind == "flag":
        plan.raised_flags.add((rule.name, f"{slot}:{key}"))
    if plan.already_posted(record.sys_id, ref):
        return
    body = render_note(plan, action, {**context, "target": target})
    if action.kind == "flag":
        body = f"{plan.playbook.marks.marker(action.options.severity)} {body}"
    plan.writes.append(Write(
        rule=rule.name, engagement=plan.engagement.key, kind=action.kind, table=record.table,
        sys_id=record.sys_id, number=record.number, target=each.label or _label(plan, target, record),
        note_field=FIELD_OF_KIND[action.kind], note=compose_note(plan, body, rule, ref), note_ref=ref,
        flag_key=f"{slot}:{key}" if action.kind == "flag" else "",
        flag_message=body.splitlines()[0][:300] if action.kind == "flag" else "",
        flag_severity=action.options.severity if action.kind == "flag" else "",
        flag_kind=flag_kind(key) if action.kind == "flag" else "",
        clock_check=_clock_check(plan, rule, action, context),
    ))


def _clock_check(plan: Plan, rule: Rule, action: Action, context: Mapping[str, Any]) -> ClockCheck | None:
    if not action.options.check_clock_minutes:
        return None
    return ClockCheck(action.options.check_clock_minutes, action.options.clock_flag_template, rule,
                      plan.playbook.marks, plan.playbook.env, context)


def _label(plan: Plan, target: str, record: Any) -> str:
    if target != "problems":
        return target_label(plan, target)
    if getattr(record, "role", None):
        return target_label(plan, record.role)
    return record.table.replace("_", " ")


@dataclass(frozen=True)
class _Unclaimed:
    """Where to flag a problem about a record that no role of the pack counts."""

    table: str
    sys_id: str
    number: str
    role: str = ""


class NoteFields(ActionFields):
    """``check_clock_minutes``: flag with ``clock_flag_template`` when the instance's time stamp on
    the posted note is this far from the worker's clock."""

    check_clock_minutes: float = Field(0, ge=0)
    clock_flag_template: str = ""

    def template_files(self) -> dict[str, str]:
        return {**super().template_files(), "clock_flag_template": self.clock_flag_template}


class FlagFields(NoteFields):
    """``severity``: a problem (the default) or a warning."""

    severity: Literal["warning", "problem"] = "problem"


def check_note(fields: NoteFields, targets: tuple[str, ...], records: PackRecords, where: str) -> None:
    require(not fields.check_clock_minutes or bool(fields.clock_flag_template), where,
            "check_clock_minutes needs clock_flag_template, the flag posted when the clocks differ")


WORK_NOTE = ActionKind("work_note", NoteFields, plan_note, check_note, each=True)
COMMENT = ActionKind("comment", NoteFields, plan_note, check_note, each=True)
FLAG = ActionKind("flag", FlagFields, plan_note, check_note, each=True)
