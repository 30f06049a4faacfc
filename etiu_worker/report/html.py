"""The coordinator's report as one self-contained HTML page.

The page needs no network to be viewed: CSS and SVG are inline, there is no script, no web font,
no image file and no link outside the page (anchors only). Every value that comes from a record
(client names, flag messages, assignees) goes through Jinja2's autoescaping. The page itself is
the template templates/report.html.j2, shipped inside the package; the timelines' geometry
comes from report_timeline.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path

from jinja2 import Environment, PackageLoader, StrictUndefined

from .coordinator_rows import (
    PHASES,
    VIEWS,
    CoordinatorReport,
    EngagementRow,
    phase_counts,
    view_rows,
)
from .timeline import AXIS_Y, BAND_HALF, FLAG_Y, LABEL_LEVELS, WIDTH, Timeline, timeline

PHASE_CLASSES = {phase: "phase-" + phase.replace(" ", "-") for phase in PHASES}


@dataclass(frozen=True)
class Card:
    anchor: str
    row: EngagementRow
    timeline: Timeline
    phase_class: str


def render_report(report: CoordinatorReport, rows: Iterable[EngagementRow], *, title: str = "ETIU engagements",
                  selection: str = "") -> str:
    """The page for these rows (the selection the command line asked for) of the report."""
    shown = list(rows)
    cards = [Card(f"eng-{index}", row, timeline(row), PHASE_CLASSES[row.phase]) for index, row in enumerate(shown, 1)]
    anchors = {card.row.key: card.anchor for card in cards}
    views = [
        {"view": view, "rows": view_rows(shown, view.name)} for view in VIEWS.values()
    ]
    return _environment().get_template("report.html.j2").render(
        title=title,
        report=report,
        selection=selection,
        cards=cards,
        anchors=anchors,
        views=views,
        counts=phase_counts(shown),
        phase_classes=PHASE_CLASSES,
        generated=_utc_text(report.generated_at),
        last_run=report.last_run,
        last_run_at=_utc_text(report.last_run.finished_at or report.last_run.started_at) if report.last_run else "",
        label_y=LABEL_LEVELS,
        axis_y=AXIS_Y,
        band_half=BAND_HALF,
        flag_y=FLAG_Y,
        width=WIDTH,
    )


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
