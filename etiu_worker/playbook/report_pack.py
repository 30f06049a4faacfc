"""The pack's data for the coordinator's report, compiled at load: phases, deadlines, columns,
views and the timeline, each condition a compiled expression (see ``report_file`` for the shapes
as written and ``report_checks`` for the checks against the sample engagement).

What each condition reads (the scopes below are the one place they are defined):

* phases: the rules' condition context, and ``dates`` (the pack's ``[dates]``);
* deadlines' ``met``, columns and markers' ``done``: the same, and ``phase`` and ``stage``
  (the phase, and how far the engagement got: the phase, but for an aside phase);
* views: the same, and ``fields`` (the columns' values by field), ``this_week`` (Monday to
  Sunday of today in the engagement's zone, a range of days) and ``flagged``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Mapping

from ..errors import RulesError
from .dates import NamedDates, compile_dates
from .dayrange import DayRange
from .expressions import Expression, compile_expression
from .report_file import Conditions, PhaseFile, ReportFile


@dataclass(frozen=True)
class Check:
    """Conditions that must all hold; none always holds."""

    expressions: tuple[Expression, ...] = ()

    def holds(self, scope: Mapping[str, Any]) -> bool:
        return all(bool(expression.evaluate(scope)) for expression in self.expressions)


@dataclass(frozen=True)
class Phase:
    """A ``[[phases]]`` entry, compiled."""

    name: str
    when: Check
    description: str
    colour: str
    aside: bool


@dataclass(frozen=True)
class DeadlineSpec:
    """A ``[[report.deadlines]]`` entry, compiled."""

    date: str
    label: str
    met: Check


@dataclass(frozen=True)
class Column:
    """A ``[[report.columns]]`` entry, compiled."""

    label: str
    field: str
    value: Expression
    short: str = ""


@dataclass(frozen=True)
class View:
    """A ``[[report.views]]`` entry, compiled."""

    name: str
    title: str
    description: str
    when: Check
    detail: str


@dataclass(frozen=True)
class Band:
    """A ``[[report.timeline.bands]]`` entry."""

    label: str
    colour: str
    light: bool
    start: str
    end: str
    days: str


@dataclass(frozen=True)
class Marker:
    """A ``[[report.timeline.markers]]`` entry, compiled."""

    date: str
    label: str
    shape: str
    style: str
    done: Check
    done_style: str
    note: str
    done_note: str


@dataclass(frozen=True)
class FlagPlace:
    """A ``[[report.timeline.flags]]`` entry."""

    rule: str
    kind: str
    label: str
    at: tuple[str, ...]


@dataclass(frozen=True)
class TimelineSpec:
    """``[report.timeline]``, compiled."""

    span: tuple[str, ...]
    empty: str
    bands: tuple[Band, ...]
    markers: tuple[Marker, ...]
    flags: tuple[FlagPlace, ...]
    steps: bool = False


@dataclass(frozen=True)
class ReportPack:
    """One pack's report: what its rows show and how its page draws them."""

    title: str
    phases: tuple[Phase, ...]  # in match order: the first that holds is the phase
    unreadable_phase: str
    deadlines: tuple[DeadlineSpec, ...] | None  # none: every declared date still ahead
    columns: tuple[Column, ...]
    views: tuple[View, ...]
    timeline: TimelineSpec
    dates: NamedDates
    markers: tuple[str, ...] = ()  # the flag markers notes start with, left out of the report's messages

    @property
    def phase_names(self) -> tuple[str, ...]:
        """The phases in the order people read them: from where an engagement starts (the last)."""
        return tuple(reversed([phase.name for phase in self.phases]))

    @property
    def views_by_name(self) -> dict[str, View]:
        return {view.name: view for view in self.views}

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(column.field for column in self.columns if column.field)


# --- scopes: the names each kind of condition reads ------------------------------------------


def dates_of(pack: ReportPack, context: Mapping[str, Any]) -> Mapping[str, Any]:
    """The engagement's dates: those the context already holds (computed with the pack's latches,
    as its rules see them), else computed here from the pack's ``[dates]``."""
    computed = context.get("dates")
    return computed if isinstance(computed, Mapping) else pack.dates.evaluate(context)


def phase_scope(context: Mapping[str, Any], dates: Mapping[str, Any]) -> dict[str, Any]:
    return {**context, "dates": dates}


def row_scope(scope: Mapping[str, Any], phase: str, stage: str) -> dict[str, Any]:
    return {**scope, "phase": phase, "stage": stage}


def view_scope(scope: Mapping[str, Any], fields: Mapping[str, Any], today: date, zone: Any,
               flagged: bool) -> dict[str, Any]:
    monday = today - timedelta(days=today.weekday())
    week = DayRange(tuple(monday + timedelta(days=n) for n in range(7)), zone)
    return {**scope, "fields": dict(fields), "this_week": week, "flagged": flagged}


# --- compiling -------------------------------------------------------------------------------


def compile_report(path: Path, phases: list[PhaseFile], report: ReportFile, dates: Mapping[str, str], env: Any,
                   markers: tuple[str, ...] = (), latches: tuple[str, ...] = ()) -> ReportPack:
    """The report data of pack.toml compiled; RulesError naming the file and the key path.
    ``latches`` are the names of the pack's latches, which its dates may read."""
    where = f"{path}: "
    try:
        named = compile_dates(dict(dates), env, latches)
    except RulesError as error:
        raise RulesError(f"{where}{error}") from None
    return ReportPack(
        title=report.title,
        phases=tuple(_phase(env, where, index, phase) for index, phase in enumerate(phases)),
        unreadable_phase=report.unreadable_phase,
        deadlines=None if report.deadlines is None else tuple(
            DeadlineSpec(item.date, item.label, _check(env, f"{where}report.deadlines[{index}].met", item.met))
            for index, item in enumerate(report.deadlines)),
        columns=tuple(Column(item.label, item.field,
                             compile_expression(env, item.value, f"{where}report.columns[{index}].value"), item.short or item.label)
                      for index, item in enumerate(report.columns)),
        views=tuple(View(item.name, item.title, item.description,
                         _check(env, f"{where}report.views[{index}].when", item.when), item.detail)
                    for index, item in enumerate(report.views)),
        timeline=_timeline(env, where, report),
        dates=named,
        markers=tuple(marker for marker in markers if marker),
    )


def _phase(env: Any, where: str, index: int, phase: PhaseFile) -> Phase:
    return Phase(phase.name, _check(env, f"{where}phases[{index}].when", phase.when), phase.description,
                 phase.colour, phase.aside)


def _timeline(env: Any, where: str, report: ReportFile) -> TimelineSpec:
    spec = report.timeline
    markers = tuple(
        Marker(item.date, item.label, item.shape, item.style,
               _check(env, f"{where}report.timeline.markers[{index}].done", item.done),
               item.done_style or item.style, item.note, item.done_note)
        for index, item in enumerate(spec.markers))
    bands = tuple(Band(item.label, item.colour, item.light, item.start, item.end, item.days) for item in spec.bands)
    flags = tuple(FlagPlace(item.rule, item.kind, item.label, tuple(item.at)) for item in spec.flags)
    return TimelineSpec(tuple(spec.span), spec.empty, bands, markers, flags, spec.steps)


def _check(env: Any, where: str, conditions: Conditions) -> Check:
    sources = [conditions] if isinstance(conditions, str) else list(conditions)
    return Check(tuple(compile_expression(env, source, where) for source in sources))
