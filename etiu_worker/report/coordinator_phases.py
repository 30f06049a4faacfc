"""One engagement's row of the coordinator's report, as its pack's report data says. Pure.

The row's phase is the first of the pack's ``[[phases]]`` whose conditions hold, over the names
the pack's rules see for the engagement (``engagement_context``) and the pack's ``[dates]``; its
columns, next deadline, views and timeline follow from the pack's ``[report]`` (``row_parts``).
An engagement whose names cannot be computed is in the pack's ``report.unreadable_phase``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import date, datetime
from typing import Any

from ..playbook.report_checks import pick_phase
from ..playbook.report_pack import ReportPack, dates_of, phase_scope, row_scope, view_scope
from ..state.journal import Flag
from .coordinator_rows import Cell, EngagementRow, OpenFlag
from .engagement_context import assignees_of, client_of, engagement_context, problems_of
from .row_parts import marks, next_deadline, place_flags, span_days, spans, step_spans
from .values import data_of, day_of, is_set, text_of


def build_rows(
    engagements: Iterable[Any],
    memories: Mapping[str, Mapping[str, Any]],
    flags: Iterable[Flag],
    playbook,
    now: datetime,
    names: Mapping[str, str] | None = None,
) -> list[EngagementRow]:
    """One row per engagement, most pressing deadline first (overdue ones on top); ``names`` maps
    assignees' sys_ids to the names shown."""
    flags_by_key: dict[str, list[Flag]] = defaultdict(list)
    for flag in flags:
        flags_by_key[flag.engagement].append(flag)
    rows = [
        engagement_row(engagement, memories.get(engagement.key, {}), flags_by_key.get(engagement.key, []), playbook,
                       now, names or {})
        for engagement in engagements
    ]
    far = date.max
    return sorted(rows, key=lambda row: (row.next_deadline.day if row.next_deadline else far, row.key))


def engagement_row(engagement, memory: Mapping[str, Any], flags: Sequence[Flag], playbook, now: datetime,
                   names: Mapping[str, str] | None = None) -> EngagementRow:
    pack: ReportPack = playbook.report
    ids = assignees_of(engagement, playbook)
    shown = tuple(dict.fromkeys((names or {}).get(value, value) for value in ids))
    base = EngagementRow(
        key=engagement.key, client=client_of(engagement, playbook, now), phase=_first_phase(pack), stage=_first_phase(pack),
        cells=(), fields={}, flags=_open_flags(flags, pack.markers), next_deadline=None,
        consultant=shown[0] if shown else "", consultants=shown, today=now.astimezone(engagement.zone).date(),
        zone=engagement.zone.key, problems=problems_of(engagement), consultant_ids=ids,
    )
    try:
        context = engagement_context(engagement, playbook, memory, now)
        return _row(pack, base, context, engagement.zone, now)
    except Exception as error:  # noqa: BLE001 - like a cycle: one engagement's bad data must not stop the report
        why = base.problems + (f"could not be evaluated: {type(error).__name__}: {error}",)
        return _unreadable(pack, base, why)


def _row(pack: ReportPack, base: EngagementRow, context: Mapping[str, Any], zone, now: datetime) -> EngagementRow:
    dates = dates_of(pack, context)
    scope = phase_scope(context, dates)
    phase, stage = pick_phase(pack, scope)
    scope = row_scope(scope, phase, stage)
    values = {index: column.value.evaluate(scope) for index, column in enumerate(pack.columns)}
    fields = {column.field: data_of(values[index], zone) for index, column in enumerate(pack.columns) if column.field}
    cells = tuple(Cell(column.label, text_of(values[index], zone), column.short, day_of(values[index], zone) is not None
                       or not is_set(values[index]) and not isinstance(values[index], (list, tuple)))
                  for index, column in enumerate(pack.columns) if column.label)
    views = view_scope(scope, {c.field: values[i] for i, c in enumerate(pack.columns) if c.field}, base.today, zone,
                       bool(base.flags))
    return replace(
        base, phase=phase, stage=stage, cells=cells, fields=fields,
        flags=place_flags(pack, base.flags, dates, zone, base.today),
        next_deadline=next_deadline(pack, dates, scope, now, zone, base.today),
        views=frozenset(view.name for view in pack.views if view.when.holds(views)),
        marks=marks(pack, dates, scope, zone), **_timeline(pack, dates, scope, zone),
    )


def _timeline(pack: ReportPack, dates: Mapping[str, Any], scope: Mapping[str, Any], zone) -> dict[str, Any]:
    bars = step_spans(scope.get("steps"), zone) if pack.timeline.steps else ()
    days = tuple(day for bar in bars for day in (bar.first, bar.last))
    return {"spans": spans(pack, dates, zone) + bars, "span_days": span_days(pack, dates, zone) + days}


def _unreadable(pack: ReportPack, base: EngagementRow, problems: tuple[str, ...]) -> EngagementRow:
    phase = pack.unreadable_phase or _first_phase(pack)
    return replace(base, phase=phase, problems=problems)


def _first_phase(pack: ReportPack) -> str:
    """Where an engagement starts: the last phase in match order."""
    return pack.phases[-1].name if pack.phases else ""


def _open_flags(flags: Sequence[Flag], markers: Sequence[str]) -> tuple[OpenFlag, ...]:
    """The engagement's open flags, one per problem: the same note posted on two records is one
    problem on two records."""
    grouped: dict[tuple[str, str], list[Flag]] = {}
    for flag in sorted(flags, key=lambda flag: (flag.opened_at, flag.id)):
        grouped.setdefault((flag.rule, flag.message), []).append(flag)
    result = []
    for (rule, message), same in grouped.items():
        numbers = tuple(dict.fromkeys(flag.number for flag in same if flag.number))
        first = same[0]
        result.append(OpenFlag(rule, first.severity, _without_markers(message, markers), numbers, first.opened_at,
                               first.kind))
    return tuple(result)


def _without_markers(message: str, markers: Sequence[str]) -> str:
    # The marker is for people reading the note; the journal holds the severity itself.
    for marker in markers:
        message = message.removeprefix(marker)
    return message.strip()
