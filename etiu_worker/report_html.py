"""The coordinator's report as one self-contained HTML page.

The page needs no network to be viewed: CSS and SVG are inline, there is no script, no web font,
no image file and no link outside the page (anchors only). Every value that comes from a record
(client names, flag messages, assignees) goes through Jinja2's autoescaping.

Each engagement gets a timeline, an inline SVG from its kickoff to the end of its support week:
the kickoff and dev upgrade, client validation up to the prod upgrade, the support week and the
grace days after it, the BP session, today, and the open flags marked at the date they concern.
The geometry is computed here; the template only draws it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from jinja2 import DictLoader, Environment, StrictUndefined

from .coordinator import (
    PHASES,
    VIEWS,
    CoordinatorReport,
    EngagementRow,
    OpenFlag,
    phase_counts,
    view_rows,
)

WIDTH = 1000  # the timeline's viewBox width; it scales to the page
LEFT, RIGHT = 16, 16
AXIS_Y = 78
BAND_HALF = 8
LABEL_LEVELS = (58, 42, 26, 10)  # baselines of milestone labels, nearest the axis first
FLAG_Y = 112
FLAG_LEVELS = (132, 146, 160)
LABEL_CHAR_PX = 6.2  # average width of a character at 11px, to keep labels apart
TICK_GAP = 48  # px between two date labels under the axis
TODAY_SLACK_DAYS = 7  # today widens the range when it is this close to it

# Where on the timeline each rule's flags belong; others at the day they were opened.
FLAG_ANCHORS = {
    "planned_window_verified": "prod_upgrade",
    "roadmap_in_sync": "prod_upgrade",
    "validation_length": "validation_due",
    "bp_in_support_week": "bp",
    "support_week_ends": "support_week_last",
    "engagement_sanity": "today",
}
FLAG_LABELS = {
    "planned_window_verified": "planned window",
    "roadmap_in_sync": "roadmap / schedule",
    "validation_length": "validation overdue",
    "bp_in_support_week": "BP outside support week",
    "support_week_ends": "support week over, BP open",
    "engagement_sanity": "records need a person",
    "write_verification": "write did not save",
}
# Finer labels where a rule flags several kinds of problem (the first part of its flag key).
FLAG_KIND_LABELS = {
    ("roadmap_in_sync", "cancelled"): "upgrade cancelled",
    ("roadmap_in_sync", "moved"): "upgrade moved",
    ("roadmap_in_sync", "conflict"): "roadmap conflict",
    ("bp_in_support_week", "grace"): "BP in grace days",
    ("bp_in_support_week", "missing"): "no BP date",
}
FLAG_KIND_ANCHORS = {("roadmap_in_sync", "conflict"): "today"}
PHASE_CLASSES = {phase: "phase-" + phase.replace(" ", "-") for phase in PHASES}


# --- geometry -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Band:
    x: float
    width: float
    css: str
    label: str


@dataclass(frozen=True)
class Marker:
    x: float
    shape: str  # circle, diamond, square, ring
    css: str
    label: str
    title: str
    label_y: float = LABEL_LEVELS[0]
    anchor: str = "middle"


@dataclass(frozen=True)
class Tick:
    x: float
    label: str


@dataclass(frozen=True)
class FlagMark:
    x: float
    css: str  # problem or warning
    label: str
    title: str
    label_y: float = FLAG_LEVELS[0]
    anchor: str = "middle"


@dataclass(frozen=True)
class Timeline:
    height: int
    start: date | None
    end: date | None
    axis: tuple[float, float] = (LEFT, WIDTH - RIGHT)
    bands: tuple[Band, ...] = ()
    markers: tuple[Marker, ...] = ()
    ticks: tuple[Tick, ...] = ()
    flags: tuple[FlagMark, ...] = ()
    today_x: float | None = None
    today_edge: str = ""  # "before" or "after" when today is off the drawn range
    empty_reason: str = ""


@dataclass
class _Scale:
    start: date
    end: date
    per_day: float = field(init=False)

    def __post_init__(self) -> None:
        self.per_day = (WIDTH - LEFT - RIGHT) / ((self.end - self.start).days + 1)

    def left(self, day: date) -> float:
        return round(LEFT + (day - self.start).days * self.per_day, 1)

    def middle(self, day: date) -> float:
        return round(self.left(day) + self.per_day / 2, 1)

    def right(self, day: date) -> float:
        return round(self.left(day) + self.per_day, 1)

    def clip(self, day: date) -> date:
        return min(max(day, self.start), self.end)


def timeline(row: EngagementRow) -> Timeline:
    """The engagement's timeline, from kickoff to the end of the support week."""
    roadmap = row.roadmap
    dates = [day for day in (roadmap.kickoff, roadmap.dev_upgrade, roadmap.prod_upgrade_day, roadmap.bp,
                             roadmap.support_week, roadmap.support_week_last, row.validation_due) if day]
    if not dates:
        return Timeline(height=60, start=None, end=None, empty_reason="No roadmap dates to draw yet.")
    start, end = min(dates), max(dates)
    if start - timedelta(days=TODAY_SLACK_DAYS) <= row.today < start:
        start = row.today
    if end < row.today <= end + timedelta(days=TODAY_SLACK_DAYS):
        end = row.today
    scale = _Scale(start, end)
    flags = _flag_marks(row, scale)
    return Timeline(
        height=FLAG_LEVELS[-1] + 8 if flags else AXIS_Y + 34,
        start=start,
        end=end,
        bands=tuple(_bands(row, scale)),
        markers=tuple(_spread(_markers(row, scale), LABEL_LEVELS)),
        ticks=tuple(_ticks(scale)),
        flags=tuple(_spread(flags, FLAG_LEVELS)),
        today_x=scale.middle(row.today) if start <= row.today <= end else None,
        today_edge="before" if row.today < start else "after" if row.today > end else "",
    )


