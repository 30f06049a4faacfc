"""Encoded queries (``sysparm_query``): parsing, matching and ordering, as ServiceNow does them.

Grammar: ``^NQ`` separates whole queries that are ORed; inside one, ``^`` separates clauses that
are ANDed and ``^OR`` adds an alternative to the clause before it (so ``a^b^ORc`` is
``a AND (b OR c)``, ServiceNow's precedence). ``ORDERBY<f>``/``ORDERBYDESC<f>`` may appear anywhere.

Semantics chosen to match ServiceNow on its usual MySQL back end:
- text equality, ``IN``, ``LIKE``, ``STARTSWITH`` and ``ENDSWITH`` ignore case;
- values compare as integers when both sides are integers (state, sys_mod_count), else as text,
  which orders ``YYYY-MM-DD HH:MM:SS`` date-times correctly;
- empty values are SQL NULLs: ``!=``, ``NOT IN``, ``NOT LIKE``, ``<``, ``>`` and ``BETWEEN``
  never match them (ask ``^ORfieldISEMPTY`` to include them);
- a term naming a field the table does not have, or using an unknown operator, is dropped,
  so a typo widens the result instead of failing;
- ``javascript:gs.dateGenerate(...)`` operands are read in the user's time zone, and so are plain
  ``YYYY-MM-DD HH:MM:SS`` operands on date-time fields (``sys_updated_on>=2026-10-14 15:00:00``
  means 15:00 in the API user's zone, as on a real instance; for a UTC user nothing changes).
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from . import dates

Record = dict[str, str]
ValueOf = Callable[[Record, str], str]
Predicate = Callable[[Record], bool]
_LOWEST = float("-inf")
KEY = "sys_id"  # compared and sorted as text, as keyset paging needs ("10" < "9")

_OPERATORS = (
    "ISNOTEMPTY", "ISEMPTY", "NOT IN", "NOT LIKE", "NOTLIKE", "STARTSWITH", "ENDSWITH", "BETWEEN",
    "ANYTHING", "EMPTYSTRING", "LIKE", "IN", "!=", "<=", ">=", "=", "<", ">",
)
# Field names are lower case in ServiceNow, so the first capital or symbol starts the operator.
_TERM = re.compile(r"^([a-z0-9_.]+)(" + "|".join(re.escape(op) for op in _OPERATORS) + r")(.*)$", re.DOTALL)


@dataclass(frozen=True)
class Term:
    field: str
    op: str
    value: str


Clause = tuple[Term, ...]  # alternatives, ORed


@dataclass(frozen=True)
class Query:
    groups: tuple[tuple[Clause, ...], ...]  # ^NQ groups, ORed; each a tuple of ANDed clauses
    order: tuple[tuple[str, bool], ...]  # (field, descending)


def parse(encoded: str) -> Query:
    """Split an encoded query into groups, clauses and terms; unparseable terms are dropped."""
    groups: list[tuple[Clause, ...]] = []
    order: list[tuple[str, bool]] = []
    for text in (encoded or "").split("^NQ"):
        clauses: list[list[Term]] = []
        for part in text.split("^"):
            _parse_part(part.strip(), clauses, order)
        groups.append(tuple(tuple(clause) for clause in clauses if clause))
    return Query(tuple(groups), tuple(order))


def _parse_part(part: str, clauses: list[list[Term]], order: list[tuple[str, bool]]) -> None:
    if part.startswith("ORDERBYDESC"):
        order.append((part[len("ORDERBYDESC"):], True))
        return
    if part.startswith("ORDERBY"):
        order.append((part[len("ORDERBY"):], False))
        return
    alternative = part.startswith("OR") and bool(clauses)
    term = _term(part[2:] if alternative else part)
    if term is None:  # "EQ", "GROUPBY..." and typos
        return
    if alternative:
        clauses[-1].append(term)
    else:
        clauses.append([term])


def _term(text: str) -> Term | None:
    match = _TERM.match(text)
    return Term(match.group(1), match.group(2), match.group(3)) if match else None


def compile_filter(query: Query, knows: Callable[[str], bool], value_of: ValueOf, zone: ZoneInfo,
                   is_date_time: Callable[[str], bool] = lambda path: False) -> Predicate:
    """A predicate over records; terms on fields ``knows`` rejects are dropped, like ServiceNow."""
    groups = []
    for group in query.groups:
        clauses = [[_predicate(term, value_of, zone, _kind(term.field, is_date_time)) for term in clause
                    if knows(term.field)] for clause in group]
        groups.append([alternatives for alternatives in clauses if alternatives])
    if not groups or any(not clauses for clauses in groups):
        return lambda record: True  # an empty group matches everything, so their OR does too
    return _any_of([_all_of([_any_of(alternatives) for alternatives in clauses]) for clauses in groups])


def _kind(field: str, is_date_time: Callable[[str], bool]) -> str:
    """How a field's values compare: "key" (sys_ids, as text), "date_time" (zoned operands) or ""."""
    if field == KEY or field.endswith(f".{KEY}"):
        return "key"
    return "date_time" if is_date_time(field) else ""


