"""Derive every step's state from its record, the instants the caller resolved, and ``now``.

Pure: the caller reads the records, evaluates ``paused_when`` and amounts, resolves ``start_from``
names to instants, and passes ``now``; nothing here reads the clock.

* A step is ``ready`` when every predecessor is done or skipped and it is not closed, ``blocked``
  (``blocked_by``) when one is not. A canceled step is closed but not settled: it holds the steps
  after it. A skipped step lets them go on, optional or not (``optional`` says it may be skipped;
  a rule can flag ``item.skipped and not item.optional``).
* ``due`` is the clock's start plus the duration, in the engagement's calendar and zone; a step
  is ``overdue`` once ``now`` is past it and ``warn`` from ``warn_at`` of the duration on, until
  it is closed. ``out_of_order``: done while a predecessor is not done or skipped, or done before
  a predecessor was.
* Pausing, as in an SLA, but without history, because the engine sees only the present: while
  ``paused`` a step is never ``overdue`` or ``warn``, and its projected finish is ``now`` plus what
  is left of its duration. A past pause is not remembered: once the pause ends, the time it
  lasted counts as if the clock had run, and ``due`` is the unpaused one again.
* ``projected_finish``: a closed step finished when it was done (or skipped); an open one finishes
  at its due time, or after its duration from when its predecessors finish (``now`` at the
  earliest), the longest path through what is not done. A group's and the engagement's is the
  latest of their steps'.
* A mirror keeps the items whose mirrored step is done (with ``only = "done"``), each after the
  previous one kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType
from typing import Mapping, Sequence

from .durations import Duration, TimeFrame
from .step_states import GroupState, StepFacts, StepItems, StepsState, StepState
from .steps import Step, StepGroup, StepPlan

NO_FACTS = StepFacts()
CLOSED = ("done", "skipped", "canceled")


def derive_steps(plan: StepPlan, facts: Mapping[str, StepFacts], frame: TimeFrame, now: datetime) -> StepsState:
    """Every group's state; ``facts`` by step key (``group.id``, or a one-step group's name);
    a step without facts has no record, no start and no pause."""
    kept = _kept(plan, facts)
    states: dict[str, StepState] = {}
    for key in plan.order:
        if key in kept:
            step, after = kept[key]
            # A mirror's item that is not kept is no step: nothing waits for it.
            before = [states[p] for p in after if p in states]
            states[key] = _state(step, before, facts.get(key, NO_FACTS), frame, now)
    groups = {name: _group(group, states) for name, group in plan.groups.items()}
    everything = [state for group in groups.values() for state in group.items.values()]
    return StepsState(groups=MappingProxyType(groups), next=tuple(s for s in everything if s.ready),
                      done=all(g.done for g in groups.values()),
                      projected_finish=_latest(s.projected_finish for s in everything))


def projected_finishes(plan: StepPlan, facts: Mapping[str, StepFacts], frame: TimeFrame,
                       now: datetime) -> list[datetime | None]:
    """Each step's projected finish as ``derive_steps`` derives it at ``now``, in the plan's order,
    and nothing else of its state: what a wake-up's search derives again and again (projections.py)."""
    return Projection(plan, facts, frame).finishes(now)