def _bands(row: EngagementRow, scale: _Scale) -> list[Band]:
    roadmap = row.roadmap
    bands = []
    segments = (
        (roadmap.kickoff, roadmap.dev_upgrade, "seg-kickoff", "kickoff to dev upgrade"),
        (roadmap.dev_upgrade, roadmap.prod_upgrade_day, "seg-validation", "dev upgrade, validation, scheduling"),
    )
    for first, last, css, label in segments:
        if first and last and first <= last:
            bands.append(Band(scale.middle(first), round(scale.middle(last) - scale.middle(first), 1), css, label))
    if roadmap.support_week_days:
        first, last = roadmap.support_week_days[0], roadmap.support_week_days[-1]
        bands.append(Band(scale.left(first), round(scale.right(last) - scale.left(first), 1), "seg-support",
                          f"support week {first:%b %d} to {last:%b %d}"))
    if roadmap.grace_days:
        first, last = scale.clip(roadmap.grace_days[0]), scale.clip(roadmap.grace_days[-1])
        if first <= last and roadmap.grace_days[0] <= scale.end:
            bands.append(Band(scale.left(first), round(scale.right(last) - scale.left(first), 1), "seg-grace",
                              "grace days for the BP session (with a warning)"))
    return bands


def _markers(row: EngagementRow, scale: _Scale) -> list[Marker]:
    roadmap = row.roadmap
    found = []
    for day, shape, css, name in (
        (roadmap.kickoff, "circle", "m-kickoff", "Kickoff"),
        (roadmap.dev_upgrade, "circle", "m-dev", "Dev upgrade"),
        (row.validation_due, "ring", "m-due", "Validation due"),
        (roadmap.prod_upgrade_day, "diamond", "m-prod" if row.scheduled else "m-prod-unscheduled", "Prod upgrade"),
        (roadmap.bp, "square", "m-bp-held" if row.bp_held else "m-bp", "BP"),
        (roadmap.support_week_last, "bar", "m-end", "Support week ends"),
    ):
        if day is None:
            continue
        when = roadmap.prod_upgrade if name == "Prod upgrade" and roadmap.prod_upgrade else f"{day:%Y-%m-%d}"
        short = roadmap.prod_upgrade[5:] if name == "Prod upgrade" and roadmap.prod_upgrade else f"{day:%m-%d}"
        state = ""
        if name == "Prod upgrade":
            state = " (scheduled)" if row.scheduled else " (not scheduled)"
        elif name == "BP":
            state = " (held)" if row.bp_held else " (not held yet)"
        found.append(Marker(scale.middle(day), shape, css, f"{name} {short}", f"{name}: {when}{state}"))
    return found


