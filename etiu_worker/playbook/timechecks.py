"""Load-time checks of the time filters in an expression's syntax tree.

A duration, a time of day or a count written as a literal (``minus('48 hours')``,
``at('1pm')``, ``bd_range(day, 0)``) would fail on every engagement: refuse it when the pack
loads, naming where, instead of finding out in a cycle.
"""

from __future__ import annotations

import inspect
from typing import Any, Iterator

from jinja2 import nodes

from ..errors import RulesError
from .durations import UNITS, parse_duration
from .timefilters import FILTERS, GLOBALS, wall_time
from .tree_nodes import find_all

_USAGE = {
    "plus": "x | plus('2bd') or x | plus(n, 'bd')", "minus": "x | minus('48h') or x | minus(n, 'h')",
    "local_day": "x | local_day", "at": "x | at('13:00')",
    "business_days_between": "business_days_between(a, b)", "bd_range": "bd_range(day, 5)",
}


def check_time_literals(tree: nodes.Node, where: str) -> None:
    """RulesError naming ``where`` for a time filter or function used wrongly with literals."""
    for name, args, kwargs in _uses(tree):
        _check_arguments(name, args, kwargs, where)
        literal = [arg.value if isinstance(arg, nodes.Const) else _UNKNOWN for arg in args]
        _check_values(name, literal, where)


_UNKNOWN = object()  # an argument computed at evaluation, not written as a literal


def _uses(tree: nodes.Node) -> Iterator[tuple[str, list[nodes.Expr], list[nodes.Keyword]]]:
    found = find_all(tree, (nodes.Filter, nodes.Call))
    if isinstance(tree, (nodes.Filter, nodes.Call)):
        found.append(tree)
    for node in found:
        if isinstance(node, nodes.Filter) and node.name in FILTERS:
            yield node.name, node.args, node.kwargs
        elif isinstance(node, nodes.Call) and isinstance(node.node, nodes.Name) and node.node.name in GLOBALS:
            yield node.node.name, node.args, node.kwargs


def _check_arguments(name: str, args: list[Any], kwargs: list[nodes.Keyword], where: str) -> None:
    function = FILTERS.get(name) or GLOBALS[name]
    placeholders = [None] * (len(args) + (1 if name in FILTERS else 0))  # a filter's value comes first
    try:
        inspect.signature(function).bind(None, *placeholders, **{k.key: None for k in kwargs})
    except TypeError:
        raise RulesError(f"{where}: {name} is given the wrong arguments: write {_USAGE[name]}") from None


def _check_values(name: str, literal: list[Any], where: str) -> None:
    if name in ("plus", "minus"):
        _check_duration(name, literal, where)
    elif name == "at" and literal and literal[0] is not _UNKNOWN:
        try:
            wall_time(literal[0], f"{where}: at")
        except ValueError as error:
            raise RulesError(str(error)) from None
    elif name == "bd_range" and len(literal) > 1 and literal[1] is not _UNKNOWN:
        count = literal[1]
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise RulesError(f"{where}: bd_range: {count!r} is not a number of days: give a whole number of at least 1")


def _check_duration(name: str, literal: list[Any], where: str) -> None:
    amount, unit = (literal + [None])[:2]
    if unit is None and amount is not _UNKNOWN:
        parse_duration(amount, where)
    elif unit is not None and unit is not _UNKNOWN and unit not in UNITS:
        raise RulesError(f"{where}: {name}: {unit!r} is not a unit of duration: use one of {', '.join(UNITS)}")
    elif unit in UNITS and amount is not _UNKNOWN and amount is not None:
        parse_duration(f"{amount}{unit}", where)
