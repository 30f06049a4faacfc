"""The step declarations a pack's ``[steps.<group>]`` tables load into: files as written, and the
frozen steps, groups and plan the engine derives states from (see steps.py for the loading)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal, Mapping

from jinja2 import StrictUndefined
from jinja2.sandbox import ImmutableSandboxedEnvironment
from pydantic import BaseModel, ConfigDict, Field

from .durations import Duration

NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"
STARTS = ("after", "started")
RESERVED = ("groups", "next", "done", "projected_finish")  # what ``steps.X`` reads besides groups
MAPPING_NAMES = ("items", "keys", "values", "get")  # what ``group.items.X`` reads besides steps
ITEM_DEFAULTS = ("owner", "optional", "duration", "start_from", "warn_at", "paused_when")  # a group's, for its items
_FROM_CONTEXT = re.compile(r"^\s*\{\{\s*(?P<expression>.+?)\s*\}\}\s*(?P<unit>bd|m|h|d|w)\s*$")
_JINJA = ImmutableSandboxedEnvironment(undefined=StrictUndefined)

class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StepFile(_Strict):
    """One item of ``items`` as written in pack.toml."""

    id: str = Field(pattern=NAME)
    title: str = ""
    owner: str = ""
    after: list[str] = Field(default_factory=list)
    optional: bool = False
    duration: str | None = None
    start_from: str = "after"
    warn_at: float | None = None
    paused_when: str = ""


class MirrorFile(_Strict):
    """``mirror = {of, items, reverse, only, id}``: another group's items, e.g. for a rollback;
    ``id`` is a template over ``step`` naming each item (``"R{{ step.id[1:] }}"``), so that a
    rollback's records can carry their own step ids beside the launch's, in one step field."""

    of: str
    items: list[str] = Field(default_factory=list)
    reverse: bool = False
    only: Literal["done"] | None = None
    id: str = ""


class GroupFile(_Strict):
    """One ``[steps.<group>]`` table as written in pack.toml."""

    role: str = ""
    ordered: bool = False
    items: list[StepFile] | None = None
    mirror: MirrorFile | None = None
    title: str = ""
    owner: str = ""
    after: list[str] = Field(default_factory=list)
    optional: bool = False
    duration: str | None = None
    start_from: str = "after"
    warn_at: float | None = None
    paused_when: str = ""


@dataclass(frozen=True)
class DurationSpec:
    """A step's duration: fixed (``2bd``), or its amount read from the engagement
    (``{{ change.qa_period_bd }}bd``: the caller evaluates ``amount_from`` and passes the number)."""

    unit: str
    fixed: Duration | None = None
    amount_from: str = ""

    def resolve(self, amount: object) -> Duration | None:
        """The duration, given the amount the caller evaluated; None when it is not a number of
        zero or more (a field left empty): the step then has no due time, and says why."""
        if self.fixed is not None:
            return self.fixed
        try:
            value = float(amount)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return None
        return Duration(value, self.unit) if value >= 0 else None

    def __str__(self) -> str:
        return str(self.fixed) if self.fixed is not None else f"{{{{ {self.amount_from} }}}}{self.unit}"


@dataclass(frozen=True)
class Step:
    """One declared step. ``key`` names it engagement-wide: ``group.id``, or the group's name
    for a one-step group. ``after`` holds keys; a mirror's items are chained when derived."""

    key: str
    group: str
    id: str
    title: str
    owner: str
    after: tuple[str, ...]
    optional: bool
    duration: DurationSpec | None
    start_from: str
    warn_at: float | None
    paused_when: str
    mirrors: str = ""  # the key of the mirrored step, for a mirror's item


@dataclass(frozen=True)
class StepGroup:
    """A declared group: its steps in order, the role of their records, and its mirror if any."""

    name: str
    role: str
    title: str
    steps: tuple[Step, ...]
    single: bool = False
    mirror_of: str = ""
    reverse: bool = False
    only_done: bool = False


@dataclass(frozen=True)
class StepPlan:
    """Every group of a pack, and its steps in an order where each comes after its predecessors."""

    groups: Mapping[str, StepGroup] = field(hash=False)
    order: tuple[str, ...]

    @property
    def steps(self) -> dict[str, Step]:
        """Every step by its key (a mirror's possible items included)."""
        return {step.key: step for group in self.groups.values() for step in group.steps}


