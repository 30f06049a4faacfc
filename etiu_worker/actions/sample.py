"""A sample engagement that every condition and template is tried against when rules load.

It has every record a rule can name (all five tickets, the change request, the planned-dates
CTASK) so that a misspelt name fails at load time under StrictUndefined, before any request; and
each condition and template is read for names in the branches the sample does not reach.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from ..playbook.condition_check import explain_missing, find_missing_name
from ..playbook.context import build_context, compute_facts, rule_context
from ..errors import RoadmapError, RulesError, TemplateError
from ..playbook.evaluate import evaluate_conditions
from ..engagement.model import EngagementBuilder, Problem
from ..engagement.roadmap import parse_short_description
from .base import Plan, render_inline, render_note
from ..playbook.templates import render_file

SAMPLE_NOW = datetime(2026, 11, 16, 15, 0, tzinfo=timezone.utc)
SAMPLE_PROBLEM = Problem("duplicate-code:ETIU02", "2 tickets carry the code ETIU02: ETIU0001002, ETIU0001009", "u_etiu_ticket", "2" * 32, "ETIU0001002")
ROADMAP = "Kickoff: 2026-11-02 | Dev upgrade: 2026-11-05 | Prod upgrade: 2026-11-24 18:00 EST | BP: 2026-11-26 | Support week: 2026-11-25"


def sample_records(schema) -> tuple[list[dict], list[dict], list[dict]]:
    t, c, k = schema.ticket, schema.change, schema.ctask
    titles = {"kickoff": "Kickoff and guided tour", "dev_upgrade": "Dev upgrade and technical validation",
              "validation": "Client process validation", "best_practices": "Best practices session",
              "support_week": "Support week"}
    tickets = [
        {"sys_id": f"{index:032x}", "number": f"ETIU000100{index}", t.engagement: "ENG-SAMPLE",
         t.code: getattr(schema.codes, role), t.state: schema.ticket_states.work_in_progress,
         t.short_description: f"{title} - Sample Client | {ROADMAP}", t.work_start: "2026-11-13 14:00:00",
         "sys_updated_on": "2026-11-13 14:00:00"}
        for index, (role, title) in enumerate(titles.items(), start=1)
    ]
    change = {"sys_id": "c" * 32, "number": "CHG0030001", c.engagement: "ENG-SAMPLE",
              c.planned_start: "2026-11-24 23:00:00", c.planned_end: "2026-11-25 02:00:00",
              c.state: schema.change_states.scheduled, c.timezone: "America/New_York",
              "sys_updated_on": "2026-11-13 14:00:00"}
    ctask = {"sys_id": "d" * 32, "number": "CTASK0010001", k.change_request: "c" * 32,
             k.short_description: "Please provide the planned start date and end date",
             k.state: schema.ctask_states.closed, "sys_updated_on": "2026-11-13 14:00:00"}
    return tickets, [change], [ctask]


def sample_context(playbook) -> tuple[Any, dict[str, Any]]:
    builder = EngagementBuilder(playbook.schema, "America/New_York")
    engagement = builder.build(*sample_records(playbook.schema))[0]
    memory = {"roadmap": ROADMAP}
    facts = compute_facts(engagement, playbook, memory, SAMPLE_NOW)
    return engagement, build_context(engagement, facts, playbook, SAMPLE_NOW)


def check_against_sample(playbook) -> None:
    """Evaluate every condition and render every template once; raise RulesError on the first failure."""
    engagement, base = sample_context(playbook)
    plan = Plan(engagement, playbook, already_posted=lambda sys_id, ref: False)
    ticket = engagement.tickets[0]
    changes = ticket.parsed.roadmap.changes(parse_short_description("Kickoff: 2026-11-03").roadmap)
    for rule in playbook.rules:
        context = rule_context(base, rule)
        for condition in list(rule.when) + [c for action in rule.actions for c in action.when]:
            check_condition(playbook, condition, context)
        for action in rule.actions:
            extra = {"target": action.targets[0] if action.targets else "validation", "ticket": ticket,
                     "changes": changes, "problem": SAMPLE_PROBLEM, "record": ticket,
                     "step": next(iter(playbook.steps.steps.values()), None)}  # each: and create's checklist
            _check_action(playbook, plan, action, {**context, **extra})


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
        missing = find_missing_name(env, env.parse(source), names) if source else ""
        if missing:
            raise RulesError(f"{action.where}: {label} reads a name that does not exist: {missing}")


def _template_reason(env, action, context: dict[str, Any], error: str) -> str:
    """The error, saying which names exist where a template read a misspelt one."""
    where = error.split(": ", 1)[0]  # "title", "key" or "template NAME.j2"
    sources = action.options.inline_templates()
    source = sources.get(where) or _template_source(env, where.removeprefix("template "))
    hint = explain_missing(env, env.parse(source), context, error) if source else ""
    return f"{where}: {hint}" if hint else error


def _template_source(env, name: str) -> str:
    try:
        return env.loader.get_source(env, name)[0]
    except Exception:  # noqa: BLE001 - no hint is better than a second error
        return ""
