"""Checks of a condition's Jinja syntax tree, made when the rules load.

* A state compared with a name the role it is read from does not declare (``change.state ==
  'cancelled'``) compiles and runs, but can never hold (or always holds): it is refused, naming
  the role's states. A step's state (``steps.launch.items.L2.state``) is one of the step states
  (pending, open, done, skipped, canceled, missing); a state read from a name the check cannot
  place (a template's loop variable) may be a record's or a step's.
* A misspelt name fails on the sample engagement with Jinja's words (``'dict object' has no
  attribute 'dev_upgrad'``); ``explain_missing`` says which names exist at that place instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Mapping

from jinja2 import nodes
from jinja2.runtime import Undefined
from jinja2.sandbox import ImmutableSandboxedEnvironment

from ..errors import RulesError
from .names import did_you_mean, names_of
from .step_states import MEANINGS as STEP_STATES
from .templates import parsed_expression
from .tree_nodes import with_root

COMPARISONS = ("eq", "ne", "in", "notin")
# Top-level names whose members are records by role: ``records.change.state``.
BY_ROLE = ("records", "found")
UNKNOWN_STATE = "unknown"  # the model's name for a state value the schema does not list
STEPS = "steps"  # the top-level name whose states are step states
JINJA_OWN = {"loop", "self", "varargs", "kwargs", "caller"}  # names Jinja defines inside loops and macros


def parse_expression(env: ImmutableSandboxedEnvironment, source: str) -> nodes.Expr:
    """The syntax tree of a condition, parsed the way ``compile_expression`` parses it."""
    return parsed_expression(env, source)


@dataclass(frozen=True)
class StateNames:
    """The state names a record read by a name can hold: by role, by another name of a role, by
    group (its roles' states), and which group each role is read from, for the message."""

    by_name: Mapping[str, tuple[str, ...]]
    groups: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def everything(self) -> list[str]:
        return sorted({state for states in self.by_name.values() for state in states})


def check_state_names(tree: nodes.Node, states: StateNames, where: str, subject: Callable[[int], str]) -> None:
    """Refuse a state compared with a string that is not a state name of the role it is read from.

    ``subject(lineno)`` says what holds the comparison: a condition, or a template's line."""
    for state_side, literal in _state_comparisons(tree):
        name, root = _state_owner(state_side, states)
        kind = _label(name, root, states)
        valid = _valid_states(name, root, states)
        for given in _strings(literal):
            if given not in valid:
                raise RulesError(
                    f"{where}: {subject(state_side.lineno)} compares a {kind} state with {given!r}, "
                    f"which is not a {kind} state{did_you_mean(given, valid)}: "
                    f"use one of {', '.join(valid)}"
                )


def _valid_states(name: str, root: str, states: StateNames) -> list[str]:
    """The states the comparison may name: a step's, a role's, or (not placed) any of either."""
    if root == STEPS:
        return list(STEP_STATES)
    if name:
        return list(states.by_name[name]) + [UNKNOWN_STATE]
    records = states.everything()
    return records + [UNKNOWN_STATE] + [state for state in STEP_STATES if state not in records]


def _state_comparisons(tree: nodes.Node) -> Iterator[tuple[nodes.Expr, nodes.Expr]]:
    """(the state expression, the literal it is compared with) for each comparison that has both."""
    for compare in _find_all(tree, nodes.Compare):
        left = compare.expr
        for operand in compare.ops:
            right = operand.expr
            if operand.op in COMPARISONS and _is_state(left) and _strings(right):
                yield left, right
            elif operand.op in ("eq", "ne") and _is_state(right) and _strings(left):
                yield right, left
            left = right


def _find_all(tree: nodes.Node, kind: type) -> Iterator[Any]:
    """Every node of a kind in the tree, the tree itself included (``find_all`` leaves it out)."""
    return iter(with_root(tree, kind))


def _is_state(node: nodes.Node) -> bool:
    return (isinstance(node, nodes.Getattr) and node.attr == "state") or (
        isinstance(node, nodes.Name) and node.name == "state")


def _state_owner(node: nodes.Node, states: StateNames) -> tuple[str, str]:
    """(the nearest name whose states ``node`` holds, the top-level name it is read from) for
    ``tickets.<role>.state``, ``change.state``, ``records.change.state``; ("", root) when none
    says it (a template's loop variable, a step)."""
    chain: list[str] = []
    owner = node.node if isinstance(node, nodes.Getattr) else None
    while isinstance(owner, (nodes.Getattr, nodes.Getitem, nodes.Name)):
        chain.append(owner.attr if isinstance(owner, nodes.Getattr) else getattr(owner, "name", ""))
        owner = getattr(owner, "node", None)
    root = chain[-1] if chain else ""
    if root not in states.by_name and root not in BY_ROLE:
        return "", root
    return next((name for name in chain if name in states.by_name), ""), root


def _label(name: str, root: str, states: StateNames) -> str:
    """How a message names the kind of record: the group read from, in the singular (a
    ``tickets`` state is a ticket state), else the name itself."""
    if root == STEPS:
        return "step"
    if not name:
        return "record"
    if root in states.groups and name in states.groups[root]:
        return root[:-1] if root.endswith("s") else root
    return name


def _strings(node: nodes.Node) -> list[str]:
    """The string literals of ``'x'`` or ``('x', 'y')``; empty for anything else."""
    if isinstance(node, nodes.Const) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, (nodes.Tuple, nodes.List)) and node.items:
        items = [item.value for item in node.items if isinstance(item, nodes.Const)]
        return items if len(items) == len(node.items) and all(isinstance(i, str) for i in items) else []
    return []


