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
* the next cycle, when the pack reads the clock in a way clock_reads.py cannot follow, or reads a
  step's projected finish or share (which move with ``now``) while one of its steps is open.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any, Iterator
from zoneinfo import ZoneInfo

from ..engagement.records import Record
from ..engagement.roadmap_fields import Roadmap
from .clock_reads import clock_use
from .dayrange import DayRange, local_midnight
from .durations import Duration, TimeFrame
from .step_states import StepsState, StepState

_PRECISION = timedelta(seconds=1)  # how close before its warn time a running step wakes
_SKIPPED = frozenset({"now", "today", "calendar", "zone", "codes", "contacts", "numbers", "params", "rule",
                      "engagement"})  # the clock itself, and what holds no moment of the engagement's
_DEPTH = 8
# A step's projected finish moves with now while a step is open: it is no moment to wake at. A pack
# that reads it is evaluated every cycle meanwhile (``wake_up``); one that does not never compares it.
_MOVING = frozenset({"projected_finish"})


def wake_up(playbook: Any, engagement: Any, context: Mapping[str, Any], at: datetime) -> datetime:
    """When the engagement must be evaluated again if nothing else changes (``at``: the next cycle)."""
    use = clock_use(playbook)
    steps = context.get("steps")
    moving = isinstance(steps, StepsState) and (use.projected or use.share) and any(not s.closed for s in _steps(steps))
    if use.unsafe or moving:
        return at
    candidates = [next_midnight(at, engagement.zone)]
    candidates += [moment for moment in instants(context, engagement.zone) if moment >= at]
    if isinstance(steps, StepsState):
        candidates += _warn_times(playbook, steps, engagement.zone, at)
    return min(candidates)


def next_midnight(at: datetime, zone: ZoneInfo) -> datetime:
    """The first local midnight after ``at`` in ``zone``."""
    return local_midnight(at.astimezone(zone).date() + timedelta(days=1), zone)


def instants(context: Mapping[str, Any], zone: ZoneInfo) -> Iterator[datetime]:
    """Every instant the context holds (a date at its local midnight), but for the clock itself."""
    seen: set[int] = set()
    for name, value in context.items():
        if name not in _SKIPPED:
            yield from _walk(value, zone, seen, _DEPTH)


def _walk(value: Any, zone: ZoneInfo, seen: set[int], depth: int) -> Iterator[datetime]:
    if isinstance(value, datetime):
        if value.utcoffset() is not None:
            yield value
        return
    if isinstance(value, date):
        yield local_midnight(value, zone)
        return
    if depth <= 0 or value is None or isinstance(value, (str, bytes, int, float, bool)) or id(value) in seen:
        return
    seen.add(id(value))
    for child in _children(value):
        yield from _walk(child, zone, seen, depth - 1)


def _children(value: Any) -> list[Any]:
    if isinstance(value, DayRange):
        return [value.start, value.end]
    if isinstance(value, Record):
        return [value.updated_on, *value.values.values()]
    if isinstance(value, Roadmap):
        return list(value._values)
    if isinstance(value, Mapping):
        return list(value.values())
    if isinstance(value, (list, tuple, set, frozenset)):
        return list(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return [getattr(value, item.name, None) for item in dataclasses.fields(value) if item.name not in _MOVING]
    return []


def _steps(steps: StepsState) -> Iterator[StepState]:
    for group in steps.groups.values():
        yield from group.items.values()


def _warn_times(playbook: Any, steps: StepsState, zone: ZoneInfo, at: datetime) -> list[datetime]:
    frame = TimeFrame(playbook.calendar, zone)
    found = []
    for state in _steps(steps):
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
