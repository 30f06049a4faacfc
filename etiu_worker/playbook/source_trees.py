"""A pack's strings as Jinja trees, for the checks that read how a pack uses the clock.

clock_reads.py (``now``) and projection_reads.py (a step's projected finish) parse every string
of a pack's files: one holding ``{{`` or ``{%`` as a template, any other as an expression; one that
does not parse is prose (a description), and has no tree.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, Iterator

from jinja2 import TemplateSyntaxError, nodes

from .condition_check import parse_expression
from .templates import parsed_template
from .tree_nodes import with_root

UNREADABLE = {"unreadable": "now"}  # a file that cannot be read: a use of the clock no check follows


def pack_tables(files: Any) -> Iterator[tuple[bool, Any]]:
    """pack.toml's table, then each rules file's, each with whether it is pack.toml."""
    for path in (files.pack_file, *files.rule_files()):
        try:
            yield path == files.pack_file, tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError):
            yield path == files.pack_file, UNREADABLE


def strings(value: Any) -> Iterator[str]:
    """Every string in a TOML value, nested tables and arrays included."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


def tree(env: Any, source: str) -> nodes.Node | None:
    """The string's tree, or None for prose."""
    try:
        return parsed_template(env, source) if "{{" in source or "{%" in source else parse_expression(env, source)
    except TemplateSyntaxError:
        return None


def all_nodes(root: nodes.Node, kind: type) -> list[Any]:
    """The nodes of ``kind`` in the tree, its root included (``find_all`` leaves the root out)."""
    return with_root(root, kind)


def is_name(node: Any, name: str) -> bool:
    return isinstance(node, nodes.Name) and node.name == name


def is_reference(node: nodes.Node) -> bool:
    """A plain read of a value in the context (``a.b['c'].d``, ``now``), or a constant."""
    while isinstance(node, (nodes.Getattr, nodes.Getitem)):
        if isinstance(node, nodes.Getitem) and not isinstance(node.arg, nodes.Const):
            return False
        node = node.node
    return isinstance(node, nodes.Name) and node.name != "today" or isinstance(node, nodes.Const)