# Plain loops over closures: several times faster than nested generator expressions on 20,000 rows.

def _any_of(tests: list[Predicate]) -> Predicate:
    if len(tests) == 1:
        return tests[0]

    def any_of(record: Record) -> bool:
        for test in tests:
            if test(record):
                return True
        return False

    return any_of


def _all_of(tests: list[Predicate]) -> Predicate:
    if len(tests) == 1:
        return tests[0]

    def all_of(record: Record) -> bool:
        for test in tests:
            if not test(record):
                return False
        return True

    return all_of


def as_int(text: str) -> int | None:
    """The integer a value spells, or None: integers compare as numbers (state, sys_mod_count)."""
    digits = text[1:] if text[:1] == "-" else text
    return int(text) if digits.isascii() and digits.isdigit() else None


def _equals(operand: str) -> Callable[[str], bool]:
    lowered, number = operand.lower(), as_int(operand)

    def test(value: str) -> bool:
        if value.lower() == lowered:
            return True
        return number is not None and as_int(value) == number

    return test


def _one_of(operands: Iterable[str]) -> Callable[[str], bool]:
    """Equal to any operand as ``_equals`` compares: text ignoring case, or the same integer."""
    stripped = [operand.strip() for operand in operands]
    lowered = {operand.lower() for operand in stripped}
    numbers = {number for number in map(as_int, stripped) if number is not None}

    def test(value: str) -> bool:
        # Two set look-ups: a read-back's 100 sys_ids cost no more per row than one.
        return value.lower() in lowered or (bool(numbers) and as_int(value) in numbers)

    return test


def _compare(compare: Callable[[object, object], bool], operand: str, numeric: bool = True) -> Callable[[str], bool]:
    number = as_int(operand) if numeric else None

    def test(value: str) -> bool:
        if value == "":
            return False
        if number is not None and (other := as_int(value)) is not None:
            return compare(other, number)
        return compare(value, operand)

    return test


def _between(operand: str, zone: ZoneInfo, kind: str) -> Callable[[str], bool]:
    low, _, high = operand.partition("@")
    above = _compare(operator.ge, dates.query_value(low, zone, kind == "date_time"), kind != "key")
    below = _compare(operator.le, dates.query_value(high, zone, kind == "date_time"), kind != "key")
    return lambda value: above(value) and below(value)


def _value_test(op: str, operand: str, zone: ZoneInfo, kind: str) -> Callable[[str], bool]:
    plain = dates.query_value(operand, zone, kind == "date_time")
    lowered = operand.lower()
    if op == "=":
        return _equals(plain)
    if op == "!=":
        equal = _equals(plain)
        return lambda value: value != "" and not equal(value)
    if op == "IN":
        return _one_of(operand.split(","))
    if op == "NOT IN":
        member = _one_of(operand.split(","))
        return lambda value: value != "" and not member(value)
    if op == "LIKE":
        return lambda value: lowered in value.lower()
    if op in ("NOT LIKE", "NOTLIKE"):
        return lambda value: value != "" and lowered not in value.lower()
    if op == "STARTSWITH":
        return lambda value: value.lower().startswith(lowered)
    if op == "ENDSWITH":
        return lambda value: value.lower().endswith(lowered)
    if op in ("ISEMPTY", "EMPTYSTRING"):
        return lambda value: value == ""
    if op == "ISNOTEMPTY":
        return lambda value: value != ""
    if op == "ANYTHING":
        return lambda value: True
    if op == "BETWEEN":
        return _between(operand, zone, kind)
    compare = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}[op]
    return _compare(compare, plain, kind != "key")


def _predicate(term: Term, value_of: ValueOf, zone: ZoneInfo, kind: str) -> Predicate:
    test = _value_test(term.op, term.value, zone, kind)
    name = term.field
    if "." not in name:
        return lambda record: test(record.get(name, ""))
    return lambda record: test(value_of(record, name))


def _column_keys(values: list[str], numeric: bool = True) -> list[object]:
    """Sort keys for one column: numeric when every value is an integer (an integer column), else text
    ignoring case. Empty values sort first, as NULLs do in ascending order."""
    if numeric and all(value == "" or as_int(value) is not None for value in values):
        return [int(value) if value else _LOWEST for value in values]
    return [value.lower() for value in values]


def sort(records: list[Record], order: Iterable[tuple[str, bool]], value_of: ValueOf) -> None:
    """Sort in place by the ORDERBY keys, first key most significant; the sort is stable."""
    for name, descending in reversed(list(order)):
        if "." in name:
            keys = _column_keys([value_of(record, name) for record in records])
        else:
            keys = _column_keys([record.get(name, "") for record in records], numeric=name != KEY)
        positions = sorted(range(len(records)), key=keys.__getitem__, reverse=descending)
        records[:] = [records[position] for position in positions]
