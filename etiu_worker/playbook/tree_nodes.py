"""The nodes of a Jinja syntax tree, walked once per tree.

The load-time checks ask one tree for its names, comparisons, filters and tests many times over
(condition_check.py, context_names.py, timechecks.py, key_checks.py, clock_reads.py...); Jinja's
``find_all`` walks the whole tree again each time. Here the tree is walked once, in the order
``find_all`` yields its nodes, and each question is a pass over that list. Trees are read, never
changed, after they are parsed (templates.parsed_template), so the list stays true.
"""

from __future__ import annotations

from typing import Any
from weakref import WeakKeyDictionary

from jinja2 import nodes

_WALKED: WeakKeyDictionary[nodes.Node, tuple[nodes.Node, ...]] = WeakKeyDictionary()


def descendants(tree: nodes.Node) -> tuple[nodes.Node, ...]:
    """Every node under ``tree`` (not the tree itself), in ``find_all``'s order: depth first, parents first."""
    found = _WALKED.get(tree)
    if found is None:
        found = _WALKED[tree] = tuple(_walk(tree))
    return found


def find_all(tree: nodes.Node, kind: type | tuple[type, ...]) -> list[Any]:
    """``list(tree.find_all(kind))``: the nodes of ``kind`` under the tree, the tree left out."""
    return [node for node in descendants(tree) if isinstance(node, kind)]


def with_root(tree: nodes.Node, kind: type | tuple[type, ...]) -> list[Any]:
    """The nodes of ``kind`` in the tree, the tree itself first when it is one."""
    found = find_all(tree, kind)
    return [tree, *found] if isinstance(tree, kind) else found


def _walk(tree: nodes.Node) -> list[nodes.Node]:
    found: list[nodes.Node] = []
    stack = [iter(tree.iter_child_nodes())]
    while stack:
        child = next(stack[-1], None)
        if child is None:
            stack.pop()
        else:
            found.append(child)
            stack.append(iter(child.iter_child_nodes()))
    return found
