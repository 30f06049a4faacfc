"""When an open step's projected finish next matters: the wake-up for a pack that reads it.

An open step's projected finish is ``now`` at the earliest, and only grows as ``now`` does (a
running step's is its due time until that passes; a step not started yet finishes its duration
after ``now``). A pack that reads it the ways projection_reads.py follows sees only its class:
its local day, and where it lies among the instants of the engagement's context. So the steps
are derived again at later moments, from the same step facts, and the first moment any projected
finish changes class is found by halving, from the cycle's ``at`` to the first boundary a class
can cross (a projected finish at or past ``now`` reaches it by then at the latest). The search
returns the last moment found unchanged, within ``PRECISION``: early by at most that, never late.
A paused step whose clock has started is not searched (its projected finish, ``now`` plus what is
left of its duration, stands nearly still, within a rounding error): the next cycle looks again.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from datetime import datetime, timedelta
from typing import Any, Callable, Mapping, Sequence
from zoneinfo import ZoneInfo

from .dayrange import next_midnight
from .durations import TimeFrame
from .step_context import step_facts
from .step_states import StepFacts, StepsState, every_step
from .step_status import Projection
from .steps import StepPlan

PRECISION = timedelta(minutes=5)  # how early a projected finish's change may be woken at: about a poll

Class = tuple[Any, int, int] | None  # (local day, instants before it, instants up to it), or none


def projection_change(playbook: Any, engagement: Any, context: Mapping[str, Any], instants: Sequence[datetime],
                      at: datetime) -> datetime:
    """The last moment (within PRECISION) before a projected finish of the engagement's steps
    changes its class; ``instants``: the context's, sorted, the projected finishes left out."""
    steps = context["steps"]
    if any(state.paused and state.start is not None for state in every_step(steps)):
        return at
    facts = step_facts(playbook.steps, playbook.declarations, engagement, playbook.env, context)
    return next_class_change(playbook.steps, facts, TimeFrame(playbook.calendar, engagement.zone), steps, instants, at)


def next_class_change(plan: StepPlan, facts: Mapping[str, StepFacts], frame: TimeFrame, steps: StepsState,
                      instants: Sequence[datetime], at: datetime) -> datetime:
    """``projection_change`` for steps derived at ``at`` from ``facts``. A group's and the
    engagement's projected finish are the latest of their steps': when one of them changes class,
    a step's did (a class only grows with the value), so the steps' alone are compared."""
    projection = Projection(plan, facts, _RememberingFrame(frame))

    def classes(moment: datetime) -> list[Class]:
        return [_class(value, instants, frame.zone) for value in projection.finishes(moment)]

    return _first_change(classes, at, _bound(steps, instants, frame.zone, at))


class _RememberingFrame:
    """A TimeFrame that steps each instant by each duration once: the search derives the steps
    again at a dozen moments, and a step's due time (its start plus its duration) moves only when
    its start does. Keyed by the reading's wall clock, zone and fold, so that equal keys are the
    same instant (two readings in one zone compare by wall clock alone)."""

    def __init__(self, frame: TimeFrame) -> None:
        self.frame, self.calendar, self.zone = frame, frame.calendar, frame.zone
        self._added: dict[tuple, datetime] = {}

    def add(self, moment: datetime, duration: Any) -> datetime:
        key = (moment, moment.tzinfo, moment.fold, duration.amount, duration.unit)
        found = self._added.get(key)
        if found is None:
            found = self._added[key] = self.frame.add(moment, duration)
        return found

    def share(self, start: datetime, now: datetime, duration: Any) -> float:
        return self.frame.share(start, now, duration)


def _first_change(classes: Callable[[datetime], list[Class]], at: datetime, bound: datetime | None) -> datetime:
    before = classes(at)
    if bound is None or classes(bound) == before:
        return at  # no boundary it surely crosses: the next cycle looks again
    earlier, later = at, bound
    while later - earlier > PRECISION:
        middle = earlier + (later - earlier) / 2
        earlier, later = (earlier, middle) if classes(middle) != before else (middle, later)
    return earlier


def _bound(steps: StepsState, instants: Sequence[datetime], zone: ZoneInfo, at: datetime) -> datetime | None:
    """A moment by which some open step's projected finish has surely changed class."""
    bounds = [_boundary(state.projected_finish, instants, zone) for state in every_step(steps)
              if not state.closed and state.projected_finish is not None]
    return max(at, min(bounds)) if bounds else None


def _boundary(value: datetime, instants: Sequence[datetime], zone: ZoneInfo) -> datetime:
    """The first moment past which ``value`` is in another class (a second past it when it is an instant)."""
    midnight = next_midnight(value, zone)
    index = bisect_right(instants, value)
    if index and instants[index - 1] == value:
        return value + timedelta(seconds=1)
    return min(midnight, instants[index]) if index < len(instants) else midnight


def _class(value: datetime | None, instants: Sequence[datetime], zone: ZoneInfo) -> Class:
    if value is None:
        return None
    return value.astimezone(zone).date(), bisect_left(instants, value), bisect_right(instants, value)
