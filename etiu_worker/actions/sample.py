"""A sample engagement that every condition and template is tried against when rules load.

It has one record in every role the pack declares, each in a state that reaches many branches
(``_sample_state``), with every declared
field set (the roadmap in the roadmap's text field, a planned window that holds it), so that a
misspelt name fails at load time under StrictUndefined, before any request; and each condition
and template is read for names in the branches the sample does not reach.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any

from ..playbook.action_targets import each_role
from ..playbook.condition_check import explain_missing, find_missing_name
from ..playbook.context import build_context, compute_facts, rule_context
from ..errors import RoadmapError, RulesError, TemplateError
from ..playbook.evaluate import evaluate_conditions
from ..engagement.grouping import build_engagements
from ..engagement.records import Problem
from ..engagement.roadmap import ProdUpgrade, Roadmap, format_short_description
from ..engagement.roadmap_labels import LOCAL_DATETIME, RoadmapLabels
from ..engagement.roadmap_memory import AGREED, remember_roadmap
from ..playbook.roadmap_check import carriers, with_roadmap_problems
from .base import Plan, render_inline, render_note
from ..playbook.templates import parsed_template, render_file

SAMPLE_NOW = datetime(2026, 11, 16, 15, 0, tzinfo=timezone.utc)
SAMPLE_PROBLEM = Problem("duplicate-code:X02", "2 records carry the code X02: R0001002, R0001009", "", "2" * 32, "R0001002")
_STAMP = "2026-11-13 14:00:00"
_VALUES = {"datetime": _STAMP, "date": "2026-11-13", "local_datetime": "2026-11-13 09:00:00", "reference": "",
           "number": "1", "boolean": "false", "text": "Sample"}
_WINDOW = ("2026-11-24 23:00:00", "2026-11-25 02:00:00")  # the roadmap's local time below, 3 hours
_LOCAL_TIME = ProdUpgrade(datetime(2026, 11, 24, 18, 0), "EST")
_FIRST_DAY, _DAY_AFTER = date(2026, 11, 2), date(2026, 11, 25)


def sample_roadmap(labels: RoadmapLabels) -> Roadmap:
    """A roadmap with every label set: the dates before the first local time three days apart from
    2026-11-02, the local time 2026-11-24 18:00 EST (the sample's planned window), the dates after
    it from the day after, one day apart."""
    values: dict[str, Any] = {}
    before, after = 0, 0
    for name in labels.names:
        if labels.type_of(name) == LOCAL_DATETIME:
            values[name] = _LOCAL_TIME
        elif not any(value is _LOCAL_TIME for value in values.values()):
            values[name], before = _FIRST_DAY + timedelta(days=3 * before), before + 1
        else:
            values[name], after = _DAY_AFTER + timedelta(days=after), after + 1
    return Roadmap(labels, **values)


def _moved(roadmap: Roadmap) -> Roadmap:
    """``roadmap`` with its first date a day later: a change to show in the sample's notes."""
    first = next(((name, value) for name, value in roadmap.items() if isinstance(value, date)), None)
    return roadmap.replace(**{first[0]: first[1] + timedelta(days=1)}) if first else roadmap


def sample_records(playbook) -> dict[str, list[dict]]:
    """One raw record per role of the pack, by table, all of the engagement ENG-SAMPLE."""
    declarations = playbook.declarations
    rows = {role: _sample_row(playbook, role, index) for index, role in enumerate(declarations.records, start=1)}
    for role in declarations.records:
        link = declarations.link_of(role)
        if link.kind == "key":
            rows[role][str(link.field)] = "ENG-SAMPLE"
        elif link.kind == "ref":
            rows[role][str(link.ref)] = rows[str(link.of)]["sys_id"]
        else:
            rows[str(link.of)][str(link.referenced_by)] = rows[role]["sys_id"]
    zone = declarations.engagement.zone
    if zone.role and zone.field:
        rows[zone.role][zone.field] = "America/New_York"
    tables: dict[str, list[dict]] = {}
    for role, row in rows.items():
        tables.setdefault(declarations.records[role].table, []).append(row)
    return tables


def _sample_row(playbook, role: str, index: int) -> dict[str, str]:
    declared = playbook.declarations.records[role]
    row = {"sys_id": f"{index:032x}", "number": f"R000100{index}", "sys_updated_on": _STAMP}
    row |= {item.field: _VALUES[item.type] for item in declared.fields.values()}
    if declared.states:
        row[declared.state_field] = declared.states[_sample_state(declared)]
    identity = declared.identity
    if identity is not None:
        row[identity.field] = identity.value or f"Please {identity.contains}" if identity.kind != "step" else _step_id(playbook, role)
    roadmap = playbook.checks.roadmap_sync
    if roadmap is not None and role in roadmap.roles:
        title = role.replace("_", " ").capitalize()
        text = format_short_description(f"{title} - Sample Client", sample_roadmap(roadmap.roadmap_labels))
        row[declared.fields[roadmap.field].field] = text
    window = playbook.checks.planned_window
    if window is not None and role == window.role:
        row[declared.fields[window.start].field], row[declared.fields[window.end].field] = _WINDOW
    return row


def _step_id(playbook, role: str) -> str:
    """The id of the first step whose records are of ``role``, so that ``steps.G.items[record.step]``
    reads a step on the sample."""
    return next((group.steps[0].id for group in playbook.steps.groups.values() if group.role == role and group.steps),
                "sample")


def _sample_state(declared) -> str:
    """A state that reaches many branches: a record identified by a code in progress (its last
    open state), a switch identified by a text flipped (its first done state), any other still
    ahead (its last pending state); else its first state."""
    kind = declared.identity.kind if declared.identity else ""
    wanted = {"code": ("open", -1), "text": ("done", 0)}.get(kind, ("pending", -1))
    found = [name for name, meaning in declared.meaning.items() if meaning == wanted[0]]
    return found[wanted[1]] if found else next(iter(declared.states))


def sample_context(playbook) -> tuple[Any, dict[str, Any]]:
    check = playbook.checks.roadmap_sync
    [engagement] = build_engagements(playbook.declarations, sample_records(playbook), "America/New_York")
    engagement = with_roadmap_problems(engagement, check)
    memory = {AGREED: remember_roadmap(sample_roadmap(check.roadmap_labels))} if check is not None else {}
    facts = compute_facts(engagement, playbook, memory, SAMPLE_NOW)
    return engagement, build_context(engagement, facts, playbook, SAMPLE_NOW)


def check_against_sample(playbook) -> None:
    """Evaluate every condition and render every template once; raise RulesError on the first failure."""
    engagement, base = sample_context(playbook)
    plan = Plan(engagement, playbook, already_posted=lambda sys_id, ref: False)
    found = carriers(engagement, playbook.checks.roadmap_sync)
    ticket = found[0].record if found else (engagement.records[0] if engagement.records else None)
    labels = playbook.checks.roadmap_sync.roadmap_labels if playbook.checks.roadmap_sync else RoadmapLabels(())
    roadmap = found[0].parsed.roadmap if found and found[0].parsed else sample_roadmap(labels)
    changes = roadmap.changes(_moved(roadmap))
    for rule in playbook.rules:
        context = rule_context(base, rule)
        for condition in list(rule.when) + [c for action in rule.actions for c in action.when]:
            check_condition(playbook, condition, context)
        for action in rule.actions:
            extra = {"target": action.targets[0] if action.targets else "", "ticket": ticket,
                     "changes": changes, "problem": SAMPLE_PROBLEM, "record": _record_of(engagement, action, ticket),
                     "step": next(iter(playbook.steps.steps.values()), None)}  # each: and create's checklist
            if action.record_filter is not None:
                check_condition(playbook, action.record_filter, {**context, **extra})
            _check_action(playbook, plan, action, {**context, **extra})


def _record_of(engagement, action, fallback):
    """The record an ``each:<role>`` action is rendered with on the sample: one of that role."""
    role = next((each_role(target) for target in action.targets if each_role(target)), None)
    records = engagement.each(role) if role else ()
    return records[0] if records else fallback


def check_condition(playbook, condition, context: dict[str, Any]) -> None:
    """Evaluate one condition on the sample; RulesError when it fails or reads an unknown name."""
    result = evaluate_conditions(playbook, (condition,), context)[0]
    if result.error:
        reason = explain_missing(playbook.env, condition.tree, context, result.error) or result.reason
        raise RulesError(f"{condition.where}: condition {result.text!r} fails on the sample engagement: {reason}")
    missing = find_missing_name(playbook.env, condition.tree, context)
    if missing:
        raise RulesError(f"{condition.where}: condition {result.text!r} reads a name that does not exist: {missing}")


def _check_action(playbook, plan, action, context: dict[str, Any]) -> None:
    """Render each of the action's templates, then read each for names the sample did not reach."""
    templates = _templates_of(action, context)
    try:
        for label, source in action.options.inline_templates().items():
            if source:
                render_inline(plan, source, context, name=label)
        render_note(plan, action, context)
        for name, template_context in templates.items():
            if name != action.template:
                render_file(playbook.env, name, template_context)
    except TemplateError as error:
        reason = _template_reason(playbook.env, action, context, str(error))
        raise RulesError(f"{action.where}: fails on the sample engagement: {reason}") from None
    except (TypeError, ValueError, ArithmeticError) as error:
        # Arithmetic on a value the sample leaves unset (a date none, ``x // 2``): a pack's mistake, said as one.
        raise RulesError(f"{action.where}: fails on the sample engagement: {type(error).__name__}: {error}; "
                         f"test the value first, e.g. `(x // 2) if x is not none else 0`") from None
    _check_unreached_names(playbook.env, action, context, templates)


def _templates_of(action, context: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each template file the action names, with the names it is rendered with."""
    overflow = RoadmapError("the dates and the extra text need 171 characters", "…", 0, "at most 160")
    clock = {"gap_minutes": 7.5, "instance_time": SAMPLE_NOW, "worker_time": SAMPLE_NOW}
    extra = {"overflow_template": {"error": overflow}, "clock_flag_template": clock}
    files = action.options.template_files()
    return {name: {**context, **extra.get(key, {})} for key, name in files.items() if name}


def _check_unreached_names(env, action, context: dict[str, Any], templates: dict[str, dict[str, Any]]) -> None:
    sources = [(label, source, context) for label, source in action.options.inline_templates().items()]
    sources += [(f"template {name}", _template_source(env, name), names) for name, names in templates.items()]
    for label, source, names in sources:
        missing = find_missing_name(env, parsed_template(env, source), names) if source else ""
        if missing:
            raise RulesError(f"{action.where}: {label} reads a name that does not exist: {missing}")


def _template_reason(env, action, context: dict[str, Any], error: str) -> str:
    """The error, saying which names exist where a template read a misspelt one."""
    where = error.split(": ", 1)[0]  # "title", "key" or "template NAME.j2"
    sources = action.options.inline_templates()
    source = sources.get(where) or _template_source(env, where.removeprefix("template "))
    hint = explain_missing(env, parsed_template(env, source), context, error) if source else ""
    return f"{where}: {hint}" if hint else error


def _template_source(env, name: str) -> str:
    try:
        return env.loader.get_source(env, name)[0]
    except Exception:  # noqa: BLE001 - no hint is better than a second error
        return ""