def _ticks(scale: _Scale) -> list[Tick]:
    """A tick each Monday (each first of the month on long ranges), and at both ends."""
    days = (scale.end - scale.start).days
    step_monday = days <= 120
    ticks = [Tick(scale.middle(scale.start), f"{scale.start:%b %d}")]
    day = scale.start + timedelta(days=1)
    while day < scale.end:
        if (step_monday and day.weekday() == 0) or (not step_monday and day.day == 1):
            ticks.append(Tick(scale.middle(day), f"{day:%b %d}"))
        day += timedelta(days=1)
    if scale.end == scale.start:
        return ticks
    end = Tick(scale.middle(scale.end), f"{scale.end:%b %d}")
    # Drop ticks whose labels would touch the one before; the last (the end) always stays.
    kept: list[Tick] = []
    for tick in ticks:
        if not kept or tick.x - kept[-1].x >= TICK_GAP:
            kept.append(tick)
    while len(kept) > 1 and end.x - kept[-1].x < TICK_GAP:
        kept.pop()
    return kept + [end]


def _flag_marks(row: EngagementRow, scale: _Scale) -> list[FlagMark]:
    marks = []
    for flag in row.flags:
        day = scale.clip(_flag_day(row, flag))
        label = FLAG_KIND_LABELS.get((flag.rule, flag.kind)) or FLAG_LABELS.get(flag.rule, flag.rule.replace("_", " "))
        where = f" on {', '.join(flag.numbers)}" if flag.numbers else ""
        marks.append(FlagMark(scale.middle(day), flag.severity, label, f"{flag.message}{where}"))
    return marks


def _flag_day(row: EngagementRow, flag: OpenFlag) -> date:
    roadmap = row.roadmap
    anchors = {
        "prod_upgrade": roadmap.prod_upgrade_day,
        "validation_due": row.validation_due,
        "bp": roadmap.bp or roadmap.support_week_last,
        "support_week_last": roadmap.support_week_last,
        "today": row.today,
    }
    day = anchors.get(FLAG_KIND_ANCHORS.get((flag.rule, flag.kind)) or FLAG_ANCHORS.get(flag.rule, ""))
    return day or flag.opened_at.astimezone(timezone.utc).date()


def _spread(items: list, levels: Sequence[float]) -> list:
    """Labels on the lowest level where they do not overlap the label before them there."""
    placed = []
    ends = {level: -1e9 for level in levels}
    for item in sorted(items, key=lambda item: item.x):
        half = len(item.label) * LABEL_CHAR_PX / 2
        anchor = "middle"
        if item.x - half < LEFT:
            anchor, left, right = "start", item.x, item.x + 2 * half
        elif item.x + half > WIDTH - RIGHT:
            anchor, left, right = "end", item.x - 2 * half, item.x
        else:
            left, right = item.x - half, item.x + half
        level = next((level for level in levels if ends[level] + 6 <= left), min(levels, key=lambda lv: ends[lv]))
        ends[level] = right
        placed.append(replace(item, label_y=level, anchor=anchor))
    return placed


