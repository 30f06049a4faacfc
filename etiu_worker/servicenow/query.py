"""ServiceNow encoded queries, built so that no value can change what a query means.

The encoded query language has no escape. ``^`` separates terms, so a value holding
``foo^ORsys_id!=x`` would widen a query to almost every row; a comma splits an ``IN`` list; a
term naming an unknown field is silently dropped, so a malformed field name can make a query
match everything. Line breaks are refused too (their handling is undocumented), and so are values
starting with ``javascript:``, which ServiceNow evaluates as a server-side script.

Everything is checked while the query is built, before any request, and refused with
``QueryValueError``; nothing is "cleaned": a value that cannot be expressed is the caller's to
handle (skip it, or match a part of it).

    Query.where("correlation_id", "=", "ENG-1").and_in("sys_id", ids).order_by("number")
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from ..errors import QueryValueError

Value = str | int
IN_BATCH = 100  # values per IN list: one list request per 100 records, for every batched read


def in_batches(values: list[str]) -> Iterable[list[str]]:
    """``values`` in slices of ``IN_BATCH``, one slice per ``IN`` query."""
    for start in range(0, len(values), IN_BATCH):
        yield values[start:start + IN_BATCH]

_FIELD_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")
_COMPARISONS = ("=", "!=", "<", "<=", ">", ">=", "STARTSWITH", "ENDSWITH", "LIKE")
_LIST_OPERATORS = ("IN", "NOT IN")
_VALUELESS_OPERATORS = ("ISEMPTY", "ISNOTEMPTY")
_SHOWN_CHARACTERS = 40
_FORBIDDEN_IN_VALUES = (
    ("^", "'^', which starts a new query term (ServiceNow has no escape for it)"),
    ("\n", "a line break"),
    ("\r", "a carriage return"),
)


def checked_field(name: str) -> str:
    """``name`` if it is a field name (letters, digits, ``_``; ``.`` to dot-walk), else QueryValueError."""
    if not isinstance(name, str) or not _FIELD_NAME.fullmatch(name):
        raise QueryValueError(
            f"{_shown(name)} is not a field name: use letters, digits and '_', with '.' to dot-walk "
            f"(ServiceNow drops a term it cannot read, and the query would then match every row)"
        )
    return name


def checked_value(value: Value, *, field: str = "") -> str:
    """``value`` as query text, or QueryValueError if it could change the meaning of the query."""
    text = _as_text(value)
    for character, description in _FORBIDDEN_IN_VALUES:
        if character in text:
            raise QueryValueError(
                f"the value {_shown(text)} for {field or 'a query field'} holds {description}, so it "
                f"could widen the query: leave this record out, or match the part before it (STARTSWITH)"
            )
    if text.lstrip().lower().startswith("javascript:"):
        raise QueryValueError(
            f"the value {_shown(text)} for {field or 'a query field'} starts with 'javascript:', which "
            f"ServiceNow would run as a script: compute the value in Python instead"
        )
    return text


class Query:
    """An immutable encoded query: each method returns a new ``Query``; ``str()`` gives the text."""

    __slots__ = ("_terms", "_orderings")

    def __init__(self) -> None:
        self._terms: tuple[str, ...] = ()
        self._orderings: tuple[str, ...] = ()

    @classmethod
    def where(cls, field: str, operator: str, value: Value | Iterable[Value] | None = None) -> Query:
        return cls().and_where(field, operator, value)

    def and_where(self, field: str, operator: str, value: Value | Iterable[Value] | None = None) -> Query:
        return self._with(terms=(_term(field, operator, value),))

    def or_where(self, field: str, operator: str, value: Value | Iterable[Value] | None = None) -> Query:
        """``^OR``: the term is an alternative to the term just before it (OR binds before AND)."""
        if not self._terms:
            raise ValueError("or_where() needs a term before it: start with Query.where()")
        return self._with(terms=("OR" + _term(field, operator, value),))

    def and_in(self, field: str, values: Iterable[Value]) -> Query:
        return self.and_where(field, "IN", values)

    def order_by(self, field: str, *, descending: bool = False) -> Query:
        keyword = "ORDERBYDESC" if descending else "ORDERBY"
        return self._with(orderings=(keyword + checked_field(field),))

    def _with(self, terms: tuple[str, ...] = (), orderings: tuple[str, ...] = ()) -> Query:
        extended = Query()
        extended._terms = self._terms + terms
        extended._orderings = self._orderings + orderings
        return extended

    def __str__(self) -> str:
        # Orderings go last whatever the call order, so that they never split an OR group.
        return "^".join(self._terms + self._orderings)

    def __repr__(self) -> str:
        return f"Query({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Query) and str(self) == str(other)

    def __hash__(self) -> int:
        return hash(str(self))

    def __bool__(self) -> bool:
        return bool(self._terms or self._orderings)


def _term(field: str, operator: str, value: Value | Iterable[Value] | None) -> str:
    name = checked_field(field)
    if operator in _VALUELESS_OPERATORS:
        if value is not None:
            raise ValueError(f"{operator} takes no value (got {value!r} for {name})")
        return f"{name}{operator}"
    if value is None:
        raise ValueError(f"{operator} needs a value for {name}")
    if operator in _LIST_OPERATORS:
        return f"{name}{operator}{_checked_list(value, name)}"
    if operator in _COMPARISONS:
        return f"{name}{operator}{checked_value(value, field=name)}"  # type: ignore[arg-type]
    known = ", ".join(_COMPARISONS + _LIST_OPERATORS + _VALUELESS_OPERATORS)
    raise ValueError(f"unknown query operator {operator!r}; use one of {known}")


def _checked_list(values: Value | Iterable[Value], field: str) -> str:
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        raise TypeError(f"IN for {field} takes a list of values, not {type(values).__name__}")
    items = [checked_value(value, field=field) for value in values]
    if not items:
        # Whether ServiceNow drops an empty IN term (matching every row) is undocumented: never send one.
        raise QueryValueError(
            f"the IN list for {field} is empty: skip the query when there is nothing to look for"
        )
    for item in items:
        if "," in item:
            raise QueryValueError(
                f"the value {_shown(item)} for {field} holds ',', which splits an IN list: "
                f"query this value on its own with '='"
            )
    return ",".join(items)


def _as_text(value: Value) -> str:
    if isinstance(value, bool):  # before int: bool is an int
        return "true" if value else "false"
    if isinstance(value, (str, int)):
        return str(value)
    raise TypeError(f"a query value must be a str or an int, not {type(value).__name__}")


def _shown(value: object) -> str:
    text = value if isinstance(value, str) else repr(value)
    if len(text) > _SHOWN_CHARACTERS:
        text = text[:_SHOWN_CHARACTERS] + "..."
    return repr(text)
