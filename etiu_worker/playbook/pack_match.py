"""Which pack an engagement goes to when a worker runs several: each pack's ``[pack] match``.

A pack without ``match`` claims every engagement it builds. An engagement claimed by one pack
goes to it alone. One claimed by several goes to none of their rules but the first pack's
sanity rule: it gets a problem naming the packs in the first pack (whose rules skip a broken
engagement, but for the rule that flags problems) and is dropped from the others, so it is
flagged once, on one record, and nothing else is written for it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from jinja2 import TemplateSyntaxError, nodes

from ..engagement.engagements import Engagement
from ..engagement.records import Problem
from ..errors import RulesError
from .condition_check import check_state_names, parse_expression
from .context_names import check_declared
from .context import COMPUTED_LAST, build_context, compute_facts, records_context
from .evaluate import evaluate_conditions
from .rules import Condition, Playbook
from .templates import compiled_expression
from .timechecks import check_time_literals

log = logging.getLogger(__name__)

CLAIMED_BY_SEVERAL = "claimed-by-packs"


def compile_match(playbook: Playbook) -> tuple[Condition, ...]:
    """``[pack] match`` compiled at load; RulesError naming pack.toml and the condition."""
    table = playbook.pack.pack if playbook.pack is not None else None
    where = f"{playbook.files.pack_file if playbook.files else 'pack.toml'}: [pack] match"
    return tuple(_compiled(playbook, source, f"{where}[{index}]") for index, source in enumerate(table.match if table else ()))


def _compiled(playbook: Playbook, source: str, where: str) -> Condition:
    try:
        compiled = compiled_expression(playbook.env, source)
        tree = parse_expression(playbook.env, source)
    except TemplateSyntaxError as error:
        raise RulesError(f"{where}: condition {source!r} does not compile: {error.message}") from None
    check_state_names(tree, playbook.states, where, lambda _: f"condition {source!r}")
    check_declared(tree, playbook.checks.declared, where, f"condition {source!r}")
    check_time_literals(tree, f"{where}: condition {source!r}")
    return Condition(source, where, compiled, tree)


def claims(playbook: Playbook, engagement: Engagement, memory: Mapping[str, Any], at: datetime) -> bool:
    """Whether ``playbook``'s match holds for the engagement (no match: it does). A match that
    cannot be evaluated on this engagement's data does not claim it, and says why."""
    if not playbook.match:
        return True
    facts = compute_facts(engagement, playbook, memory, at)
    build = build_context if _names_read(playbook.match) & COMPUTED_LAST else records_context
    results = evaluate_conditions(playbook, playbook.match, build(engagement, facts, playbook, at))
    for result in results:
        if result.error:
            log.warning("pack %s: match %r fails on engagement %s: %s", playbook.name, result.text, engagement.key,
                        result.hint or result.error, extra={"engagement": engagement.key})
    return len(results) == len(playbook.match) and all(result.value and not result.error for result in results)


def _names_read(match: tuple[Condition, ...]) -> frozenset[str]:
    """Every name the match's conditions read (a pack's match is read for each engagement it
    builds: the names are found once per match)."""
    known = _NAMES.get(id(match))
    if known is None or known[0] is not match:
        names = frozenset(node.name for condition in match if condition.tree is not None
                          for node in condition.tree.find_all(nodes.Name))
        if any(condition.tree is None for condition in match):
            names = COMPUTED_LAST  # no tree to read: the whole context, to be safe
        if len(_NAMES) >= _NAMES_KEPT:
            _NAMES.clear()  # packs loaded afresh each cycle: start again rather than grow
        known = _NAMES[id(match)] = (match, names)
    return known[1]


_NAMES: dict[int, tuple[tuple[Condition, ...], frozenset[str]]] = {}
_NAMES_KEPT = 64


def assign(playbooks: Sequence[Playbook], built: Mapping[str, list[Engagement]],
           memories: Mapping[str, Mapping[str, Any]], at: datetime) -> dict[str, list[Engagement]]:
    """Each pack's engagements, by pack name: those it alone claims, and, in the first of several
    claimants, the engagements they share, each with a problem naming them."""
    claimants: dict[str, list[str]] = {}
    for playbook in playbooks:
        for engagement in built[playbook.name]:
            if claims(playbook, engagement, memories.get(engagement.key, {}), at):
                claimants.setdefault(engagement.key, []).append(playbook.name)
    unclaimed = sorted({e.key for found in built.values() for e in found} - set(claimants))
    if unclaimed:
        log.debug("no pack claims %d engagements: %s", len(unclaimed), ", ".join(unclaimed))
    return {playbook.name: _owned(playbook.name, built[playbook.name], claimants) for playbook in playbooks}


def _owned(name: str, engagements: list[Engagement], claimants: Mapping[str, list[str]]) -> list[Engagement]:
    owned = []
    for engagement in engagements:
        names = claimants.get(engagement.key, [])
        if names == [name]:
            owned.append(engagement)
        elif len(names) > 1 and names[0] == name:
            owned.append(replace(engagement, problems=(*engagement.problems, claimed_by(engagement, names))))
    return owned


def claimed_by(engagement: Engagement, names: Sequence[str]) -> Problem:
    """The problem of an engagement several packs claim, on its first record."""
    listed = ", ".join(names[:-1]) + f" and {names[-1]}"
    message = (f"engagement {engagement.key} is claimed by packs {listed}: no pack acts on it until the "
               f"[pack] match of all but one of them leaves it out")
    record = engagement.records[0] if engagement.records else None
    where = {"table": _table(record), "sys_id": getattr(record, "sys_id", ""), "number": getattr(record, "number", "")}
    return Problem(f"{CLAIMED_BY_SEVERAL}:{','.join(names)}", message, **where)


def _table(record) -> str:
    return str(getattr(record, "table", "") or "")