class Projection:
    """``projected_finishes`` at any moment, for steps whose facts stay as given: what does not
    move with ``now`` (which steps are kept and after which, what each record means, where a clock
    starts, how long it runs) is worked out once, so that a wake-up's search, which derives the
    finishes at a dozen moments, does only the rest each time. The same values, step for step, as
    ``_clock`` and ``_finish`` give."""

    def __init__(self, plan: StepPlan, facts: Mapping[str, StepFacts], frame: TimeFrame) -> None:
        self.frame = frame
        kept = _kept(plan, facts)
        index: dict[str, int] = {}
        self.steps: list[tuple] = []
        for key in plan.order:
            if key not in kept:
                continue
            step, after = kept[key]
            fact = facts.get(key, NO_FACTS)
            record = fact.record
            closed = record.meaning in CLOSED
            before = tuple(index[p] for p in after if p in index)
            after_finish = step.start_from == "after" and bool(before)
            start = None if after_finish else (record.started_at if step.start_from in ("started", "after")
                                               else fact.start)
            duration = step.duration.resolve(fact.amount) if step.duration else None
            index[key] = len(self.steps)
            self.steps.append((before, closed, not closed and not fact.paused, record.done_at, after_finish, start,
                               duration, record.meaning in ("done", "skipped")))

    def finishes(self, now: datetime) -> list[datetime | None]:
        frame, found = self.frame, []
        for before, closed, running, done_at, after_finish, start, duration, _ in self.steps:
            latest = _latest(found[i] for i in before)
            if closed:
                found.append(done_at or latest)  # a closed step's clock is not read
                continue
            if after_finish:  # its clock starts when its predecessors finish, once they are settled
                start = None if any(not self.steps[i][7] for i in before) else latest
            earliest = max(now, latest) if latest else now
            if duration is None:
                found.append(earliest)
            elif start is None:
                found.append(frame.add(earliest, duration))
            elif running:
                found.append(max(earliest, frame.add(start, duration)))
            else:  # paused: what is left of its duration, from now
                share = max(0.0, frame.share(start, now, duration))
                left = duration.amount * (1 - (share or 0.0))
                found.append(max(earliest, frame.add(now, Duration(max(0.0, left), duration.unit))))
        return found


def _kept(plan: StepPlan, facts: Mapping[str, StepFacts]) -> dict[str, tuple[Step, tuple[str, ...]]]:
    """Each step derived, with its predecessors; a mirror's items chained as kept."""
    kept: dict[str, tuple[Step, tuple[str, ...]]] = {}
    for group in plan.groups.values():
        previous: tuple[str, ...] = ()
        for step in group.steps:
            if group.only_done and facts.get(step.mirrors, NO_FACTS).record.meaning != "done":
                continue
            kept[step.key] = (step, step.after + previous)
            previous = (step.key,) if group.mirror_of else ()
    return kept


@dataclass(frozen=True)
class _Clock:
    """A step's clock: where it starts, how long it runs, when it is due, the share used."""

    start: datetime | None
    duration: Duration | None
    due: datetime | None
    share: float | None


def _state(step: Step, after: Sequence[StepState], facts: StepFacts, frame: TimeFrame, now: datetime) -> StepState:
    record = facts.record
    closed = record.meaning in CLOSED
    waiting = () if closed else tuple(p.key for p in after if not p.settled)
    clock = _clock(step, after, facts, frame, now)
    running = not closed and not facts.paused
    early = _done_early(record.done_at, after) if record.meaning == "done" else ()
    state = StepState(
        key=step.key, group=step.group, id=step.id, title=step.title, owner=step.owner, optional=step.optional,
        state=record.meaning, done=record.meaning == "done", skipped=record.meaning == "skipped",
        canceled=record.meaning == "canceled", ready=not closed and not waiting, blocked=bool(waiting),
        blocked_by=waiting, started=record.meaning in ("open", "done") or record.started_at is not None,
        started_at=record.started_at, done_at=record.done_at, start=clock.start, duration=clock.duration,
        due=clock.due, overdue=running and clock.due is not None and now > clock.due,
        warn=running and _reached(clock.share, step.warn_at), share=clock.share, out_of_order=bool(early),
        paused=facts.paused and not closed,
        projected_finish=_finish(closed, record.done_at, after, clock, running, frame, now), why="",
    )
    # Its words read the rest of it; set on the state before anyone else sees it, rather than
    # copied into a second one (dataclasses.replace is a tenth of deriving the steps).
    object.__setattr__(state, "why", _why(state, early, frame) + _unknown_amount(step, clock, state))
    return state


def _clock(step: Step, after: Sequence[StepState], facts: StepFacts, frame: TimeFrame, now: datetime) -> _Clock:
    start = _clock_start(step, after, facts)
    duration = step.duration.resolve(facts.amount) if step.duration else None
    if start is None or duration is None:
        return _Clock(start, duration, None, None)
    meaning = facts.record.meaning
    until = facts.record.done_at if meaning == "done" else now
    # Before its clock starts a step has used none of its duration, not a negative share.
    used = max(0.0, frame.share(start, until, duration)) if until and meaning not in ("skipped", "canceled") else None
    return _Clock(start, duration, frame.add(start, duration), used)


