"""The parts of a row that come from the pack's dates: its next deadline, and what its timeline
marks (shapes, bands, the days it spans, where each open flag goes). Pure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date, datetime, timezone
from typing import Any

from ..playbook.dates import next_deadline as next_date
from ..playbook.dayrange import DayRange
from ..playbook.report_checks import TODAY
from ..playbook.report_pack import Marker, ReportPack
from .coordinator_rows import Deadline, Mark, OpenFlag, Span
from .values import day_of, days_of, is_set, text_of


def next_deadline(pack: ReportPack, dates: Mapping[str, Any], scope: Mapping[str, Any], now: datetime, zone,
                  today: date) -> Deadline | None:
    """The earliest of the pack's deadlines not met yet (an overdue one sorts first, being earlier;
    of two on one day, the first declared); with none declared, the earliest date still ahead."""
    if pack.deadlines is None:
        ahead = next_date({name: value for name, value in dates.items() if is_set(value)}, now, zone)
        return _deadline(ahead.name.replace("_", " "), dates[ahead.name], zone, today) if ahead else None
    candidates = [
        (day_of(dates.get(spec.date), zone), index, spec) for index, spec in enumerate(pack.deadlines)
        if day_of(dates.get(spec.date), zone) is not None and not _met(spec, scope)
    ]
    if not candidates:
        return None
    _, _, spec = min(candidates, key=lambda item: (item[0], item[1]))
    return _deadline(spec.label, dates[spec.date], zone, today)


def _met(spec, scope: Mapping[str, Any]) -> bool:
    """A deadline without ``met`` is met only when its date is no longer set."""
    return bool(spec.met.expressions) and spec.met.holds(scope)


def _deadline(what: str, value: Any, zone, today: date) -> Deadline:
    day = day_of(value, zone)
    text = day.isoformat() if isinstance(value, DayRange) else text_of(value, zone)
    return Deadline(what, day, text, day < today)


def marks(pack: ReportPack, dates: Mapping[str, Any], scope: Mapping[str, Any], zone) -> tuple[Mark, ...]:
    return tuple(_mark(marker, dates[marker.date], scope, zone) for marker in pack.timeline.markers
                 if day_of(dates.get(marker.date), zone) is not None)


def _mark(marker: Marker, value: Any, scope: Mapping[str, Any], zone) -> Mark:
    done = bool(marker.done.expressions) and marker.done.holds(scope)
    whole = day_of(value, zone).isoformat() if isinstance(value, DayRange) else text_of(value, zone)
    note = marker.done_note if done else marker.note
    return Mark(day_of(value, zone), f"{marker.label} {whole[5:]}", f"{marker.label}: {whole}{f' ({note})' if note else ''}",
                marker.shape, marker.done_style if done else marker.style)


def spans(pack: ReportPack, dates: Mapping[str, Any], zone) -> tuple[Span, ...]:
    found = []
    for band in pack.timeline.bands:
        if band.days:
            ends = days_of(dates.get(band.days), zone) if isinstance(dates.get(band.days), DayRange) else ()
            whole = True
        else:
            ends = tuple(day for day in (day_of(dates.get(band.start), zone), day_of(dates.get(band.end), zone)) if day)
            whole = False
        if len(ends) == 2 and ends[0] <= ends[1]:
            label = band.label.replace("{first}", f"{ends[0]:%b %d}").replace("{last}", f"{ends[1]:%b %d}")
            found.append(Span(ends[0], ends[1], label, band.colour, band.light, whole))
    return tuple(found)


def span_days(pack: ReportPack, dates: Mapping[str, Any], zone) -> tuple[date, ...]:
    """The days the timeline must show: the pack's span, else every date it draws."""
    spec = pack.timeline
    names = spec.span or [name for band in spec.bands for name in (band.start, band.end, band.days) if name] + [
        marker.date for marker in spec.markers]
    return tuple(day for name in names for day in days_of(dates.get(name), zone))


def place_flags(pack: ReportPack, flags: Sequence[OpenFlag], dates: Mapping[str, Any], zone,
                today: date) -> tuple[OpenFlag, ...]:
    """Each flag with its label and the day it concerns, from the pack's report.timeline.flags."""
    placed = []
    for flag in flags:
        place = next((p for p in pack.timeline.flags if p.rule == flag.rule and p.kind in ("", flag.kind)), None)
        label = place.label if place and place.label else flag.rule.replace("_", " ")
        days = [today if name == TODAY else day_of(dates.get(name), zone) for name in (place.at if place else ())]
        day = next((day for day in days if day), None) or flag.opened_at.astimezone(timezone.utc).date()
        placed.append(replace(flag, label=label, day=day))
    return tuple(placed)


# --- steps as bars ---------------------------------------------------------------------------

STEP_COLOURS = (("done", "green"), ("overdue", "red"), ("warn", "gold"), ("started", "sky"))


def step_spans(steps: Any, zone) -> tuple[Span, ...]:
    """Each step of the engagement (conditions' ``steps``) as a bar from its start to when it was
    done, else its projected finish or due time; a step with no start yet is left out."""
    groups = getattr(steps, "groups", None) or {}
    return tuple(span for group in groups.values() for step in group.items.values()
                 for span in _step_span(step, group.title, zone))


def _step_span(step: Any, group: str, zone) -> tuple[Span, ...]:
    first = day_of(step.started_at or step.start, zone)
    last = day_of(step.done_at or step.projected_finish or step.due, zone) or first
    if first is None or last < first:
        return ()
    colour = next((colour for state, colour in STEP_COLOURS if getattr(step, state)), "grey")
    title = step.title or step.id or group
    return (Span(first, last, f"{title}: {step.state}", colour, light=not step.done, whole_days=True),)
