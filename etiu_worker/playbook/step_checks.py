"""The load-time checks of declared steps: ids, predecessors, cycles and mirrors.

Each error names the key path in pack.toml (``steps.launch.items[2].after``) and how to fix it.
The checks also give the order the derivation walks the steps in: every step after its
predecessors, a mirror's possible items chained in their mirrored order.
"""

from __future__ import annotations

import difflib
from dataclasses import replace
from typing import Any, Iterable, Mapping, Sequence

from ..errors import RulesError
from ..spelling import closest

from .step_model import GroupFile, Step, StepGroup


def key_path(where: str, loc: Iterable[Any]) -> str:
    """``steps.launch`` and ``('items', 2, 'after')`` read as ``steps.launch.items[2].after``."""
    path = where
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def not_one_of(name: str, what: str, choices: Sequence[str]) -> str:
    """``'p5' is not a step; did you mean 'p4'?``, or the choices when none is close."""
    # Short ids such as P4 and P5 differ by one character: too far for difflib's usual cutoff.
    close = closest(name, choices) or next(iter(difflib.get_close_matches(name, choices, n=1, cutoff=0.5)), None)
    if close:
        return f"{name!r} is not {what}; did you mean {close!r}?"
    return f"{name!r} is not {what}; use one of: {', '.join(choices) or '(none declared)'}"


def mirrored_steps(name: str, of: str, ids: Sequence[str], groups: Mapping[str, StepGroup],
                   files: Mapping[str, GroupFile]) -> list[Step]:
    """The steps of group ``of`` a mirror takes: those named in ``ids``, or all, in their order."""
    where = f"steps.{name}.mirror"
    if of not in groups:
        if of in files:
            raise RulesError(f"{where}.of: {of!r} is a mirror itself; mirror the group it mirrors")
        raise RulesError(f"{where}.of: {not_one_of(of, 'a group', [g for g in files if g != name])}")
    steps = list(groups[of].steps)
    known = [step.id for step in steps]
    for index, id_ in enumerate(ids):
        if id_ not in known:
            raise RulesError(f"{where}.items[{index}]: {not_one_of(id_, f'a step of {of}', known)}")
        if id_ in ids[:index]:
            raise RulesError(f"{where}.items[{index}]: {id_!r} is named twice; name each step once")
    return [step for step in steps if not ids or step.id in ids]


def check_plan(groups: Mapping[str, StepGroup],
               files: Mapping[str, GroupFile]) -> tuple[dict[str, StepGroup], tuple[str, ...]]:
    """The groups in declared order with every ``after`` resolved to keys, and the walking order."""
    # A mirror repeats its group's ids: a duplicate is told where it was written, in that group.
    for group in sorted(groups.values(), key=lambda group: bool(group.mirror_of)):
        _check_unique(group)
    keys = _keys(groups)
    resolved = {name: _resolve_group(groups[name], files[name], keys) for name in files}
    return resolved, _order(resolved)


def _where(group: StepGroup, index: int) -> str:
    if group.single or group.mirror_of:
        return f"steps.{group.name}"
    return f"steps.{group.name}.items[{index}]"


def _check_unique(group: StepGroup) -> None:
    first: dict[str, int] = {}
    for index, step in enumerate(group.steps):
        if step.id in first:
            raise RulesError(f"{_where(group, index)}.id: {step.id!r} is also the id of items[{first[step.id]}]; "
                             "ids must be unique in a group")
        first[step.id] = index


def _keys(groups: Mapping[str, StepGroup]) -> dict[str, str]:
    """What ``after`` may name across groups: ``group.id``, or a one-step group's name."""
    keys = {step.key: step.key for group in groups.values() for step in group.steps}
    keys.update({f"{group.name}.{group.name}": group.name for group in groups.values() if group.single})
    return keys


def _resolve_group(group: StepGroup, file: GroupFile, keys: Mapping[str, str]) -> StepGroup:
    ids = {step.id: step.key for step in group.steps}
    steps = tuple(
        replace(step, after=tuple(_resolve(name, group, index, file, ids, keys) for name in step.after))
        for index, step in enumerate(group.steps)
    )
    return replace(group, steps=steps)


def _resolve(name: str, group: StepGroup, index: int, file: GroupFile, ids: Mapping[str, str],
             keys: Mapping[str, str]) -> str:
    if "." not in name and name in ids and not group.single:
        return ids[name]
    if name in keys:
        return keys[name]
    on_group = name in file.after and not (group.single or group.mirror_of)
    where = f"steps.{group.name}.after" if on_group else f"{_where(group, index)}.after"
    others = [key for key in dict.fromkeys(keys.values()) if not key.startswith(f"{group.name}.")]
    choices = [id_ for id_ in ids if not group.single] + [key for key in others if key != group.name]
    raise RulesError(f"{where}: {not_one_of(name, 'a step', choices)}")


def _edges(groups: Mapping[str, StepGroup]) -> dict[str, list[str]]:
    """Each step's predecessors, a mirror's items chained in the order they may be kept."""
    edges: dict[str, list[str]] = {}
    for group in groups.values():
        previous = ""
        for step in group.steps:
            chained = [previous] if group.mirror_of and previous else []
            # A mirror's item is kept or not by its mirrored step's state: derive that one first.
            edges[step.key] = [*step.after, *chained, *([step.mirrors] if step.mirrors else [])]
            previous = step.key
    return edges


def _order(groups: Mapping[str, StepGroup]) -> tuple[str, ...]:
    edges = _edges(groups)
    where = {step.key: _where(group, index) for group in groups.values() for index, step in enumerate(group.steps)}
    done: list[str] = []
    visiting: list[str] = []
    for key in edges:
        _visit(key, edges, where, visiting, done)
    return tuple(done)


def _visit(key: str, edges: Mapping[str, list[str]], where: Mapping[str, str], visiting: list[str], done: list[str]) -> None:
    if key in done:
        return
    if key in visiting:
        loop = visiting[visiting.index(key):]
        if len(loop) == 1:
            raise RulesError(f"{where[key]}.after: {key} waits for itself; remove it from its own after")
        steps = [loop[-1], *loop]  # told from the step whose ``after`` closes the loop
        raise RulesError(f"{where[loop[-1]]}.after: {', which waits for '.join(steps)}: a step cannot wait "
                         "for itself; remove one of these predecessors")
    visiting.append(key)
    for predecessor in edges[key]:
        _visit(predecessor, edges, where, visiting, done)
    visiting.pop()
    done.append(key)
