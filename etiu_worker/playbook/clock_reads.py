"""How a pack reads the clock, found once from its files: what an engagement's wake-up must follow.

Incremental evaluation (cycle/incremental.py) skips an engagement until something it depends on
changes; the clock is one such thing, and ``wakeups.wake_up`` turns this module's answer into the
next instant an engagement must be evaluated again. Every expression and template string of
pack.toml and the rules files is parsed (a string that does not parse is prose: a description).
The uses of ``now`` it can follow:

* ``now`` compared (``<``, ``>=``, ``in`` …) with a plain reference (``dates.cutoff``,
  ``prod_upgrade_utc``, ``steps.dev.due``): the outcome changes when ``now`` passes the value,
  which is in the engagement's context, so the wake-up finds it there;
* ``business_days_between(x, now)``, ``bd_range(now, n)``, ``now | local_day``: whole local days,
  which change at the client's midnight (``today`` as well);
* ``now`` alone (a latch's ``value = "now"``): the moment is then remembered, a fixed instant.

Any other use (``now | plus('2h')`` compared, ``{{ now }}`` in a note key) cannot be followed
safely: the pack is then evaluated every cycle (``unsafe`` says why). Note bodies (templates/) are
not read: a body is only rendered when its note is planned, which the rest decides. A step's
projected finish moves with ``now`` too: projection_reads.py says whether its reads can be followed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Iterator

from jinja2 import nodes

from .projection_reads import ProjectionUse, projection_use
from .source_trees import all_nodes, is_name, is_reference, pack_tables, strings, tree

DAY_FUNCTIONS = ("business_days_between", "bd_range")
DAY_FILTERS = ("local_day",)
_CLOCK = re.compile(r"\b(now|today)\b")
_CACHE: dict[int, tuple[Any, ClockUse]] = {}


@dataclass(frozen=True)
class ClockUse:
    """What a pack's files do with the clock."""

    unsafe: str = ""  # why its wake-ups cannot be derived ("" when they can)
    projection: ProjectionUse = field(default_factory=ProjectionUse)  # its reads of a step's projected finish
    share: bool = False  # it reads a step's share of its duration used
    match: bool = False  # its [pack] match reads the clock
    moving_latches: frozenset[str] = frozenset()  # latches whose value is now: their ``current`` is the clock


def clock_use(playbook: Any) -> ClockUse:
    """The pack's use of the clock (computed once per loaded pack)."""
    cached = _CACHE.get(id(playbook))
    if cached is None or cached[0] is not playbook:
        cached = (playbook, _clock_use(playbook))
        _CACHE[id(playbook)] = cached
    return cached[1]


def _clock_use(playbook: Any) -> ClockUse:
    if playbook.files is None:
        return ClockUse(unsafe="a pack loaded without its files")
    tables = list(pack_tables(playbook.files))
    sources = [text for _, table in tables for text in strings(table)]
    unsafe = next((why for why in (_unsafe_use(playbook.env, source) for source in sources) if why), "")
    unsafe = unsafe or _moving_latch_reads(playbook, sources)
    share = any(re.search(r"\.share\b", source) and tree(playbook.env, source) is not None for source in sources)
    return ClockUse(unsafe=unsafe, projection=projection_use(playbook.env, tables, _date_sources(playbook)),
                    share=share, moving_latches=_now_latches(playbook),
                    match=any(_CLOCK.search(condition.text) for condition in playbook.match))


def _date_sources(playbook: Any) -> dict[str, str]:
    expressions = playbook.moments.dates.expressions
    return {name: expressions[name].source for name in playbook.moments.dates.order}


def _unsafe_use(env: Any, source: str) -> str:
    """Why the string's use of ``now`` cannot be followed, or ""."""
    if "now" not in source:
        return ""
    root = tree(env, source)
    if root is None:
        return ""
    if is_name(root, "now"):
        return ""  # the moment itself, remembered by a latch
    allowed = {id(node) for node in _followed_reads(root)}
    for node in all_nodes(root, nodes.Name):
        if node.name == "now" and id(node) not in allowed:
            return f"{source!r} reads now in a way whose next change cannot be derived"
    return ""


def _followed_reads(root: nodes.Node) -> Iterator[nodes.Name]:
    """The reads of ``now`` whose next change a wake-up follows (see the module's docstring)."""
    for compare in all_nodes(root, nodes.Compare):
        operands = [compare.expr, *(operand.expr for operand in compare.ops)]
        if all(is_reference(operand) for operand in operands):
            yield from (operand for operand in operands if is_name(operand, "now"))
    for call in all_nodes(root, nodes.Call):
        if isinstance(call.node, nodes.Name) and call.node.name in DAY_FUNCTIONS:
            yield from (arg for arg in call.args if is_name(arg, "now"))
    for used in all_nodes(root, nodes.Filter):
        if used.name in DAY_FILTERS and is_name(used.node, "now"):
            yield used.node


def _moving_latch_reads(playbook: Any, sources: list[str]) -> str:
    """A latch whose value is ``now`` has a ``current`` (and ``changed``) that moves with the clock."""
    for name in _now_latches(playbook):
        pattern = re.compile(rf"latches\.{re.escape(name)}\.(current|changed)\b")
        if any(pattern.search(source) for source in sources):
            return f"latches.{name}.current moves with now"
    return ""


def _now_latches(playbook: Any) -> frozenset[str]:
    return frozenset(name for name, latch in playbook.moments.latches.items() if "now" in latch.value.source)
