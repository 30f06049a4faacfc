"""What the derivation of steps reads (a record's meaning, resolved instants) and what it gives.

Conditions and templates read the result as ``steps``:

* ``steps.<group>`` is a ``GroupState``: ``items.<id>`` (each a ``StepState``; attribute access
  works in Python too), ``next`` (the ready steps), ``done`` (every step done or skipped),
  ``overdue``, ``warn``, ``out_of_order`` (any step), ``projected_finish`` and ``why``:
  ``steps.launch.items.L5.done``, ``steps.launch.next | length``.
* a group written as one step reads as that step: ``steps.review.overdue``, ``steps.review.due``
  (its group stays at ``steps.groups.review``).
* ``steps.next``, ``steps.done`` and ``steps.projected_finish`` are the engagement's.

``step_reference`` lists every name with its meaning, for the README.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Iterator, Mapping

from ..spelling import did_you_mean
from .durations import Duration

MEANINGS = ("pending", "open", "done", "skipped", "canceled", "missing")


@dataclass(frozen=True)
class StepRecord:
    """A step's record as the engine read it: what its state means, when it went in progress and
    when it was done (its closed time, or its update time when it has none); ``missing`` when the
    engagement has no record for the step."""

    meaning: str = "missing"
    started_at: datetime | None = None
    done_at: datetime | None = None

    def __post_init__(self) -> None:
        if self.meaning not in MEANINGS:
            raise ValueError(f"a step's record means one of {', '.join(MEANINGS)}, not {self.meaning!r}")


@dataclass(frozen=True)
class StepFacts:
    """Everything about one step the caller resolved: its record, the instant its clock starts
    (for a ``start_from`` naming a date or field), whether its ``paused_when`` holds, and the
    amount of a duration read from the engagement."""

    record: StepRecord = StepRecord()
    start: datetime | None = None
    paused: bool = False
    amount: object = None  # what the expression gave: a number, or text such as "5" read from a field


@dataclass(frozen=True)
class StepState:
    """One step, derived. ``share`` is the share of its duration used (to now, or to when it was
    done; 1.0 = all of it). ``why`` says in words what holds: "blocked by P2, P3"."""

    key: str
    group: str
    id: str
    title: str
    owner: str
    optional: bool
    state: str
    done: bool
    skipped: bool
    canceled: bool
    ready: bool
    blocked: bool
    blocked_by: tuple[str, ...]
    started: bool
    started_at: datetime | None
    done_at: datetime | None
    start: datetime | None
    duration: Duration | None
    due: datetime | None
    overdue: bool
    warn: bool
    share: float | None
    out_of_order: bool
    paused: bool
    projected_finish: datetime | None
    why: str

    @property
    def closed(self) -> bool:
        """Done, skipped or canceled: nothing is left to do on it."""
        return self.done or self.skipped or self.canceled

    @property
    def settled(self) -> bool:
        """Done or skipped: the steps after it may go on."""
        return self.done or self.skipped


class StepItems(Mapping[str, StepState]):
    """A group's steps by id, in their order; ``items.L3`` reads as ``items['L3']``."""

    def __init__(self, states: Mapping[str, StepState]) -> None:
        self._states = dict(states)

    def __getitem__(self, id_: str) -> StepState:
        return self._states[id_]

    def __iter__(self) -> Iterator[str]:
        return iter(self._states)

    def __len__(self) -> int:
        return len(self._states)

    def __getattr__(self, id_: str) -> StepState:
        if id_.startswith("_"):
            raise AttributeError(id_)
        try:
            return self._states[id_]
        except KeyError:
            raise AttributeError(f"no step {id_!r} here; the steps are {', '.join(self._states) or '(none)'}") from None

    def __repr__(self) -> str:
        return f"StepItems({list(self._states)})"


@dataclass(frozen=True)
class GroupState:
    """A group of steps, derived: its steps by id in their order, and what holds for the group."""

    name: str
    title: str
    role: str
    single: bool
    items: StepItems = field(hash=False)
    next: tuple[StepState, ...]
    done: bool
    overdue: bool
    warn: bool
    out_of_order: bool
    projected_finish: datetime | None
    why: str
    missing: tuple[StepState, ...] = ()  # its steps with no record yet: what a create of the group makes


@dataclass(frozen=True)
class StepsState:
    """Every group of an engagement, derived; ``steps.<group>`` reads a group (or its one step)."""

    groups: Mapping[str, GroupState] = field(hash=False)
    next: tuple[StepState, ...]
    done: bool
    projected_finish: datetime | None

    def __getattr__(self, name: str) -> Any:
        # Only called for names that are not fields; a pack may not name a group like a field.
        if name.startswith("_") or name == "groups":
            raise AttributeError(name)
        group = self.groups.get(name)
        if group is None:
            raise AttributeError(f"steps has no group {name!r}{did_you_mean(name, self.groups)}")
        return next(iter(group.items.values())) if group.single else group

    def __dir__(self) -> list[str]:
        return sorted({*super().__dir__(), *self.groups})


def every_step(steps: StepsState) -> Iterator[StepState]:
    """Every step of every group, in the plan's order."""
    for group in steps.groups.values():
        yield from group.items.values()