# --- a misspelt name: which names exist where it was read ---------------------------------------

_MISSING = re.compile(r"has no attribute '([^']+)'|'([^']+)' is undefined")


class _Unresolved(Exception):
    """A part of the expression that cannot be read without running it (a call, a filter…)."""


def explain_missing(env: ImmutableSandboxedEnvironment, tree: nodes.Node, context: Mapping[str, Any], error: str) -> str:
    """``tickets has no 'dev_upgrad' (did you mean 'dev_upgrade'?); tickets has: …``, or "" when
    the place cannot be read without running the expression (a call, a filter, a loop)."""
    found = _MISSING.search(error)
    if not found:
        return ""
    missing = found.group(1) or found.group(2)
    if found.group(2):
        return _undefined(missing, context)
    visible = _without_locals(tree, context)
    for getattr_node in _find_all(tree, nodes.Getattr):
        if getattr_node.attr == missing:
            hint = _explain_attribute(env, getattr_node, visible)
            if hint:
                return hint
    return ""


def find_missing_name(env: ImmutableSandboxedEnvironment, tree: nodes.Node, context: Mapping[str, Any]) -> str:
    """A name read anywhere in the tree that does not exist, said as ``explain_missing`` says it.

    Evaluating on the sample skips what ``and``, ``or`` and ``if`` leave out; reading the tree
    finds a misspelt name there too, before it fails on a real engagement."""
    visible = _without_locals(tree, context)
    known = set(visible) | set(env.globals) | _locals(tree) | _tested_for_definition(tree) | JINJA_OWN
    for name in _find_all(tree, nodes.Name):
        if name.ctx == "load" and name.name not in known:
            return _undefined(name.name, context)
    for getattr_node in _find_all(tree, nodes.Getattr):
        hint = _explain_attribute(env, getattr_node, visible)
        if hint:
            return hint
    return ""


def _undefined(name: str, context: Mapping[str, Any]) -> str:
    names = sorted(context)
    return f"{name!r} is undefined{did_you_mean(name, names)}; the names are: {', '.join(names)}"


def _locals(tree: nodes.Node) -> set[str]:
    return {node.name for node in _find_all(tree, nodes.Name) if node.ctx in ("store", "param")}


def _without_locals(tree: nodes.Node, context: Mapping[str, Any]) -> dict[str, Any]:
    # A template's own variables ({% for ticket in … %}) hide the context's names of that spelling.
    local = _locals(tree)
    return {name: value for name, value in context.items() if name not in local}


def _tested_for_definition(tree: nodes.Node) -> set[str]:
    """Names under ``is defined``: reading them is how a template asks whether they exist."""
    tests = [test for test in _find_all(tree, nodes.Test) if test.name in ("defined", "undefined")]
    return {test.node.name for test in tests if isinstance(test.node, nodes.Name)}


def _explain_attribute(env, node: nodes.Getattr, context: Mapping[str, Any]) -> str:
    try:
        owner = _resolve(env, node.node, context)
        present = not isinstance(env.getattr(owner, node.attr), Undefined)
    except Exception:  # noqa: BLE001 - _Unresolved, or reading it fails: keep Jinja's own words
        return ""
    if owner is None or present:  # on None, "'None' has no attribute" already says it all
        return ""
    names = names_of(owner)
    place = _dotted(node.node)
    return f"{place} has no {node.attr!r}{did_you_mean(node.attr, names)}; {place} has: {', '.join(names)}"


def _resolve(env, node: nodes.Node, context: Mapping[str, Any]) -> Any:
    if isinstance(node, nodes.Name) and node.name in context:
        value = context[node.name]
    elif isinstance(node, nodes.Getattr):
        value = env.getattr(_resolve(env, node.node, context), node.attr)
    elif isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const):
        value = env.getitem(_resolve(env, node.node, context), node.arg.value)
    else:
        raise _Unresolved
    if isinstance(value, Undefined):
        raise _Unresolved
    return value


def _dotted(node: nodes.Node) -> str:
    if isinstance(node, nodes.Name):
        return node.name
    if isinstance(node, nodes.Getattr):
        return f"{_dotted(node.node)}.{node.attr}"
    if isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const):
        return f"{_dotted(node.node)}[{node.arg.value!r}]"
    return "it"
