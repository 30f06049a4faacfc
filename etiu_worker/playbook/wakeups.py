"""An engagement's wake-up: the earliest instant its outcome may change with the clock alone.

Incremental evaluation (cycle/incremental.py) evaluates an engagement again when its records or
memory change, or once its wake-up has passed. Waking early costs one evaluation; waking late
would miss a rule that should fire, so every choice here errs early:

* the client's next local midnight, always (``today``, business days, ``local_day``);
* every instant still ahead in the engagement's context: its records' dates and times, the
  pack's ``[dates.*]``, latch moments, the roadmap's instants, each step's start and due time
  (clock_reads.py says why a comparison of ``now`` with any of them is then caught);
* each running step's warn time (its ``warn_at`` share of its duration), found by halving the
  time to it, a second early; the next cycle when that cannot be found;
* while a step is open, the last moment before a projected finish it reads changes its local day
  or passes an instant of the context (projections.py);
* the next cycle, when the pack reads the clock, or a projected finish, in a way clock_reads.py or
  projection_reads.py cannot follow, or reads a step's share (which moves with ``now``) while
  one of its steps is open.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any, Iterator
from zoneinfo import ZoneInfo

from ..engagement.records import Record
from ..engagement.roadmap_fields import Roadmap
from .clock_reads import ClockUse, clock_use
from .dayrange import DayRange, local_midnight, next_midnight
from .durations import Duration, TimeFrame
from .projections import projection_change
from .step_states import StepsState, StepState, every_step

_PRECISION = timedelta(seconds=1)  # how close before its warn time a running step wakes
_SKIPPED = frozenset({"now", "today", "calendar", "zone", "codes", "contacts", "numbers", "params", "rule",
                      "engagement"})  # the clock itself, and what holds no moment of the engagement's
_DEPTH = 8
# A step's projected finish moves with now while a step is open: it is no moment to wake at (its
# changes are searched for apart, by projections.py).
_MOVING = frozenset({"projected_finish"})


def wake_up(playbook: Any, engagement: Any, context: Mapping[str, Any], at: datetime) -> datetime:
    """When the engagement must be evaluated again if nothing else changes (``at``: the next cycle)."""
    use = clock_use(playbook)
    steps = context.get("steps")
    open_step = isinstance(steps, StepsState) and any(not s.closed for s in every_step(steps))
    projected = use.projection.read and open_step
    if use.unsafe or (open_step and use.share) or (projected and use.projection.unfollowed):
        return at
    found = sorted(instants(context, engagement.zone, use))
    candidates = [next_midnight(at, engagement.zone), *(moment for moment in found if moment >= at)]
    if isinstance(steps, StepsState):
        candidates += _warn_times(playbook, steps, engagement.zone, at)
    if projected:
        candidates.append(projection_change(playbook, engagement, context, found, at))
    return min(candidates)


def instants(context: Mapping[str, Any], zone: ZoneInfo, use: ClockUse = ClockUse()) -> Iterator[datetime]:
    """Every instant the context holds (a date at its local midnight), but for the clock itself:
    ``now``, a date that is a projected finish, the ``current`` of a latch whose value is ``now``."""
    seen: set[int] = set()
    # Every value made first and kept to the end: ``seen`` holds ids, and a copy ``_fixed`` made
    # (the dates less the projected ones) freed after its walk could lend its id to the next one
    # (the latches), which would then be skipped as seen and its moments missed.
    values = [_fixed(name, value, use) for name, value in context.items() if name not in _SKIPPED]
    found: list[datetime] = []
    for value in values:
        _walk(value, zone, seen, _DEPTH, found)
    return iter(found)


def _fixed(name: str, value: Any, use: ClockUse) -> Any:
    if name == "dates" and use.projection.dates and isinstance(value, Mapping):
        return {key: item for key, item in value.items() if key not in use.projection.dates}
    if name == "latches" and use.moving_latches and isinstance(value, Mapping):
        return {key: dataclasses.replace(item, current=None) if key in use.moving_latches else item
                for key, item in value.items()}
    return value


def _walk(value: Any, zone: ZoneInfo, seen: set[int], depth: int, found: list[datetime]) -> None:
    """Depth first, each object once (by id), ``depth`` levels at most: into ``found``."""
    kind = _KINDS.get(type(value)) or _kind(type(value))
    if kind is _MOMENT:
        if value.utcoffset() is not None:
            found.append(value)
        return
    if kind is _DAY:
        found.append(local_midnight(value, zone))
        return
    if kind is _LEAF or depth <= 0 or id(value) in seen:
        return
    seen.add(id(value))
    for child in _children(kind, value):
        # The leaves inline (most children are text, flags and moments): what _walk does with them.
        inner = _KINDS.get(type(child)) or _kind(type(child))
        if inner is _LEAF:
            continue
        if inner is _MOMENT:
            if child.utcoffset() is not None:
                found.append(child)
        elif inner is _DAY:
            found.append(local_midnight(child, zone))
        else:
            _walk(child, zone, seen, depth - 1, found)


# What each type of value is to the walk, worked out once per type: the context holds few types
# and many values (a step state's dataclass fields, a record's values), and the walk runs for
# every engagement evaluated.
_MOMENT, _DAY, _LEAF, _OTHER = "moment", "day", "leaf", "other"
_KINDS: dict[type, Any] = {}


def _kind(cls: type) -> Any:
    if issubclass(cls, datetime):
        kind: Any = _MOMENT
    elif issubclass(cls, date):
        kind = _DAY
    elif cls is type(None) or issubclass(cls, (str, bytes, int, float, bool)):
        kind = _LEAF
    elif issubclass(cls, (DayRange, Record, Roadmap, Mapping, list, tuple, set, frozenset)):
        kind = _OTHER
    elif dataclasses.is_dataclass(cls) and not issubclass(cls, type):
        kind = tuple(item.name for item in dataclasses.fields(cls) if item.name not in _MOVING)
    else:
        kind = ()  # nothing inside to walk
    _KINDS[cls] = kind
    return kind


def _children(kind: Any, value: Any) -> Any:
    if kind is not _OTHER:
        return [getattr(value, name, None) for name in kind]  # a dataclass's fields (none for the rest)
    if isinstance(value, DayRange):
        return [value.start, value.end]
    if isinstance(value, Record):
        return [value.updated_on, *value.values.values()]
    if isinstance(value, Roadmap):
        return list(value._values)
    if isinstance(value, Mapping):
        return list(value.values())
    return list(value)


def _warn_times(playbook: Any, steps: StepsState, zone: ZoneInfo, at: datetime) -> list[datetime]:
    frame = TimeFrame(playbook.calendar, zone)
    found = []
    for state in every_step(steps):
        step = playbook.steps.steps.get(state.key)
        warn_at = getattr(step, "warn_at", None)
        if state.closed or state.paused or state.warn or warn_at is None or state.start is None or state.duration is None:
            continue
        found.append(_warn_time(frame, state, warn_at, at))
    return found


def _warn_time(frame: TimeFrame, state: StepState, warn_at: float, at: datetime) -> datetime:
    """The last instant before a running step warns (within a second), found by halving: the share
    of its duration used only grows with time, so the search cannot pass the moment it warns (a
    business-day share stands still overnight, which a duration computed back would not show)."""
    def reached(moment: datetime) -> bool:
        return frame.share(state.start, moment, state.duration) >= warn_at

    later = frame.add(state.start, Duration(state.duration.amount * warn_at, state.duration.unit))
    if reached(at) or not reached(later):
        return at  # cannot tell when: the next cycle looks again
    earlier = at
    while later - earlier > _PRECISION:
        middle = earlier + (later - earlier) / 2
        later, earlier = (middle, earlier) if reached(middle) else (later, middle)
    return earlier
