"""The four upgrade packs of issue 12 loaded from packs/, their sandbox demo data grouped by their
roles, and a stand-in for the engine's context (role names, found, steps, dates, latches), built
the way conditions will see it, so that the packs' dates, latches and phases can be tried on the
demo engagements before the engine reads generic engagements."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from etiu_worker.engagement.engagements import Engagement
from etiu_worker.engagement.grouping import build_engagements, tables_to_read
from etiu_worker.engagement.role_loading import load_roles
from etiu_worker.engagement.roles import Declarations
from etiu_worker.engagement.workdays import BusinessCalendar
from etiu_worker.playbook.durations import TimeFrame
from etiu_worker.playbook.facts import Window, check_window
from etiu_worker.playbook.moments import Moments, MomentValues, compile_moments
from etiu_worker.playbook.pack_file import PackFile, read_pack_file
from etiu_worker.playbook.report_checks import pick_phase
from etiu_worker.playbook.report_pack import ReportPack, compile_report, phase_scope
from etiu_worker.playbook.step_context import step_record
from etiu_worker.playbook.step_model import STARTS, StepPlan
from etiu_worker.playbook.step_states import StepFacts, StepsState
from etiu_worker.playbook.step_status import derive_steps
from etiu_worker.playbook.steps import load_steps
from etiu_worker.playbook.templates import make_environment
from etiu_worker.sandbox.store import Store

REPO = Path(__file__).resolve().parent.parent
UPGRADE_PACKS = ("vip-upgrade", "aurea-cx-managed", "pisaas-monthly", "aurea-crm-cloud")


@dataclass(frozen=True)
class LoadedPack:
    """One pack.toml, loaded as the engine will: its file, roles, steps, moments and report."""

    name: str
    path: Path
    file: PackFile
    data: dict[str, Any]
    declarations: Declarations
    plan: StepPlan
    moments: Moments
    report: ReportPack
    env: Any

    @property
    def calendar(self) -> BusinessCalendar:
        return BusinessCalendar(holidays=self.file.calendar.holidays, weekend=self.file.weekend_days)


@cache
def load(name: str) -> LoadedPack:
    path = REPO / "packs" / name / "pack.toml"
    file = read_pack_file(path, needs_pack_table=True)
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    env = make_environment()
    declarations = load_roles(data, str(path))
    return LoadedPack(name, path, file, data, declarations, load_steps(data.get("steps", {}), str(path)),
                      compile_moments(data.get("dates", {}), data.get("latches", {}), env),
                      compile_report(path, file.phases, file.report, data.get("dates", {}), env,
                                     latches=tuple(data.get("latches", {}))), env)


def engagements(declarations: Declarations, store: Store) -> dict[str, Engagement]:
    """A pack's engagements in the store, read table by table as the worker reads them, by key."""
    tables = {table: store.query(table) for table in tables_to_read(declarations)}
    return {engagement.key: engagement for engagement in build_engagements(declarations, tables, "UTC")}


def declarations_of(name: str) -> Declarations:
    """Any shipped pack's roles (the ETIU pack's too)."""
    return load_roles(tomllib.loads((REPO / "packs" / name / "pack.toml").read_text(encoding="utf-8")))


@dataclass(frozen=True)
class Evaluated:
    """What conditions see for one engagement at ``now``, and the phase it is in."""

    context: dict[str, Any]
    steps: StepsState
    moments: MomentValues
    phase: str

    @property
    def dates(self) -> Any:
        return self.moments.dates

    @property
    def latches(self) -> Any:
        return self.moments.latches


def evaluate(pack: LoadedPack, engagement: Engagement, now: datetime,
             memory: dict[str, Any] | None = None) -> Evaluated:
    """The engagement's steps, dates, latches and phase at ``now``, from nothing remembered."""
    context = base_context(pack, engagement, now)
    steps = derive(pack, engagement, context, now)
    context["steps"] = steps
    if pack.file.checks.planned_window is not None:
        context["window"] = planned_window(pack, engagement, context)
    moments = pack.moments.evaluate(context, memory or {}, now)
    scope = phase_scope({**context, "latches": moments.latches}, moments.dates)
    phase, _ = pick_phase(pack.report, scope)
    return Evaluated(scope, steps, moments, phase)


def planned_window(pack: LoadedPack, engagement: Engagement, context: dict[str, Any]) -> Window:
    """``window`` as the engine computes it for a pack declaring ``[checks.planned_window]``."""
    check = pack.file.checks.planned_window
    applies, expected = (bool(_value(pack, check.applies, context)) if context.get(check.role) else False,
                         _value(pack, check.expected, context) if context.get(check.role) else None)
    return check_window(engagement.one(check.role), check.start, check.end, applies, expected, engagement.zone, check.hours)


