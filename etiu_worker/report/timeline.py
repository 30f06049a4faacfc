"""The geometry of an engagement's timeline in the HTML report: where each band, marker and flag goes.

Each engagement gets a timeline, an inline SVG over the days its pack's ``report.timeline.span``
names: the pack's bands and markers, today, and the open flags marked at the date they concern
(``row_parts`` resolved those from the pack's dates). The geometry is computed here; the
template (templates/report.html.j2) only draws it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta, timezone

from .coordinator_rows import EngagementRow

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


def timeline(row: EngagementRow, empty: str = "No dates to draw yet.") -> Timeline:
    """The engagement's timeline, over the days its pack's span names; ``empty`` says why there is none."""
    if not row.span_days:
        return Timeline(height=60, start=None, end=None, empty_reason=empty)
    start, end = min(row.span_days), max(row.span_days)
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
    bands = []
    for span in row.spans:
        css = f"band-{span.colour}{'-light' if span.light else ''}"
        if not span.whole_days:
            first, last = scale.middle(scale.clip(span.first)), scale.middle(scale.clip(span.last))
            bands.append(Band(first, round(last - first, 1), css, span.label))
            continue
        first, last = scale.clip(span.first), scale.clip(span.last)
        if first <= last and span.first <= scale.end:
            bands.append(Band(scale.left(first), round(scale.right(last) - scale.left(first), 1), css, span.label))
    return bands


def _markers(row: EngagementRow, scale: _Scale) -> list[Marker]:
    return [Marker(scale.middle(scale.clip(mark.day)), mark.shape, f"m-{mark.style}", mark.label, mark.title)
            for mark in row.marks]


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
        day = scale.clip(flag.day or flag.opened_at.astimezone(timezone.utc).date())
        where = f" on {', '.join(flag.numbers)}" if flag.numbers else ""
        label = flag.label or flag.rule.replace("_", " ")
        marks.append(FlagMark(scale.middle(day), flag.severity, label, f"{flag.message}{where}"))
    return marks


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

