"""Refuse at load a note key that reads what only the worker's state folder remembers.

A note is found again on the instance by its reference, made of the engagement, the rule, the
record and the action's ``key``: the instance is the authority on what was already posted. A key
that reads a moment the worker remembered changes when the state folder is lost (or a crash comes
before the memory is saved), so the note is not found and is posted again. Such a key reads:

* ``latches.NAME.at``: when the worker first saw the latch's ``when`` hold, of any latch;
* ``latches.NAME.value`` or ``.current`` of a latch whose ``value`` reads ``now`` or ``today``
  (``value = "now"``), or reads one of these;
* ``dates.NAME`` of a date computed from one of these (``latches.NAME.at | plus('1bd')``).

A latch that remembers a record's data (``value = "slot.planned_start"``) is set again from that
data after a lost state folder, so a key may read its value.
"""

from __future__ import annotations

from typing import Iterable, Iterator

from jinja2 import TemplateSyntaxError, nodes

from ..errors import RulesError
from .file_messages import action_line
from .moments import Moments
from .templates import parsed_template
from .tree_nodes import with_root

CLOCK = ("now", "today")
FIX = ("it would post again after a lost state folder: key it on the records' data (a field, a date "
       "of a record, the fields still missing), which the worker reads again from the instance")


def refuse_remembered_keys(rules: Iterable, moments: Moments, env) -> None:
    """RulesError naming the file, line, rule and key of the first key that reads a remembered moment."""
    remembered = remembered_names(moments)
    for rule in rules:
        for index, action in enumerate(rule.actions):
            if not action.key:
                continue
            found = next((read for read in _moment_reads(_parse(env, action.key)) if read in remembered), None)
            if found:
                raise RulesError(f"{_where(rule, index)}: rule {rule.name}, actions[{index}].key: {action.key!r} "
                                 f"reads {found}, {remembered[found]}: {FIX}")


def remembered_names(moments: Moments) -> dict[str, str]:
    """Each read (``latches.x.at``, ``dates.y``) whose value only the state folder keeps, with why."""
    found = {f"latches.{name}.at": "the moment the worker first saw the latch hold" for name in moments.latches}
    for qualified in moments.order:
        kind, name = qualified.split(".", 1)
        tree = moments.dates.expressions[name].tree if kind == "dates" else moments.latches[name].value.tree
        cause = _cause(tree, found)
        if cause and kind == "dates":
            found[qualified] = f"a date computed from {cause}"
        elif cause:
            for attr in ("value", "current"):
                found[f"latches.{name}.{attr}"] = f"a moment the latch remembers (its value reads {cause})"
    return found


def _cause(tree: nodes.Node, remembered: dict[str, str]) -> str:
    """What remembered (or ``now``) an expression reads, or ""."""
    clock = next((node.name for node in _walk(tree, nodes.Name) if node.name in CLOCK), "")
    return clock or next((read for read in _moment_reads(tree) if read in remembered), "")


def _moment_reads(tree: nodes.Node) -> Iterator[str]:
    """``dates.NAME`` and ``latches.NAME.ATTR`` as a template or expression reads them."""
    for node in _walk(tree, (nodes.Getattr, nodes.Getitem)):
        owner, name = _named(node)
        if owner == "dates":
            yield f"dates.{name}"
        elif owner is None and isinstance(node.node, (nodes.Getattr, nodes.Getitem)):
            inner_owner, latch = _named(node.node)
            attr = _attribute(node)
            if inner_owner == "latches" and attr:
                yield f"latches.{latch}.{attr}"


def _walk(tree: nodes.Node, kinds) -> Iterator[nodes.Node]:
    """The tree itself (an expression's may be one name: ``now``) and every node of those kinds in it."""
    return iter(with_root(tree, kinds))


def _named(node: nodes.Node) -> tuple[str | None, str]:
    """(``dates``/``latches``, NAME) for ``dates.NAME`` or ``latches['NAME']``, else (None, "")."""
    if isinstance(getattr(node, "node", None), nodes.Name) and node.node.name in ("dates", "latches"):
        return node.node.name, _attribute(node)
    return None, ""


def _attribute(node: nodes.Node) -> str:
    if isinstance(node, nodes.Getattr):
        return node.attr
    arg = getattr(node, "arg", None)
    return arg.value if isinstance(arg, nodes.Const) and isinstance(arg.value, str) else ""


def _parse(env, source: str) -> nodes.Node:
    try:
        return parsed_template(env, source)
    except TemplateSyntaxError:  # the rules loader has refused it already, naming where
        return nodes.Template([])


def _where(rule, index: int) -> str:
    """``file:line`` of the action's key."""
    try:
        line = action_line(rule.file.read_text(encoding="utf-8"), index, "key")
    except OSError:
        line = "?"
    return f"{rule.file}:{line}" if line != "?" else str(rule.file)