def base_context(pack: LoadedPack, engagement: Engagement, now: datetime) -> dict[str, Any]:
    roles = {role: engagement.one(role) for role in pack.declarations.records}
    return {**roles, "records": roles, "found": dict(engagement.found), "now": now,
            "today": now.astimezone(engagement.zone).date(), "zone": engagement.zone, "calendar": pack.calendar,
            "client": engagement.name, "key": engagement.key, "engagement": engagement}


def derive(pack: LoadedPack, engagement: Engagement, context: dict[str, Any], now: datetime) -> StepsState:
    facts = {}
    for step in pack.plan.steps.values():
        group = pack.plan.groups[step.group]
        record = engagement.one(group.role) if group.single else engagement.by_step(group.role).get(step.id)
        facts[step.key] = StepFacts(
            record=step_record(record, pack.declarations.records[group.role].meaning),
            start=_start(step.start_from, context),
            paused=bool(_value(pack, step.paused_when, context)) if step.paused_when else False,
            amount=_value(pack, step.duration.amount_from, context) if step.duration and step.duration.amount_from else None)
    return derive_steps(pack.plan, facts, TimeFrame(pack.calendar, engagement.zone), now)


def _start(start_from: str, context: dict[str, Any]) -> datetime | None:
    if start_from in STARTS:
        return None
    role, field = start_from.split(".", 1)
    return getattr(context.get(role), field, None)


def _value(pack: LoadedPack, expression: str, context: dict[str, Any]) -> Any:
    return pack.env.compile_expression(expression, undefined_to_none=False)(**context)


def at_utc(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZoneInfo("UTC"))


# --- The draft rules (packs/<name>/rules), tried as the engine will read them -------------------


@dataclass(frozen=True)
class Planned:
    """One action a draft rule would take on one engagement: its rule, kind, target, the step of
    the record an ``each:<role>`` target binds to ``item``, its key, value and note."""

    rule: str
    kind: str
    target: str
    step: str
    key: str
    value: str
    note: str


def draft_rules(pack: LoadedPack) -> list[dict[str, Any]]:
    """The pack's rule files, in order, as written."""
    files = sorted((pack.path.parent / "rules").glob("*.toml"))
    return [tomllib.loads(path.read_text(encoding="utf-8"))["rule"] for path in files]


def plan_drafts(pack: LoadedPack, engagement: Engagement, now: datetime) -> list[Planned]:
    """What the draft rules would do at ``now``, from nothing remembered; a broken engagement
    only gets the rules that run on one (``on_broken_engagement``)."""
    env = make_environment(pack.path.parent / "templates")
    result = evaluate(pack, engagement, now)
    scope = {**result.context, "contacts": pack.file.contacts, "problems": engagement.problems}
    planned = []
    for rule in draft_rules(pack):
        if engagement.problems and not rule.get("on_broken_engagement"):
            continue
        context = {**scope, "params": rule.get("params", {})}
        if _holds(env, rule.get("when", []), context):
            planned += [item for action in rule.get("actions", []) for item in _plan(env, rule, action, engagement, context, pack)]
    return planned


def _plan(env: Any, rule: dict[str, Any], action: dict[str, Any], engagement: Engagement,
          context: dict[str, Any], pack: LoadedPack) -> list[Planned]:
    target = action.get("target", "")
    each = isinstance(target, str) and target.startswith("each:")
    # The engine binds each record as ``record`` (actions/targets.py); the first drafts read ``item``.
    bound = [{"item": record, "record": record} for record in engagement.each(target[5:])] if each else [{}]
    if target == "problems":
        bound = [{"problem": problem} for problem in engagement.problems]
    if action.get("type") == "create" and action.get("steps"):
        bound = _missing_steps(pack, engagement, target, action)
    planned = []
    for extra in bound:
        scope = {**context, **extra, **({} if each or not isinstance(target, str) else {"target": target})}
        if not _holds(env, action.get("when", []), scope) or (each and not _holds(env, action.get("where", []), scope)):
            continue
        render = lambda source: env.from_string(source).render(scope)  # noqa: E731 - three fields alike
        note = env.get_template(action["template"]).render(scope) if action.get("template") else ""
        step = getattr(extra.get("item"), "step", "") or ""
        planned.append(Planned(rule["name"], action["type"], str(target), step, render(action.get("key", "")),
                               render(action.get("value", "")), note))
    return planned


def _missing_steps(pack: LoadedPack, engagement: Engagement, role: str, action: dict[str, Any]) -> list[dict[str, Any]]:
    """A create action's steps (``step`` in its templates): its group's steps without a record."""
    have = engagement.by_step(role)
    group = pack.plan.groups[action["steps"]]
    only = action.get("only") or [step.id for step in group.steps]
    return [{"step": step} for step in group.steps if step.id in only and step.id not in have]


def _holds(env: Any, conditions: Any, context: dict[str, Any]) -> bool:
    sources = [conditions] if isinstance(conditions, str) else conditions
    return all(env.compile_expression(source, undefined_to_none=False)(**context) for source in sources)