# --- the page -------------------------------------------------------------------------------


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
    env = Environment(loader=DictLoader({"report.html.j2": TEMPLATE}), autoescape=True, undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["d"] = _date
    env.filters["short"] = _short
    return env


TEMPLATE = r"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }}</title>
<style>
:root { --ink:#1f2933; --muted:#616e7c; --line:#d9e2ec; --bg:#f5f7fa; --card:#fff;
  --kickoff:#7b93db; --dev:#5aa9e6; --validation:#f4b860; --scheduled:#3aa676; --support:#2f855a;
  --done:#9aa5b1; --attention:#d64545; --warning:#d69e2e; }
* { box-sizing: border-box; }
body { margin: 0; padding: 24px 32px; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  color: var(--ink); background: var(--bg); }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 28px 0 10px; }
.sub { color: var(--muted); margin: 0 0 12px; }
.chips { display: flex; flex-wrap: wrap; gap: 8px; margin: 8px 0 4px; padding: 0; list-style: none; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; font-weight: 600; color: #fff; white-space: nowrap; }
.phase-kickoff { background: var(--kickoff); } .phase-dev-upgrade { background: var(--dev); }
.phase-client-validation { background: var(--validation); color: #3d2a00; } .phase-scheduled { background: var(--scheduled); }
.phase-support-week { background: var(--support); } .phase-done { background: var(--done); }
.phase-needs-attention { background: var(--attention); }
.views { display: grid; grid-template-columns: repeat(auto-fit, minmax(300px, 1fr)); gap: 12px; }
.view { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px; }
.view h3 { margin: 0 0 2px; font-size: 15px; } .view .count { float: right; font-size: 20px; font-weight: 700; }
.view p { margin: 0 0 6px; color: var(--muted); font-size: 12px; }
.view ul { margin: 0; padding: 0; list-style: none; font-size: 13px; }
.view li { display: inline; } .view li + li::before { content: " · "; color: var(--muted); }
.view .detail { color: var(--muted); }
table { border-collapse: collapse; width: 100%; background: var(--card); border: 1px solid var(--line); }
th, td { text-align: left; padding: 4px 6px; border-bottom: 1px solid var(--line); vertical-align: top; font-size: 12.5px; }
th { background: #eef2f7; font-weight: 600; white-space: nowrap; }
td.date { white-space: nowrap; font-variant-numeric: tabular-nums; }
td.dates { font-variant-numeric: tabular-nums; min-width: 7.5em; }
td.who { white-space: nowrap; }
.scroll { overflow-x: auto; }
.overdue { color: var(--attention); font-weight: 600; }
.yes { color: var(--scheduled); font-weight: 600; } .no { color: var(--muted); } .cancelled { color: var(--attention); font-weight: 600; }
.flagcount { color: var(--attention); font-weight: 700; } .warncount { color: var(--warning); font-weight: 700; }
.mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12px; }
a { color: #2457a6; text-decoration: none; } a:hover { text-decoration: underline; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 12px 16px; margin: 0 0 14px; break-inside: avoid; }
.card header { display: flex; flex-wrap: wrap; align-items: baseline; gap: 10px; }
.card header h3 { margin: 0; font-size: 16px; }
.facts { color: var(--muted); font-size: 13px; margin: 4px 0 6px; }
.facts b { color: var(--ink); font-weight: 600; }
svg.timeline { display: block; width: 100%; height: auto; overflow: visible; }
svg.timeline text { font: 11px system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; fill: var(--ink); }
svg.timeline .tick { fill: var(--muted); font-size: 10px; }
svg.timeline .axis { stroke: #9aa5b1; stroke-width: 1; }
svg.timeline .seg-kickoff { fill: var(--kickoff); opacity: .55; } svg.timeline .seg-validation { fill: var(--validation); opacity: .55; }
svg.timeline .seg-support { fill: var(--support); opacity: .75; } svg.timeline .seg-grace { fill: var(--warning); opacity: .28; }
svg.timeline .leader { stroke: #bcccdc; stroke-width: 1; }
svg.timeline .m-kickoff { fill: var(--kickoff); } svg.timeline .m-dev { fill: var(--dev); }
svg.timeline .m-due { fill: #fff; stroke: var(--attention); stroke-width: 2; }
svg.timeline .m-prod { fill: var(--scheduled); stroke: #1f2933; stroke-width: 1; }
svg.timeline .m-prod-unscheduled { fill: #fff; stroke: var(--scheduled); stroke-width: 2.5; }
svg.timeline .m-bp { fill: #fff; stroke: #6b46c1; stroke-width: 2.5; } svg.timeline .m-bp-held { fill: #6b46c1; }
svg.timeline .m-end { fill: var(--support); }
svg.timeline .today { stroke: #2457a6; stroke-width: 1.5; stroke-dasharray: 4 3; }
svg.timeline .today-label { fill: #2457a6; font-weight: 600; }
svg.timeline .problem { fill: var(--attention); } svg.timeline .warning { fill: var(--warning); }
svg.timeline .flag-label.problem, svg.timeline .flag-label.warning { font-weight: 600; }
svg.timeline .flag-label.problem { fill: #a61b1b; } svg.timeline .flag-label.warning { fill: #8a5a00; }
.flags { margin: 6px 0 0; padding-left: 20px; font-size: 13px; }
.flags li.problem::marker { color: var(--attention); } .flags li.warning::marker { color: var(--warning); }
.flags .numbers { color: var(--muted); }
.legend svg { vertical-align: middle; }
.legend { color: var(--muted); font-size: 12px; display: flex; flex-wrap: wrap; gap: 14px; margin: 0 0 12px; }
.problems { color: var(--attention); font-size: 13px; margin: 4px 0; }
footer { color: var(--muted); font-size: 12px; margin-top: 24px; }
@media print { body { background: #fff; padding: 0; } .card, .view { border-color: #bbb; } }
</style>
</head>
<body>
<h1>{{ title }}</h1>
<p class="sub">{{ cards | length }} engagement{{ "" if cards | length == 1 else "s" }}{% if selection %} ({{ selection }}){% endif %}.
Dates as of {{ generated }}; records as the worker left them
{%- if last_run %} after run <span class="mono">{{ last_run.id }}</span> ({{ last_run_at }}){% else %} (no run recorded in the journal){% endif %}.
Read from the state folder only: no request was sent to ServiceNow.</p>
<ul class="chips">
{% for phase, count in counts.items() %}
  <li><span class="badge {{ phase_classes[phase] }}">{{ phase }} · {{ count }}</span></li>
{% endfor %}
</ul>

<h2>What coordinators ask</h2>
<div class="views">
{% for item in views %}
  <section class="view" id="view-{{ item.view.name }}">
    <span class="count">{{ item.rows | length }}</span>
    <h3>{{ item.view.title }}</h3>
    <p>{{ item.view.description }}</p>
    {% if item.rows %}
    <ul>
      {% for row in item.rows %}
      <li><a href="#{{ anchors[row.key] }}" title="{{ row.client }}">{{ row.key }}</a><span class="detail">
        {%- if item.view.name == "upgrades-this-week" %} ({{ row.roadmap.prod_upgrade }}{% if not row.scheduled %}, not scheduled{% endif %})
        {%- elif item.view.name == "support-weeks-ending" %} (ends {{ row.roadmap.support_week_last | d }})
        {%- elif item.view.name == "bp-not-held" %} (BP {{ row.roadmap.bp | d }}{% if row.bp_position %}, {{ row.bp_position }}{% endif %})
        {%- else %} ({{ row.open_tickets | join(", ") }}){% endif %}</span></li>
      {% endfor %}
    </ul>
    {% else %}
    <p>None.</p>
    {% endif %}
  </section>
{% endfor %}
</div>

<h2>Engagements</h2>
<div class="scroll">
<table>
  <thead><tr>
    <th>Engagement</th><th>Client</th><th>Phase</th><th>Kickoff</th><th>Dev upgrade</th><th>Prod upgrade</th>
    <th>BP</th><th>Support week</th><th>Open tickets</th><th>Scheduled</th><th>Flags</th>
    <th>Next deadline</th><th>Consultant</th>
  </tr></thead>
  <tbody>
{% for card in cards %}
{% set row = card.row %}
    <tr data-key="{{ row.key }}">
      <td><a href="#{{ card.anchor }}">{{ row.key }}</a></td>
      <td>{{ row.client }}</td>
      <td><span class="badge {{ card.phase_class }}">{{ row.phase }}</span></td>
      <td class="date">{{ row.roadmap.kickoff | d }}</td>
      <td class="date">{{ row.roadmap.dev_upgrade | d }}</td>
      <td class="dates">{{ row.roadmap.prod_upgrade or "—" }}</td>
      <td class="date">{{ row.roadmap.bp | d }}</td>
      <td class="dates">{% if row.roadmap.support_week_first %}{{ row.roadmap.support_week_first | d }} to {{ row.roadmap.support_week_last | d }}{% else %}{{ row.roadmap.support_week | d }}{% endif %}</td>
      <td>{{ row.open_tickets | join(", ") or "—" }}</td>
      <td>{% if row.scheduled %}<span class="yes">yes</span>{% elif row.cancelled %}<span class="cancelled">no (cancelled)</span>{% else %}<span class="no">no</span>{% endif %}</td>
      <td>{% if row.flags %}<span class="{{ 'flagcount' if row.flags | selectattr('severity', 'equalto', 'problem') | list else 'warncount' }}">{{ row.flag_count }}</span>{% else %}0{% endif %}</td>
      <td class="dates">{% if row.next_deadline %}<span class="{{ 'overdue' if row.next_deadline.overdue else '' }}">{{ row.next_deadline.what }} {{ row.next_deadline.text }}{% if row.next_deadline.overdue %} (overdue){% endif %}</span>{% else %}—{% endif %}</td>
      <td class="mono who" title="{{ row.consultant }}">{{ row.consultant | short or "—" }}</td>
    </tr>
{% endfor %}
  </tbody>
</table>
</div>

<h2>Timelines</h2>
<div class="legend">
  <span><svg width="14" height="14" viewBox="0 0 14 14"><circle cx="7" cy="7" r="5" class="m-kickoff" fill="#7b93db"/></svg> kickoff, dev upgrade</span>
  <span><svg width="14" height="14" viewBox="0 0 14 14"><path d="M7 1 L13 7 L7 13 L1 7 Z" fill="#3aa676" stroke="#1f2933"/></svg> prod upgrade scheduled</span>
  <span><svg width="14" height="14" viewBox="0 0 14 14"><path d="M7 1 L13 7 L7 13 L1 7 Z" fill="#fff" stroke="#3aa676" stroke-width="2"/></svg> prod upgrade not scheduled</span>
  <span><svg width="14" height="14" viewBox="0 0 14 14"><rect x="2" y="2" width="10" height="10" fill="#fff" stroke="#6b46c1" stroke-width="2"/></svg> BP session (filled: held)</span>
  <span><svg width="26" height="12" viewBox="0 0 26 12"><rect x="0" y="2" width="26" height="8" fill="#2f855a" opacity=".75"/></svg> support week</span>
  <span><svg width="26" height="12" viewBox="0 0 26 12"><rect x="0" y="2" width="26" height="8" fill="#d69e2e" opacity=".28"/></svg> BP grace days</span>
  <span><svg width="14" height="14" viewBox="0 0 14 14"><path d="M7 1 L13 12 L1 12 Z" fill="#d64545"/></svg> open flag (amber: warning)</span>
  <span><svg width="14" height="14" viewBox="0 0 14 14"><line x1="7" y1="0" x2="7" y2="14" stroke="#2457a6" stroke-width="1.5" stroke-dasharray="3 2"/></svg> today</span>
</div>
{% for card in cards %}
{% set row = card.row %}
{% set tl = card.timeline %}
<article class="card" id="{{ card.anchor }}" data-key="{{ row.key }}">
  <header>
    <h3>{{ row.key }} · {{ row.client }}</h3>
    <span class="badge {{ card.phase_class }}">{{ row.phase }}</span>
    <span class="facts">consultant <span class="mono">{{ row.consultant or "—" }}</span> · {{ row.zone }}</span>
  </header>
  <p class="facts">
    Open tickets <b>{{ row.open_tickets | join(", ") or "none" }}</b> ·
    prod upgrade <b>{{ row.roadmap.prod_upgrade or "not on the roadmap" }}</b>,
    {% if row.scheduled %}<span class="yes">scheduled</span>{% elif row.cancelled %}<span class="cancelled">cancelled after scheduling</span>{% else %}<span class="no">not scheduled</span>{% endif %} ·
    next: {% if row.next_deadline %}<b class="{{ 'overdue' if row.next_deadline.overdue else '' }}">{{ row.next_deadline.what }} {{ row.next_deadline.text }}{% if row.next_deadline.overdue %} (overdue){% endif %}</b>{% else %}<b>nothing due</b>{% endif %}
  </p>
  {% if row.problems %}
  <p class="problems">Needs attention: {{ row.problems | join("; ") }}</p>
  {% endif %}
  {% if tl.empty_reason %}
  <svg class="timeline" viewBox="0 0 {{ width }} {{ tl.height }}" role="img" aria-label="Timeline of {{ row.key }}: {{ tl.empty_reason }}">
    <title>Timeline of {{ row.key }}</title>
    <line class="axis" x1="{{ tl.axis[0] }}" y1="30" x2="{{ tl.axis[1] }}" y2="30"/>
    <text x="{{ width / 2 }}" y="50" text-anchor="middle" class="tick">{{ tl.empty_reason }}</text>
  </svg>
  {% else %}
  <svg class="timeline" viewBox="0 0 {{ width }} {{ tl.height }}" role="img" aria-label="Timeline of {{ row.key }} from {{ tl.start | d }} to {{ tl.end | d }}">
    <title>Timeline of {{ row.key }} from {{ tl.start | d }} to {{ tl.end | d }}</title>
    <line class="axis" x1="{{ tl.axis[0] }}" y1="{{ axis_y }}" x2="{{ tl.axis[1] }}" y2="{{ axis_y }}"/>
    {% for band in tl.bands %}
    <rect class="{{ band.css }}" x="{{ band.x }}" y="{{ axis_y - band_half }}" width="{{ band.width }}" height="{{ band_half * 2 }}" rx="3"><title>{{ band.label }}</title></rect>
    {% endfor %}
    {% for tick in tl.ticks %}
    <line class="axis" x1="{{ tick.x }}" y1="{{ axis_y + band_half }}" x2="{{ tick.x }}" y2="{{ axis_y + band_half + 4 }}"/>
    <text class="tick" x="{{ tick.x }}" y="{{ axis_y + band_half + 16 }}" text-anchor="middle">{{ tick.label }}</text>
    {% endfor %}
    {% if tl.today_x is not none %}
    <line class="today" x1="{{ tl.today_x }}" y1="4" x2="{{ tl.today_x }}" y2="{{ tl.height - 4 }}"/>
    {% if tl.today_x > width - 60 %}
    <text class="today-label" x="{{ tl.today_x - 4 }}" y="{{ axis_y + band_half + 28 }}" text-anchor="end">today</text>
    {% else %}
    <text class="today-label" x="{{ tl.today_x + 4 }}" y="{{ axis_y + band_half + 28 }}">today</text>
    {% endif %}
    {% elif tl.today_edge == "before" %}
    <text class="today-label" x="{{ tl.axis[0] }}" y="{{ axis_y + band_half + 28 }}">◂ today {{ row.today | d }}</text>
    {% elif tl.today_edge == "after" %}
    <text class="today-label" x="{{ tl.axis[1] }}" y="{{ axis_y + band_half + 28 }}" text-anchor="end">today {{ row.today | d }} ▸</text>
    {% endif %}
    {% for m in tl.markers %}
    <g>
      <title>{{ m.title }}</title>
      <line class="leader" x1="{{ m.x }}" y1="{{ m.label_y + 3 }}" x2="{{ m.x }}" y2="{{ axis_y - band_half - 2 }}"/>
      {% if m.shape == "diamond" %}
      <path class="{{ m.css }}" d="M{{ m.x }} {{ axis_y - 9 }} L{{ m.x + 9 }} {{ axis_y }} L{{ m.x }} {{ axis_y + 9 }} L{{ m.x - 9 }} {{ axis_y }} Z"/>
      {% elif m.shape == "square" %}
      <rect class="{{ m.css }}" x="{{ m.x - 6 }}" y="{{ axis_y - 6 }}" width="12" height="12"/>
      {% elif m.shape == "bar" %}
      <rect class="{{ m.css }}" x="{{ m.x - 1.5 }}" y="{{ axis_y - 11 }}" width="3" height="22"/>
      {% elif m.shape == "ring" %}
      <circle class="{{ m.css }}" cx="{{ m.x }}" cy="{{ axis_y }}" r="5"/>
      {% else %}
      <circle class="{{ m.css }}" cx="{{ m.x }}" cy="{{ axis_y }}" r="6"/>
      {% endif %}
      <text x="{{ m.x }}" y="{{ m.label_y }}" text-anchor="{{ m.anchor }}">{{ m.label }}</text>
    </g>
    {% endfor %}
    {% for f in tl.flags %}
    <g class="flag">
      <title>{{ f.title }}</title>
      <path class="{{ f.css }}" d="M{{ f.x }} {{ flag_y - 8 }} L{{ f.x + 7 }} {{ flag_y + 5 }} L{{ f.x - 7 }} {{ flag_y + 5 }} Z"/>
      <text class="flag-label {{ f.css }}" x="{{ f.x }}" y="{{ f.label_y }}" text-anchor="{{ f.anchor }}">{{ f.label }}</text>
    </g>
    {% endfor %}
  </svg>
  {% endif %}
  {% if row.flags %}
  <ul class="flags">
    {% for flag in row.flags %}
    <li class="{{ flag.severity }}">{{ "Warning" if flag.severity == "warning" else "Flag" }} ({{ flag.rule }}): {{ flag.message }}{% if flag.numbers %} <span class="numbers">on {{ flag.numbers | join(", ") }}</span>{% endif %}</li>
    {% endfor %}
  </ul>
  {% endif %}
</article>
{% endfor %}
<footer>Generated by etiu-worker report from {{ report.state_dir }} at {{ generated }}. Phases, views and the next deadline are explained in the README.</footer>
</body>
</html>
"""
