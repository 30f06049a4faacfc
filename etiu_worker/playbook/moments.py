"""A pack's dates and latches together, computed in the order they read each other.

A date may read a latch (``latches.notice.value | minus('48h')``) and a latch a date
(``when = "now >= dates.cutoff"``): each is computed after what it reads, whichever kind it is,
and a cycle through both kinds fails at load.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Mapping

from .dates import NamedDates, compile_date_expressions, evaluate_date
from .expressions import check_reads, dependency_order
from .latch_memory import kept_value, read_kept_value
from .latches import Latch, LatchState, compile_latches, evaluate_latch
from .scope import Scope

LATCHES = "latches"  # the engagement memory's key for what the pack's latches remember


@dataclass(frozen=True)
class MomentValues:
    """One engagement's dates and latches in one cycle."""

    dates: Mapping[str, Any]
    latches: Mapping[str, LatchState]

    def memory(self) -> dict[str, Any]:
        """What to remember of the latches until the next cycle, as plain JSON data."""
        return {name: state.to_memory() for name, state in self.latches.items()}


@dataclass(frozen=True)
class Moments:
    """A pack's dates and latches, compiled, and the one order to compute them in."""

    dates: NamedDates
    latches: Mapping[str, Latch]
    order: tuple[str, ...]  # dates.x and latches.y

    def evaluate(self, context: Mapping[str, Any], memory: Mapping[str, Any], now: datetime) -> MomentValues:
        """Every date and latch for one engagement; ``memory`` is what ``MomentValues.memory`` gave
        last cycle (a latch it does not mention is not set)."""
        dates: dict[str, Any] = {}
        latches: dict[str, LatchState] = {}
        scope = Scope({**context, "dates": dates, "latches": latches})  # dates and latches fill in place
        for qualified in self.order:
            kind, name = qualified.split(".", 1)
            if kind == "dates":
                dates[name] = evaluate_date(name, self.dates.expressions[name], scope)
            else:
                latches[name] = evaluate_latch(self.latches[name], _remembered(name, memory), scope, now)
        return MomentValues({name: dates[name] for name in self.dates.names},
                            {name: latches[name] for name in self.latches})


    def remembered(self, memory: Mapping[str, Any]) -> dict[str, Any]:
        """What the latches remembered, from the engagement's memory: ``evaluate``'s ``memory``."""
        found = dict(memory.get(LATCHES) or {})
        for name, latch in self.latches.items():
            if latch.kept_as and memory.get(latch.kept_as) not in (None, ""):
                value = read_kept_value(memory[latch.kept_as], name)
                found[name] = LatchState(name, True, None, value).to_memory()
        return found

    def remember(self, memory: Mapping[str, Any], latches: Mapping[str, LatchState]) -> dict[str, Any]:
        """``memory`` with what ``latches`` remember (unchanged when the pack has none)."""
        if not latches:
            return dict(memory)
        kept = {latch.kept_as: latch for latch in self.latches.values() if latch.kept_as}
        updated = {key: value for key, value in memory.items() if key not in kept}
        for key, latch in kept.items():
            state = latches.get(latch.name)
            if state is not None and state.set:
                updated[key] = kept_value(state.value, latch.name)
        rest = {name: state.to_memory() for name, state in latches.items() if not self.latches[name].kept_as}
        return {**updated, LATCHES: rest} if rest or LATCHES in memory else updated


def _remembered(name: str, memory: Mapping[str, Any]) -> LatchState | None:
    return LatchState.from_memory(name, memory[name]) if name in memory else None


def compile_moments(dates_table: Any, latches_table: Any, env: Any) -> Moments:
    """Compile a pack's ``[dates]`` and ``[latches.*]`` at load; RulesError naming the one at fault."""
    expressions = compile_date_expressions(dates_table, env)
    latches = compile_latches(latches_table, env, date_names=expressions)
    declared = {"dates": list(expressions), "latches": list(latches)}
    for expression in expressions.values():
        check_reads(expression.where, expression.reads, declared)
    reads = {**{f"dates.{name}": e.reads for name, e in expressions.items()},
             **{f"latches.{name}": latch.reads for name, latch in latches.items()}}
    order = dependency_order(reads)
    dates_order = tuple(name.split(".", 1)[1] for name in order if name.startswith("dates."))
    return Moments(NamedDates(expressions, dates_order), latches, order)
