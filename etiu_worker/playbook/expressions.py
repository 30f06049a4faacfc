"""What named dates and latches share: compiling an expression, what it reads, their order.

A date or a latch reads others as ``dates.NAME`` and ``latches.NAME``; those reads decide the
order they are computed in, and a read of an undeclared one, or a cycle, fails at load.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from graphlib import CycleError, TopologicalSorter
from typing import Any, Iterable, Mapping

from jinja2 import TemplateSyntaxError, nodes
from jinja2.runtime import StrictUndefined

from .condition_check import parse_expression
from ..errors import RulesError
from .names import closest, did_you_mean
from .scope import evaluate_in
from .templates import compiled_expression
from .timechecks import check_time_literals
from .tree_nodes import find_all

NAMESPACES = ("dates", "latches")


@dataclass(frozen=True)
class Expression:
    """One compiled expression of a pack, with the dates and latches it reads (``dates.x``)."""

    source: str
    where: str
    reads: frozenset[str]
    compiled: Any = field(repr=False, compare=False)
    tree: Any = field(repr=False, compare=False, default=None)  # for the rules' own checks (state names)

    def evaluate(self, context: Mapping[str, Any]) -> Any:
        return evaluate_in(self.compiled, context)


class Failed(StrictUndefined):
    """A date or latch value that could not be computed: reading it fails, saying why."""


def failed(where: str, error: Exception) -> Failed:
    return Failed(hint=f"{where} could not be evaluated: {type(error).__name__}: {error}")


def compile_expression(env: Any, source: Any, where: str) -> Expression:
    """Compile at load: RulesError naming ``where`` for a syntax error or a bad time literal."""
    if not isinstance(source, str) or not source.strip():
        raise RulesError(f"{where}: {source!r} is not an expression: write it as text, e.g. \"slot | minus('48h')\"")
    try:
        compiled = compiled_expression(env, source)
        tree = parse_expression(env, source)
    except TemplateSyntaxError as error:
        raise RulesError(f"{where}: {source!r} does not compile: {error.message}{_filter_hint(env, error)}") from None
    check_time_literals(tree, where)
    return Expression(source, where, frozenset(_reads(tree)), compiled, tree)


def _filter_hint(env: Any, error: TemplateSyntaxError) -> str:
    message = error.message or ""
    if not message.startswith("No filter named '"):
        return ""
    close = closest(message.split("'")[1], env.filters)
    return f" Did you mean {close!r}?" if close else ""


def _reads(tree: nodes.Node) -> Iterable[str]:
    for node in [tree, *find_all(tree, (nodes.Getattr, nodes.Getitem))]:  # find_all leaves out the tree itself
        owner = getattr(node, "node", None)
        if not (isinstance(node, (nodes.Getattr, nodes.Getitem)) and isinstance(owner, nodes.Name) and owner.name in NAMESPACES):
            continue
        if isinstance(node, nodes.Getattr):
            yield f"{owner.name}.{node.attr}"
        elif isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str):
            yield f"{owner.name}.{node.arg.value}"


def check_reads(where: str, reads: Iterable[str], declared: Mapping[str, Iterable[str]]) -> None:
    """Refuse a read of a date or latch that is not declared, naming those that are."""
    for read in sorted(reads):
        namespace, name = read.split(".", 1)
        names = sorted(declared.get(namespace, ()))
        if name not in names:
            listed = f"the {namespace} are: {', '.join(names)}" if names else f"there are no {namespace}"
            raise RulesError(f"{where}: reads {read}, which is not declared{did_you_mean(name, names)}; "
                             f"declare it under [{namespace}] or use one that is ({listed})")


def dependency_order(reads: Mapping[str, Iterable[str]]) -> tuple[str, ...]:
    """The names (``dates.x``, ``latches.y``) in an order where each comes after what it reads;
    RulesError naming the cycle when there is none. Declaration order breaks ties."""
    sorter: TopologicalSorter[str] = TopologicalSorter()
    for name, needs in reads.items():
        sorter.add(name, *sorted(needs))
    try:
        ready = list(sorter.static_order())
    except CycleError as error:
        cycle = error.args[1]
        first = cycle[0]
        raise RulesError(f"{first}: reads itself through a cycle: {' -> '.join(cycle)}; "
                         "break the cycle so that each one can be computed from the others") from None
    declared = list(reads)
    return tuple(sorted(ready, key=lambda name: (_depth(name, reads, {}), declared.index(name))))


def _depth(name: str, reads: Mapping[str, Iterable[str]], memo: dict[str, int]) -> int:
    """How many reads deep a name is: 0 for one that reads nothing declared."""
    if name not in memo:
        memo[name] = 1 + max((_depth(need, reads, memo) for need in reads.get(name, ()) if need in reads), default=-1)
    return memo[name]
