"""Checks of a pack's report data at load: names that must exist, and every condition tried on the
sample engagement, as rules are (``sample``), so that a misspelt name fails before any report.

``pick_phase`` is how a row's phase is chosen; the report uses it too, so the sample goes the
same way as a real engagement.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Iterable, Mapping

from jinja2 import TemplateError as JinjaTemplateError

from ..errors import RulesError
from .condition_check import StateNames, check_state_names, explain_missing, find_missing_name
from .context_names import check_declared
from .dates import failures
from .expressions import Expression
from .names import did_you_mean
from .report_pack import Check, ReportPack, dates_of, phase_scope, row_scope, view_scope

EVALUATION_ERRORS = (JinjaTemplateError, TypeError, ValueError, AttributeError, ArithmeticError, KeyError)
TODAY = "today"  # a flag placed on the day the report is made


def pick_phase(pack: ReportPack, scope: Mapping[str, Any]) -> tuple[str, str]:
    """(phase, stage): the first phase that holds, and the first that holds and is not an aside."""
    held = [phase for phase in pack.phases if phase.when.holds(scope)]
    phase = held[0].name if held else ""
    stage = next((item.name for item in held if not item.aside), phase)
    return phase, stage


def check_report(pack: ReportPack, path: Any, states: StateNames, env: Any, context: Mapping[str, Any],
                 now: datetime, checks: frozenset[str] | None = None) -> None:
    """RulesError on the first mistake, naming the file and the key path; ``checks`` are the
    built-in checks the pack declares (None: do not look for their names)."""
    _check_names(pack, f"{path}: ")
    for expression in _conditions(pack):
        check_state_names(expression.tree, states, expression.where, lambda _, e=expression: f"condition {e.source!r}")
        if checks is not None:
            check_declared(expression.tree, set(checks), expression.where, f"condition {expression.source!r}")
    _check_on_sample(pack, env, context, now, f"{path}: ")


def _conditions(pack: ReportPack) -> list[Expression]:
    checks: list[Check] = [phase.when for phase in pack.phases] + [view.when for view in pack.views]
    checks += [deadline.met for deadline in pack.deadlines or ()] + [m.done for m in pack.timeline.markers]
    return [expression for check in checks for expression in check.expressions]


# --- names -----------------------------------------------------------------------------------


def _check_names(pack: ReportPack, where: str) -> None:
    phases = [phase.name for phase in pack.phases]
    _unique(phases, f"{where}phases", "phase")
    if pack.unreadable_phase and pack.unreadable_phase not in phases:
        raise RulesError(f"{where}report.unreadable_phase: {pack.unreadable_phase!r} is not a phase"
                         f"{did_you_mean(pack.unreadable_phase, phases)}; the phases are {', '.join(phases) or 'none'}")
    dates = list(pack.dates.names)
    for index, deadline in enumerate(pack.deadlines or ()):
        _date_name(deadline.date, dates, f"{where}report.deadlines[{index}].date")
    _check_columns(pack, where)
    _check_timeline(pack, where, dates)


def _check_columns(pack: ReportPack, where: str) -> None:
    for index, column in enumerate(pack.columns):
        if not (column.label or column.field):
            raise RulesError(f"{where}report.columns[{index}]: give the column a label (the table), a field "
                             f"(JSON and CSV) or both")
    _unique([c.label for c in pack.columns if c.label], f"{where}report.columns", "column label")
    _unique([c.field for c in pack.columns if c.field], f"{where}report.columns", "column field")
    _unique([view.name for view in pack.views], f"{where}report.views", "view")
    labels = [column.label for column in pack.columns if column.label]
    for index, view in enumerate(pack.views):
        if view.detail and view.detail not in labels:
            raise RulesError(f"{where}report.views[{index}].detail: {view.detail!r} is not a column label"
                             f"{did_you_mean(view.detail, labels)}; the labels are {', '.join(labels) or 'none'}")


def _check_timeline(pack: ReportPack, where: str, dates: list[str]) -> None:
    spec = pack.timeline
    for index, name in enumerate(spec.span):
        _date_name(name, dates, f"{where}report.timeline.span[{index}]")
    for index, band in enumerate(spec.bands):
        key = f"{where}report.timeline.bands[{index}]"
        ends = bool(band.start and band.end)
        if bool(band.days) == bool(band.start or band.end) or not (band.days or ends):
            raise RulesError(f"{key}: give either days (a range of days) or start and end (two dates), not both")
        for name, part in ((band.days, "days"), (band.start, "start"), (band.end, "end")):
            if name:
                _date_name(name, dates, f"{key}.{part}")
    for index, marker in enumerate(spec.markers):
        _date_name(marker.date, dates, f"{where}report.timeline.markers[{index}].date")
    for index, place in enumerate(spec.flags):
        key = f"{where}report.timeline.flags[{index}]"
        # The rule is not checked: an admin may take a rule out of a copy of the pack and keep its report data.
        for position, name in enumerate(place.at):
            if name != TODAY:
                _date_name(name, dates + [TODAY], f"{key}.at[{position}]")


def _date_name(name: str, dates: list[str], key: str) -> None:
    if name not in dates:
        listed = ", ".join(dates) or "none"
        raise RulesError(f"{key}: {name!r} is not a declared date{did_you_mean(name, dates)}; declare it under "
                         f"[dates] or use one that is (the dates are: {listed})")


def _unique(names: list[str], key: str, what: str) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise RulesError(f"{key}: the {what} {name!r} is declared twice; give each its own name")
        seen.add(name)


# --- the sample engagement -------------------------------------------------------------------


def _check_on_sample(pack: ReportPack, env: Any, context: Mapping[str, Any], now: datetime, where: str) -> None:
    dates = dates_of(pack, context)
    for name, why in failures(dates).items():
        raise RulesError(f"{where}dates.{name}: fails on the sample engagement: {why}")
    scope = phase_scope(context, dates)
    for phase in pack.phases:
        _try(env, phase.when.expressions, scope)
    phase, stage = pick_phase(pack, scope)
    scope = row_scope(scope, phase, stage)
    for check in [deadline.met for deadline in pack.deadlines or ()] + [m.done for m in pack.timeline.markers]:
        _try(env, check.expressions, scope)
    fields = {column.field or column.label: _try(env, (column.value,), scope) for column in pack.columns}
    today = now.astimezone(context["zone"]).date()
    views = view_scope(scope, fields, today, context["zone"], False)
    for view in pack.views:
        _try(env, view.when.expressions, views)


def _try(env: Any, expressions: Iterable[Expression], scope: Mapping[str, Any]) -> Any:
    value = None
    for expression in expressions:
        try:
            value = expression.evaluate(scope)
        except EVALUATION_ERRORS as error:
            reason = explain_missing(env, expression.tree, scope, str(error)) or f"{type(error).__name__}: {error}"
            raise RulesError(f"{expression.where}: {expression.source!r} fails on the sample engagement: {reason}") from None
        missing = find_missing_name(env, expression.tree, scope)
        if missing:
            raise RulesError(f"{expression.where}: {expression.source!r} reads a name that does not exist: {missing}")
    return value


# --- at pack load ----------------------------------------------------------------------------


def load_report(folder: Any, pack: Any, playbook: Any, states: StateNames, context: Mapping[str, Any],
                now: datetime) -> ReportPack:
    """The pack's report data, compiled and checked against the sample engagement's ``context``
    at ``now``; a folder in the old layout (which holds no report data) takes the shipped pack's,
    as its report showed before packs."""
    from .pack_file import read_pack_file
    from .pack_folders import DEFAULT_PACK, shipped_pack
    from .report_pack import compile_report

    path = folder.pack_file
    if folder.legacy and not pack.phases:
        path = shipped_pack(DEFAULT_PACK) / "pack.toml"
        pack = read_pack_file(path, needs_pack_table=True)
    markers = (pack.pack.flag_marker, pack.pack.warning_marker) if pack.pack else ()
    latches = tuple(getattr(pack, "latches", None) or ())  # a pack file that declares latches
    report = compile_report(path, pack.phases, pack.report, pack.dates, playbook.env, markers, latches)
    check_report(report, path, states, playbook.env, context, now, frozenset(playbook.checks.declared))
    return report
