"""Named dates: a pack's ``[dates]`` table, each a Jinja expression computed for an engagement.

``cutoff = "slot.planned_start | local_day | at('13:00')"`` gives conditions ``dates.cutoff``.
A date reads the context and other dates (``dates.x``) and latches (``latches.x.value``); it
is an aware datetime, a date, a range of days, or none when what it reads is not set. One that
fails to compute fails only the conditions that read it, with a message naming it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Iterable, Mapping
from zoneinfo import ZoneInfo

from jinja2 import TemplateError as JinjaTemplateError
from jinja2.runtime import Undefined

from ..errors import RulesError
from .dayrange import DayRange, local_midnight
from .expressions import Expression, check_reads, compile_expression, dependency_order, failed
from .scope import Scope

EVALUATION_ERRORS = (JinjaTemplateError, TypeError, ValueError, AttributeError, ArithmeticError)


@dataclass(frozen=True)
class NamedDates:
    """A pack's dates, compiled, with the order they are computed in."""

    expressions: Mapping[str, Expression]
    order: tuple[str, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self.expressions)

    def evaluate(self, context: Mapping[str, Any]) -> dict[str, Any]:
        """Every date for one engagement, each computed after the dates it reads."""
        values: dict[str, Any] = {}
        scope = Scope({**context, "dates": values})  # values fill in place
        for name in self.order:
            values[name] = evaluate_date(name, self.expressions[name], scope)
        return {name: values[name] for name in self.expressions}


def compile_dates(table: Any, env: Any, latch_names: Iterable[str] = ()) -> NamedDates:
    """Compile a pack's ``[dates]`` at load; RulesError naming ``dates.<name>`` and the problem."""
    expressions = compile_date_expressions(table, env)
    declared = {"dates": list(expressions), "latches": list(latch_names)}
    for expression in expressions.values():
        check_reads(expression.where, expression.reads, declared)
    order = dependency_order({f"dates.{name}": e.reads & _qualified("dates", expressions) for name, e in expressions.items()})
    return NamedDates(expressions, tuple(name.split(".", 1)[1] for name in order))


def compile_date_expressions(table: Any, env: Any) -> dict[str, Expression]:
    """Each date's expression compiled, in declaration order; what they read is not yet checked."""
    if not isinstance(table, Mapping):
        raise RulesError(f"dates: expected a table of name = expression, got {table!r}")
    for name in table:
        if not str(name).isidentifier():
            raise RulesError(f"dates.{name}: a date's name is letters, digits and _, not starting with a digit")
    return {name: compile_expression(env, source, f"dates.{name}") for name, source in table.items()}


def _qualified(namespace: str, names: Iterable[str]) -> frozenset[str]:
    return frozenset(f"{namespace}.{name}" for name in names)


def evaluate_date(name: str, expression: Expression, scope: Mapping[str, Any]) -> Any:
    """One date's value, or a Failed value saying why it could not be computed."""
    try:
        value = expression.evaluate(scope)
    except EVALUATION_ERRORS as error:
        return failed(f"dates.{name}", error)
    return value if isinstance(value, Undefined) else _checked(name, value)


def _checked(name: str, value: Any) -> Any:
    if isinstance(value, datetime) and value.utcoffset() is None:
        return failed(f"dates.{name}", ValueError(f"{value.isoformat()} has no time zone"))
    if value is None or isinstance(value, (date, DayRange)):
        return value
    return failed(f"dates.{name}", TypeError(f"it is {type(value).__name__} {value!r}, not a date, a datetime or a range of days"))


def failures(values: Mapping[str, Any]) -> dict[str, str]:
    """The dates that could not be computed, with why: for a run's log or report."""
    return {name: value._undefined_message for name, value in values.items() if isinstance(value, Undefined)}


@dataclass(frozen=True)
class Deadline:
    """The next declared date still ahead, and the instant it falls at."""

    name: str
    at: datetime


def next_deadline(values: Mapping[str, Any], now: datetime, zone: ZoneInfo) -> Deadline | None:
    """The earliest date still in the future: a datetime as it is, a date at local midnight, a range
    at its start; none, unset and failed dates are left out; of two at the same instant, the first declared."""
    ahead = [Deadline(name, at) for name, at in ((n, instant_of(v, zone)) for n, v in values.items())
             if at is not None and at > now]
    return min(ahead, key=lambda deadline: deadline.at, default=None)


def instant_of(value: Any, zone: ZoneInfo) -> datetime | None:
    """When a date value falls: a datetime itself, a date's local midnight, a range's start."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return local_midnight(value, zone)
    if isinstance(value, DayRange):
        return value.start
    return None
