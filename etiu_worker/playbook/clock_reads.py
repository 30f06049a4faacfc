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
not read: a body is only rendered when its note is planned, which the rest decides.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from jinja2 import TemplateSyntaxError, nodes

from .condition_check import parse_expression

DAY_FUNCTIONS = ("business_days_between", "bd_range")
DAY_FILTERS = ("local_day",)
_CLOCK = re.compile(r"\b(now|today)\b")
_CACHE: dict[int, tuple[Any, ClockUse]] = {}


@dataclass(frozen=True)
class ClockUse:
    """What a pack's files do with the clock."""

    unsafe: str = ""  # why its wake-ups cannot be derived ("" when they can)
    projected: bool = False  # it reads a step's projected finish, which moves with now while a step is open
    share: bool = False  # it reads a step's share of its duration used
    match: bool = False  # its [pack] match reads the clock


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
    sources = [text for table in _tables(playbook.files) for text in _strings(table)]
    unsafe = next((why for why in (_unsafe_use(playbook.env, source) for source in sources) if why), "")
    unsafe = unsafe or _moving_latch_reads(playbook, sources)
    code = [source for source in sources if _parses(playbook.env, source)]
    return ClockUse(unsafe=unsafe, projected=any("projected_finish" in s for s in code),
                    share=any(re.search(r"\.share\b", s) for s in code),
                    match=any(_CLOCK.search(condition.text) for condition in playbook.match))


def _tables(files: Any) -> Iterator[Any]:
    for path in (files.pack_file, *files.rule_files()):
        try:
            yield tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError):
            yield {"unreadable": "now"}  # cannot tell: treated as a use that cannot be followed


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _tree(env: Any, source: str) -> nodes.Node | None:
    try:
        return env.parse(source) if "{{" in source or "{%" in source else parse_expression(env, source)
    except TemplateSyntaxError:
        return None


def _parses(env: Any, source: str) -> bool:
    return _tree(env, source) is not None


def _unsafe_use(env: Any, source: str) -> str:
    """Why the string's use of ``now`` cannot be followed, or ""."""
    if "now" not in source:
        return ""
    tree = _tree(env, source)
    if tree is None:
        return ""
    if isinstance(tree, nodes.Name) and tree.name == "now":
        return ""  # the moment itself, remembered by a latch
    allowed = {id(node) for node in _followed_reads(tree)}
    for node in _all(tree, nodes.Name):
        if node.name == "now" and id(node) not in allowed:
            return f"{source!r} reads now in a way whose next change cannot be derived"
    return ""


def _followed_reads(tree: nodes.Node) -> Iterator[nodes.Name]:
    """The reads of ``now`` whose next change a wake-up follows (see the module's docstring)."""
    for compare in _all(tree, nodes.Compare):
        operands = [compare.expr, *(operand.expr for operand in compare.ops)]
        if all(_reference(operand) for operand in operands):
            yield from (operand for operand in operands if _is_now(operand))
    for call in _all(tree, nodes.Call):
        if isinstance(call.node, nodes.Name) and call.node.name in DAY_FUNCTIONS:
            yield from (arg for arg in call.args if _is_now(arg))
    for used in _all(tree, nodes.Filter):
        if used.name in DAY_FILTERS and _is_now(used.node):
            yield used.node


def _all(tree: nodes.Node, kind: type) -> list[Any]:
    """The nodes of ``kind`` in the tree, its root included (``find_all`` leaves the root out)."""
    return [tree, *tree.find_all(kind)] if isinstance(tree, kind) else list(tree.find_all(kind))


def _is_now(node: Any) -> bool:
    return isinstance(node, nodes.Name) and node.name == "now"


def _reference(node: nodes.Node) -> bool:
    """A plain read of a value in the context (``a.b['c'].d``), or ``now`` itself."""
    while isinstance(node, (nodes.Getattr, nodes.Getitem)):
        if isinstance(node, nodes.Getitem) and not isinstance(node.arg, nodes.Const):
            return False
        node = node.node
    return isinstance(node, nodes.Name) and node.name != "today" or isinstance(node, nodes.Const)


def _moving_latch_reads(playbook: Any, sources: list[str]) -> str:
    """A latch whose value is ``now`` has a ``current`` (and ``changed``) that moves with the clock."""
    for name, latch in playbook.moments.latches.items():
        if "now" in latch.value.source:
            pattern = re.compile(rf"latches\.{re.escape(name)}\.(current|changed)\b")
            if any(pattern.search(source) for source in sources):
                return f"latches.{name}.current moves with now"
    return ""
