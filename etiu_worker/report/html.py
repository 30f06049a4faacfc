"""The coordinator's report as one self-contained HTML page.

The page needs no network to be viewed: CSS and SVG are inline, there is no script, no web font,
no image file and no link outside the page (anchors only). Every value that comes from a record
(client names, flag messages, assignees) goes through Jinja2's autoescaping. The page itself is
the template templates/report.html.j2, shipped inside the package; the timelines' geometry
comes from timeline.py, the phases, columns, views and legend from the pack's report data.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path

from jinja2 import Environment, PackageLoader, StrictUndefined

from .coordinator_rows import CoordinatorReport, EngagementRow, phase_counts, view_rows
from .timeline import AXIS_Y, BAND_HALF, FLAG_Y, LABEL_LEVELS, WIDTH, Timeline, timeline

DEFAULT_COLOUR = "grey"


@dataclass(frozen=True)
class Card:
    anchor: str
    row: EngagementRow
    timeline: Timeline
    phase_class: str


def render_report(report: CoordinatorReport, rows: Iterable[EngagementRow], *, title: str = "",
                  selection: str = "") -> str:
    """The page for these rows (the selection the command line asked for) of the report."""
    pack = report.pack
    shown = list(rows)
    classes = phase_classes(report)
    empty = pack.timeline.empty if pack else "No dates to draw yet."
    cards = [Card(f"eng-{index}", row, timeline(row, empty), classes.get(row.phase, f"c-{DEFAULT_COLOUR}"))
             for index, row in enumerate(shown, 1)]
    anchors = {card.row.key: card.anchor for card in cards}
    views = [{"view": view, "rows": view_rows(shown, view.name)} for view in (pack.views if pack else ())]
    labels = [cell.label for cell in shown[0].cells] if shown else [c.label for c in (pack.columns if pack else ()) if c.label]
    return _environment().get_template("report.html.j2").render(
        title=title or (pack.title if pack else "Engagements"),
        report=report,
        selection=selection,
        cards=cards,
        anchors=anchors,
        views=views,
        columns=[label[:1].upper() + label[1:] for label in labels],
        counts=phase_counts(shown, report.phases),
        phase_classes=classes,
        legend=pack.timeline if pack else None,
        generated=_utc_text(report.generated_at),
        last_run=report.last_run,
        last_run_at=_utc_text(report.last_run.finished_at or report.last_run.started_at) if report.last_run else "",
        label_y=LABEL_LEVELS,
        axis_y=AXIS_Y,
        band_half=BAND_HALF,
        flag_y=FLAG_Y,
        width=WIDTH,
    )


def phase_classes(report: CoordinatorReport) -> dict[str, str]:
    """Each phase's badge class: its colour in the pack."""
    phases = report.pack.phases if report.pack else ()
    return {phase.name: f"c-{phase.colour}" for phase in phases}


def write_report(path: Path, report: CoordinatorReport, rows: Iterable[EngagementRow], **options: str) -> Path:
    """Write the page next to its final name, then rename it: a reader never sees half a page."""
    path = Path(path)
    page = render_report(report, rows, **options)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(page, encoding="utf-8")
    temporary.replace(path)
    return path


def _utc_text(moment: datetime | None) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC") if moment else ""


def _date(value: date | None) -> str:
    return value.isoformat() if value else "—"


def _short(text: str, width: int = 12) -> str:
    """A long value (a sys_id) cut for a table cell; the cell's title holds it whole."""
    return text if len(text) <= width else text[: width - 1] + "…"



def _environment() -> Environment:
    env = Environment(loader=PackageLoader("etiu_worker.report", "templates"), autoescape=True,
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["d"] = _date
    env.filters["short"] = _short
    return env
