"""How a pack reads a step's projected finish, found once from its files.

An open step's projected finish moves with ``now`` (it is ``now`` at the earliest), so it is no
fixed moment to wake at. A wake-up still follows it (projections.py) when the pack reads it only
in ways whose outcome changes when the projected finish moves to another local day, or past an
instant of the engagement's context:

* ``X.projected_finish | local_day``, in a condition or a note key;
* ``X.projected_finish`` compared (``>``, ``<=`` …) with plain references to values of the
  context, none of them ``now`` or another projected finish;
* ``X.projected_finish is none`` (an open step always has one, a closed step's stands still);
* a ``[dates.*]`` that is the projected finish under another name (``projected_finish =
  "steps.projected_finish"``), whose reads are then held to the same rules.

Any other read (``plus``, printed whole in a note key, written to a field, kept by a latch)
cannot be followed: ``unfollowed`` says why, and the pack's engagements with an open step are
then evaluated every cycle. The report's tables are left out: a report is computed when asked
for, not by the cycle. Note bodies (templates/) are not read: a body is only rendered when its
note is planned, which the rest decides.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Iterator, Mapping

from jinja2 import nodes

from .source_trees import all_nodes, is_name, is_reference, strings, tree

FIELD = "projected_finish"
_TESTS = ("none", "defined", "undefined")
_CLOCK = ("now", "today")


@dataclass(frozen=True)
class ProjectionUse:
    """What a pack's files do with a step's projected finish."""

    read: bool = False  # it reads one at all
    unfollowed: str = ""  # why its reads cannot be followed ("" when they can)
    dates: frozenset[str] = frozenset()  # the [dates.*] that are a projected finish under another name


def projection_use(env: Any, tables: Iterable[tuple[bool, Any]], dates: Mapping[str, str]) -> ProjectionUse:
    """The pack's reads of a projected finish; ``tables`` as source_trees.pack_tables gives them,
    ``dates`` each [dates.*] source, in the order they are computed."""
    aliases = _aliases(env, dates)
    sources = [text for is_pack, table in tables for text in strings(_cycle_part(is_pack, table))]
    sources += [source for name, source in dates.items() if name not in aliases]
    why = next((why for why in (_unfollowed(env, source, aliases) for source in sources) if why), "")
    return ProjectionUse(read=any(FIELD in source for source in sources) or bool(aliases), unfollowed=why,
                         dates=frozenset(aliases))


def _cycle_part(is_pack: bool, table: Any) -> Any:
    """What a cycle evaluates: pack.toml without its report, nor its dates (read on their own)."""
    if not is_pack or not isinstance(table, dict):
        return table
    return {key: value for key, value in table.items() if key not in ("report", "dates")}


def _aliases(env: Any, dates: Mapping[str, str]) -> set[str]:
    found: set[str] = set()
    for name, source in dates.items():
        root = tree(env, source)
        if root is not None and _moving(root, found):
            found.add(name)
    return found


def _unfollowed(env: Any, source: str, aliases: set[str]) -> str:
    """Why the string's reads of a projected finish cannot be followed, or ""."""
    if FIELD not in source and not any(alias in source for alias in aliases):
        return ""
    root = tree(env, source)
    if root is None:
        return ""
    followed = {id(node) for node in _followed(root, aliases)}
    for node in _reads(root, aliases):
        if id(node) not in followed:
            return f"{source!r} reads a step's projected finish in a way whose next change cannot be derived"
    return ""


def _reads(root: nodes.Node, aliases: set[str]) -> Iterator[nodes.Node]:
    for kind in (nodes.Getattr, nodes.Getitem):
        yield from (node for node in all_nodes(root, kind) if _moving(node, aliases))


def _followed(root: nodes.Node, aliases: set[str]) -> Iterator[nodes.Node]:
    """The reads of a projected finish a wake-up follows (see the module's docstring)."""
    for used in all_nodes(root, nodes.Filter):
        if used.name == "local_day" and not used.args and _moving(used.node, aliases):
            yield used.node
    for test in all_nodes(root, nodes.Test):
        if test.name in _TESTS and _moving(test.node, aliases):
            yield test.node
    for compare in all_nodes(root, nodes.Compare):
        operands = [compare.expr, *(operand.expr for operand in compare.ops)]
        moving = [operand for operand in operands if _moving(operand, aliases)]
        clock = any(is_name(operand, name) for operand in operands for name in _CLOCK)
        if len(moving) == 1 and not clock and all(is_reference(operand) for operand in operands):
            yield moving[0]


def _moving(node: nodes.Node, aliases: set[str]) -> bool:
    """A read of a projected finish: ``….projected_finish``, or a date that is one."""
    name = _member(node)
    if name == FIELD:
        return True
    return name in aliases and is_name(getattr(node, "node", None), "dates")


def _member(node: nodes.Node) -> str | None:
    if isinstance(node, nodes.Getattr):
        return node.attr
    if isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str):
        return node.arg.value
    return None
