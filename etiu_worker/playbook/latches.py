"""Latches: a value the engine remembers the first time a condition holds.

``[latches.notice] when = "notice_sent" value = "slot.planned_start"`` gives conditions
``latches.notice.set`` (the condition held once), ``.at`` (when that was first seen), ``.value``
(the value then), ``.current`` (the value now) and ``.changed``. ``reset_when`` forgets it; while
``reset_when`` holds the latch cannot set again. A condition that cannot be evaluated never sets
nor resets a latch: it keeps what it remembered. ``kept_as = "KEY"`` keeps the latch under that
key of the engagement's memory, as its value alone (a date-time as ServiceNow writes one), as a
value was remembered before latches: a state folder written then keeps what it remembered (the
moment it was first seen is then not known: ``at`` is none). ``renew_when`` sets a set latch again,
now and with the value now, when it holds together with ``when``: it may read the latch itself as
remembered (``renew_when = "latches.notice.changed"``: a notice remembered for a slot that moved
is sent again for the new slot once it is due).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterable, Mapping

from jinja2.runtime import Undefined

from ..errors import RulesError
from .names import did_you_mean, names_of
from .dates import EVALUATION_ERRORS
from .expressions import Expression, check_reads, compile_expression, failed
from .latch_memory import UTC, decode_value, encode_value, parse_instant

KEYS = ("when", "value", "reset_when", "kept_as")
RENEW = "renew_when"  # accepted beside KEYS; the message of an unknown key names KEYS as before
RESERVED_MEMORY = ("latches", "roadmap", "carrying", "carried_from", "conflicts")  # the memory keys the engine writes
MEANINGS = {
    "name": "The latch's name, as declared under `[latches.NAME]`.",
    "set": "True once `when` has held (and stays true, whatever `when` says later, until `reset_when` holds).",
    "at": "When the worker first saw `when` hold (an instant), or none while not set.",
    "value": "The value of `value` when the latch set, or none while not set.",
    "current": "The value of `value` now.",
    "changed": "Set, and `current` differs from the remembered `value` (e.g. the slot moved since the notice).",
    "error": "Why the latch's conditions could not be evaluated this cycle (it then keeps what it remembered), else empty.",
}


@dataclass(frozen=True)
class Latch:
    """A pack's latch, compiled: its conditions and the expression whose value it remembers."""

    name: str
    when: tuple[Expression, ...]
    value: Expression
    reset_when: tuple[Expression, ...] = ()
    kept_as: str = ""  # the memory key it is kept under as its value alone, or "" (under latches)
    renew_when: tuple[Expression, ...] = ()  # may read the latch itself, as remembered

    @property
    def reads(self) -> frozenset[str]:
        renew = frozenset().union(*(e.reads for e in self.renew_when)) - {f"latches.{self.name}"}
        return frozenset().union(*(e.reads for e in (*self.when, self.value, *self.reset_when)), renew)


@dataclass(frozen=True)
class LatchState:
    """What a latch knows in one cycle: whether it is set, since when, the value then and now."""

    name: str
    set: bool = False
    at: datetime | None = None
    value: Any = None
    current: Any = None
    error: str = ""  # why its conditions could not be evaluated this cycle

    @property
    def changed(self) -> bool:
        """Set, and the value now differs from the value remembered."""
        if not self.set:
            return False
        if isinstance(self.current, Undefined):
            self.current._fail_with_undefined_error()  # a condition reading .changed records why
        return comparable(self.current) != comparable(self.value)

    def to_memory(self) -> dict[str, Any]:
        """Plain JSON data: whether set, and since when and with what value (ISO text for times)."""
        if not self.set:
            return {"set": False}
        return {"set": True, "at": self.at.isoformat() if self.at else None, "value": encode_value(self.value, self.name)}

    @classmethod
    def from_memory(cls, name: str, data: Any) -> LatchState:
        """The state ``to_memory`` stored; ValueError naming the latch when it is not that."""
        if not isinstance(data, Mapping) or not isinstance(data.get("set"), bool):
            raise ValueError(f"latches.{name}: remembered state {data!r} is not one the worker stored")
        if not data["set"]:
            return cls(name)
        at = data.get("at")  # none for a latch kept as its value alone (kept_as)
        return cls(name, True, None if at is None else parse_instant(at, name), decode_value(data.get("value"), name))


def latch_reference() -> list[str]:
    """The README's lines about ``latches.NAME``, one per name a condition can read."""
    sample = LatchState("notice")
    names = [name for name in names_of(sample) if not callable(getattr(sample, name))]
    missing = sorted(set(names) - set(MEANINGS))
    if missing:
        raise LookupError(f"latch state names {missing} have no meaning: say it in latches.MEANINGS")
    return [f"- `latches.NAME.{name}`: {MEANINGS[name]}" for name in MEANINGS if name in names]


def comparable(value: Any) -> Any:
    """A datetime in UTC: one in the repeated hour of a fall-back never equals itself read back
    from memory in another zone (PEP 495), which would make every such latch look changed."""
    return value.astimezone(UTC) if isinstance(value, datetime) else value


