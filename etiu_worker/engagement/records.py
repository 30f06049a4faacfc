"""Typed, frozen records: one raw ServiceNow record read as a role declares it. No I/O.

A ``Record`` has the fields every record has (sys_id, number, state and what it means, when it
was last updated, its step id) and the role's aliases, readable as attributes
(``record.planned_start``) from conditions and templates. A value that cannot be read becomes a
``Problem`` and None, never an exception: the engagement is then flagged, not crashed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo

from ..spelling import did_you_mean
from .roles import UPDATED_ON, RoleDeclaration
from .values import UnreadableValue, plain, read_value

_DATE_KINDS = ("date", "datetime", "local_datetime")
_CLOSED = ("done", "skipped", "canceled")


@dataclass(frozen=True, slots=True)
class Problem:
    """Something about an engagement's records that the playbook cannot work with."""

    key: str
    message: str
    table: str = ""
    sys_id: str = ""
    number: str = ""


class _NoField:
    """The message of an AttributeError for a field a record does not have, made when read:
    ``getattr(record, name, None)`` and the templates' lookups ask for absent fields of every
    engagement each cycle and throw the error away, and the closest field costs a difflib search.
    Read as text (``str``, ``repr``) it is that message, so the error reads as before."""

    __slots__ = ("role", "name", "fields")

    def __init__(self, role: str, name: str, fields: Mapping[str, Any]) -> None:
        self.role, self.name, self.fields = role, name, fields

    def __str__(self) -> str:
        return f"{self.role} has no field {self.name!r}{did_you_mean(self.name, self.fields)}"

    def __repr__(self) -> str:
        return repr(str(self))


@dataclass(frozen=True, slots=True)
class Record:
    """One record in its role, with its declared aliases typed."""

    role: str
    table: str
    sys_id: str
    number: str
    state: str  # the state's name in the role, or "unknown"
    state_value: str
    meaning: str  # pending, open, done, skipped, canceled, or "unknown"
    updated_on: datetime | None
    step: str | None  # the step id, for a role identified by a step field
    code: str | None  # the code, for a role identified by a code
    values: Mapping[str, Any] = field(hash=False)
    raw: Mapping[str, Any] = field(repr=False, compare=False, hash=False)

    def __getattr__(self, name: str) -> Any:
        # Only called for names that are not attributes: the role's aliases (or a slot not yet set).
        if name.startswith("_") or name in Record.__slots__:
            raise AttributeError(name)
        values = self.values
        if name in values:
            return values[name]
        raise AttributeError(_NoField(self.role, name, values))

    def __dir__(self) -> list[str]:
        # So that the names a condition can read on a record (names.names_of) include the aliases.
        # object.__dir__, not super(): a slots dataclass is a new class, which a bare super() misses.
        return sorted({*object.__dir__(self), *self.values})

    @property
    def is_pending(self) -> bool:
        return self.meaning == "pending"

    @property
    def is_open(self) -> bool:
        return self.meaning == "open"

    @property
    def is_done(self) -> bool:
        return self.meaning == "done"

    @property
    def is_skipped(self) -> bool:
        return self.meaning == "skipped"

    @property
    def is_canceled(self) -> bool:
        return self.meaning == "canceled"

    @property
    def is_closed(self) -> bool:
        """Done, skipped or canceled: nobody works on it any more."""
        return self.meaning in _CLOSED


def read_record(
    role: str, declaration: RoleDeclaration, raw: Mapping[str, Any], zone: ZoneInfo, problems: list[Problem]
) -> Record:
    """``raw`` read as a record of ``role``; what cannot be read is added to ``problems``."""
    return RecordReader(role, declaration).read(raw, zone, problems)


class RecordReader:
    """How one role's raw records are read, worked out from its declaration once for a whole batch."""

    def __init__(self, role: str, declaration: RoleDeclaration) -> None:
        self.role, self.table, self.state_field = role, declaration.table, declaration.state_field
        self.states: dict[str, str] | None = None  # stored value -> the first name declaring it
        if declaration.states:
            self.states = {}
            for name, stored in declaration.states.items():
                self.states.setdefault(stored, name)
        self.meaning = declaration.meaning
        self.fields = tuple((alias, item.field, item.type) for alias, item in declaration.fields.items())
        identity = declaration.identity
        self.step_field = identity.field if identity and identity.kind == "step" else None
        self.code = identity.value if identity and identity.kind == "code" else None

    def read(self, raw: Mapping[str, Any], zone: ZoneInfo, problems: list[Problem]) -> Record:
        """``raw`` read as a record of the role; what cannot be read is added to ``problems``."""
        where = _where(self.table, raw)
        state_value = plain(raw.get(self.state_field))
        state = _state_name(self.states, state_value, where, problems)
        values = {alias: _typed(raw, name, kind, zone, where, problems) for alias, name, kind in self.fields}
        return Record(
            role=self.role,
            table=self.table,
            sys_id=where["sys_id"],
            number=where["number"],
            state=state,
            state_value=state_value,
            meaning=self.meaning.get(state, "unknown"),
            updated_on=_typed(raw, UPDATED_ON, "datetime", zone, where, problems),
            step=plain(raw.get(self.step_field)) if self.step_field is not None else None,
            code=self.code,
            values=MappingProxyType(values),
            # A read-only view, not a copy: a record costs no second copy of its row (rows are not changed once read).
            raw=raw if type(raw) is MappingProxyType else MappingProxyType(raw),
        )


def _where(table: str, raw: Mapping[str, Any]) -> dict[str, str]:
    return {"table": table, "sys_id": plain(raw.get("sys_id")), "number": plain(raw.get("number"))}


def _state_name(states: dict[str, str] | None, value: str, where: dict[str, str], problems: list[Problem]) -> str:
    """The role's name for a state value; an unknown one is a problem for the sanity rule."""
    if not states:
        return "unknown"  # a role that declares no states does not read them
    name = states.get(value)
    if name is not None:
        return name
    number = where["number"]
    problems.append(Problem(f"unknown-state:{number}:{value}",
                            f"{number} is in state {value!r}, which the playbook does not know", **where))
    return "unknown"


def _typed(
    raw: Mapping[str, Any], name: str, kind: str, zone: ZoneInfo, where: dict[str, str], problems: list[Problem]
) -> Any:
    text = plain(raw.get(name))
    try:
        return read_value(kind, text, zone)
    except UnreadableValue as error:
        number = where["number"]
        prefix = "bad-date" if kind in _DATE_KINDS else f"bad-{kind}"
        problems.append(Problem(f"{prefix}:{number}:{name}",
                                f"{number} has {name} = {text[:40]!r}, not {error.expected}", **where))
        return None