def _clock_start(step: Step, after: Sequence[StepState], facts: StepFacts) -> datetime | None:
    if step.start_from == "started" or (step.start_from == "after" and not after):
        return facts.record.started_at
    if step.start_from != "after":
        return facts.start
    return None if any(not p.settled for p in after) else _latest(p.projected_finish for p in after)


def _reached(share: float | None, warn_at: float | None) -> bool:
    return share is not None and warn_at is not None and share >= warn_at


def _done_early(done_at: datetime | None, after: Sequence[StepState]) -> tuple[str, ...]:
    """The predecessors a done step went before: not done or skipped, or done after it."""
    return tuple(p.key for p in after if not p.settled or _before(done_at, p.done_at if p.done else None))


def _before(moment: datetime | None, other: datetime | None) -> bool:
    return moment is not None and other is not None and moment < other


def _finish(closed: bool, done_at: datetime | None, after: Sequence[StepState], clock: _Clock, running: bool,
            frame: TimeFrame, now: datetime) -> datetime | None:
    """When the step finished, or is projected to: the longest path through what is not done."""
    before = _latest(p.projected_finish for p in after)
    if closed:
        return done_at or before
    earliest = max(now, before) if before else now
    if clock.duration is None:
        return earliest
    if clock.start is None:
        return frame.add(earliest, clock.duration)
    if running:
        return max(earliest, clock.due) if clock.due else earliest
    left = clock.duration.amount * (1 - (clock.share or 0.0))  # paused: what is left, from now
    return max(earliest, frame.add(now, Duration(max(0.0, left), clock.duration.unit)))


def _latest(moments) -> datetime | None:
    known = [moment for moment in moments if moment is not None]
    return max(known) if known else None


def _why(state: StepState, early: tuple[str, ...], frame: TimeFrame) -> str:
    if state.done:
        return f"done out of order, before {_names(early, state.group)}" if early else "done"
    if state.skipped or state.canceled:
        return state.state
    if state.blocked:
        return f"blocked by {_names(state.blocked_by, state.group)}"
    head = "in progress" if state.started else "ready"
    if state.paused:
        return f"{head}, paused"
    if state.overdue:
        return f"overdue: due {_local(state.due, frame)}"
    if state.warn and state.share is not None:
        return f"{head}, {state.share:.0%} of {state.duration} used: due {_local(state.due, frame)}"
    return f"{head}, due {_local(state.due, frame)}" if state.due else head


def _unknown_amount(step: Step, clock: _Clock, state: StepState) -> str:
    if state.closed or clock.duration is not None or step.duration is None:
        return ""
    return f"; no due time: {step.duration.amount_from} gave no amount of {step.duration.unit}"


def _names(keys: Sequence[str], group: str) -> str:
    """Keys as a person reads them: a step of the same group by its id."""
    return ", ".join(key.removeprefix(f"{group}.") for key in keys)


def _local(moment: datetime | None, frame: TimeFrame) -> str:
    return moment.astimezone(frame.zone).strftime("%Y-%m-%d %H:%M %Z") if moment else ""


def _group(group: StepGroup, states: Mapping[str, StepState]) -> GroupState:
    items = {step.id: states[step.key] for step in group.steps if step.key in states}
    values = list(items.values())
    ready = tuple(state for state in values if state.ready)
    return GroupState(
        name=group.name, title=group.title, role=group.role, single=group.single, items=StepItems(items), next=ready,
        done=all(state.settled for state in values), overdue=any(state.overdue for state in values),
        warn=any(state.warn for state in values), out_of_order=any(state.out_of_order for state in values),
        projected_finish=_latest(state.projected_finish for state in values), why=_group_why(values, ready),
        missing=tuple(state for state in values if state.state == "missing"),
    )


def _group_why(values: Sequence[StepState], ready: Sequence[StepState]) -> str:
    if all(state.settled for state in values):
        return "done"
    if ready:
        return f"next: {', '.join(state.id for state in ready)}"
    return "; ".join(f"{state.id} {state.why}" for state in values if not state.closed)