def compile_latches(table: Any, env: Any, date_names: Iterable[str] = ()) -> dict[str, Latch]:
    """Compile a pack's ``[latches.*]`` at load; RulesError naming ``latches.<name>`` and the problem."""
    if not isinstance(table, Mapping):
        raise RulesError(f"latches: expected tables [latches.NAME] with when and value, got {table!r}")
    latches = {name: _compile_latch(str(name), entry, env) for name, entry in table.items()}
    declared = {"dates": list(date_names), "latches": list(latches)}
    for latch in latches.values():
        for expression in (*latch.when, latch.value, *latch.reset_when, *latch.renew_when):
            check_reads(expression.where, expression.reads, declared)
    return latches


def _compile_latch(name: str, entry: Any, env: Any) -> Latch:
    where = f"latches.{name}"
    if not name.isidentifier():
        raise RulesError(f"{where}: a latch's name is letters, digits and _, not starting with a digit")
    if not isinstance(entry, Mapping):
        raise RulesError(f"{where}: expected a table with when and value, got {entry!r}")
    for key in entry:
        if key not in KEYS and key != RENEW:
            raise RulesError(f"{where}: unknown key {key!r}{did_you_mean(key, (*KEYS, RENEW))}; a latch has {', '.join(KEYS)}")
    for key, meaning in (("when", "the condition that sets it"), ("value", "the expression it remembers")):
        if key not in entry:
            raise RulesError(f"{where}: {key} is missing: give {meaning}")
    return Latch(name, _conditions(entry["when"], f"{where}.when", env), compile_expression(env, entry["value"], f"{where}.value"),
                 _conditions(entry.get("reset_when", ()), f"{where}.reset_when", env), _kept_as(entry.get("kept_as", ""), where),
                 _conditions(entry.get(RENEW, ()), f"{where}.{RENEW}", env))


def _kept_as(key: Any, where: str) -> str:
    if not isinstance(key, str) or not (key == "" or key.isidentifier()) or key in RESERVED_MEMORY:
        raise RulesError(f"{where}.kept_as: {key!r} is not a memory key a latch may use: write letters, digits and _, "
                         f"other than {', '.join(RESERVED_MEMORY)}")
    return key


def _conditions(source: Any, where: str, env: Any) -> tuple[Expression, ...]:
    """One condition or a list of them, all of which must hold."""
    sources = [source] if isinstance(source, str) else source
    if not isinstance(sources, (list, tuple)):
        raise RulesError(f"{where}: expected a condition or a list of conditions, got {source!r}")
    return tuple(compile_expression(env, text, f"{where}[{i}]" if len(sources) > 1 else where) for i, text in enumerate(sources))


def evaluate_latch(latch: Latch, remembered: LatchState | None, context: Mapping[str, Any], now: datetime) -> LatchState:
    """The latch this cycle, from what it remembered and the context (which holds ``dates`` and
    the ``latches`` it reads). Reset wins over set; an error keeps what was remembered."""
    before = remembered or LatchState(latch.name)
    current = _value(latch, context)
    try:
        resets = _all_hold(latch.reset_when, context)
        holds = not before.set and not resets and _all_hold(latch.when, context)
    except EVALUATION_ERRORS as error:
        return LatchState(latch.name, before.set, before.at, before.value, current, f"{type(error).__name__}: {error}")
    if before.set and not resets:
        kept = LatchState(latch.name, True, before.at, before.value, current)
        return renewed(latch, kept, context, now)
    if holds:
        return _set(latch.name, current, now)
    return LatchState(latch.name, current=current)


def renewed(latch: Latch, kept: LatchState, context: Mapping[str, Any], now: datetime) -> LatchState:
    """``kept``, or the latch set again now with its value now when ``renew_when`` (reading the
    latch as ``kept``) and ``when`` hold; an error keeps it as it was, saying why."""
    if not latch.renew_when:
        return kept
    scope = {**context, "latches": {**context.get("latches", {}), latch.name: kept}}
    try:
        renew = _all_hold(latch.renew_when, scope) and _all_hold(latch.when, context)
    except EVALUATION_ERRORS as error:
        return LatchState(kept.name, True, kept.at, kept.value, kept.current, f"{type(error).__name__}: {error}")
    if not renew:
        return kept
    fresh = _set(latch.name, kept.current, now)
    return fresh if fresh.set else LatchState(kept.name, True, kept.at, kept.value, kept.current, fresh.error)


def _set(name: str, current: Any, now: datetime) -> LatchState:
    if isinstance(current, Undefined):  # nothing to remember: try again next cycle
        return LatchState(name, current=current, error=current._undefined_message)
    try:
        encode_value(current, name)  # a value that could not be remembered is refused now, not when saved
    except ValueError as error:
        return LatchState(name, current=current, error=str(error))
    return LatchState(name, True, now, current, current)


def _all_hold(conditions: tuple[Expression, ...], context: Mapping[str, Any]) -> bool:
    return bool(conditions) and all(bool(condition.evaluate(context)) for condition in conditions)


def _value(latch: Latch, context: Mapping[str, Any]) -> Any:
    try:
        return latch.value.evaluate(context)
    except EVALUATION_ERRORS as error:
        return failed(f"latches.{latch.name}.value", error)
