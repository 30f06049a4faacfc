"""The geometry of an engagement's timeline in the HTML report: where each band, marker and flag goes.

Each engagement gets a timeline, an inline SVG from its kickoff to the end of its support week:
the kickoff and dev upgrade, client validation up to the prod upgrade, the support week and the
grace days after it, the BP session, today, and the open flags marked at the date they concern.
The geometry is computed here; the template (templates/report.html.j2) only draws it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta, timezone

from .coordinator_rows import EngagementRow, OpenFlag

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

