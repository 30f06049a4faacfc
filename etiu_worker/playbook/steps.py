"""Steps declared by a pack: checklists, milestones and stage gates, from ``[steps.<group>]``.

A group lists the steps whose records have one role; a record is matched to its step by its step
id. Three ways to write a group:

* with ``items``: a list of steps, each with its ``id``; ``ordered = true`` puts each item after
  the one before it. Every key an item can have, written on the group, is the default of its
  items (``owner``, ``warn_at``, ``duration``...), but for ``title`` (the group's own title) and
  ``after``: on the group it is a gate every item waits for.
* without ``items``: the group itself is its one step, and its id is the group's name
  (``[steps.review]`` with ``duration = "2bd"`` reads as ``steps.review.overdue``).
* with ``mirror = {of = "launch", items = [...], reverse = true, only = "done"}``: the items of
  another group (all, or those named), in reverse order when asked, each after the one before;
  with ``only = "done"`` only those whose record is done when the states are derived (a rollback
  undoes what was done, last first). ``title`` is a template over ``step``, the mirrored item
  (``"Revert: {{ step.title }}"``); an item keeps its mirrored item's owner, and its id unless
  ``mirror.id`` names it from the mirrored item (``id = "R{{ step.id[1:] }}"``: L4's is R4), as
  its records must when they share a step field with the mirrored group's.

A step refers to another by its id inside its group, by ``group.id`` across groups, or by a
one-step group's name. A duration is written with its unit (``2bd``); its amount may come from
the engagement: ``duration = "{{ change.qa_period_bd }}bd"`` names an expression the caller
evaluates (``Step.duration.amount_from``). ``start_from`` says where the clock starts: ``after``
(default: when the predecessors finished; a step with none starts when its record went in
progress), ``started`` (when its record went in progress), or any other name: an instant the
caller resolves (a date or a field, e.g. ``case.opened_at``). ``paused_when`` is a condition the
caller evaluates. Everything is checked at load (``step_checks``), with the key path in the error.
"""

from __future__ import annotations

import re
from dataclasses import replace
from types import MappingProxyType
from typing import Any, Mapping

from jinja2 import TemplateError
from pydantic import ValidationError

from ..errors import RulesError
from ..spelling import closest
from .durations import parse_duration
from .step_checks import check_plan, key_path, mirrored_steps, not_one_of

from .step_model import (
    _FROM_CONTEXT, _JINJA, ITEM_DEFAULTS, MAPPING_NAMES, NAME, RESERVED, STARTS,
    DurationSpec, GroupFile, MirrorFile, Step, StepFile, StepGroup, StepPlan,
)

def load_steps(table: Mapping[str, Any], source: str = "") -> StepPlan:
    """The ``[steps]`` table of a pack, checked; RulesError names ``source`` and the key path."""
    try:
        return _load(table)
    except RulesError as error:
        raise RulesError(f"{source}: {error}" if source else str(error)) from None


def _load(table: Mapping[str, Any]) -> StepPlan:
    files = {name: _group_file(name, data) for name, data in table.items()}
    drafts: dict[str, StepGroup] = {}
    for name, file in files.items():
        if file.mirror is None:
            drafts[name] = _group(name, file)
    # A mirror takes its items from groups that are not mirrors: those are all built by now.
    mirrors = {name: _mirror_group(name, file, drafts, files) for name, file in files.items() if file.mirror}
    drafts.update(mirrors)
    groups, order = check_plan({name: drafts[name] for name in files}, files)
    return StepPlan(groups=MappingProxyType(groups), order=order)


def _group_file(name: str, data: Any) -> GroupFile:
    where = f"steps.{name}"
    if not re.match(NAME, name):
        raise RulesError(f"{where}: {name!r} is not a group name: use letters, digits and _")
    if name in RESERVED:
        raise RulesError(f"{where}: {name!r} is a name conditions read on steps; call the group otherwise")
    if not isinstance(data, Mapping):
        raise RulesError(f"{where}: write the group as a table, [steps.{name}]")
    try:
        file = GroupFile(**data)
    except ValidationError as error:
        raise RulesError(_describe(where, error)) from None
    if file.items is not None and file.mirror is not None:
        raise RulesError(f"{where}: a group has either items or a mirror, not both")
    return file


def _describe(where: str, error: ValidationError) -> str:
    first = error.errors()[0]
    path = key_path(where, first["loc"])
    if first["type"] == "extra_forbidden":
        return f"{path}: {not_one_of(str(first['loc'][-1]), 'a known key', _keys_at(first['loc']))}"
    if first["type"] == "literal_error":
        return f"{path}: {first['input']!r} is not allowed here; use 'done', or leave it out to mirror every item"
    if first["type"] == "string_pattern_mismatch":
        return f"{path}: {first['input']!r} is not an id: use letters, digits and _ (start with a letter)"
    return f"{path}: {first['msg']}"


def _keys_at(loc: tuple[Any, ...]) -> list[str]:
    """The keys that may be written where a pydantic error points."""
    model = StepFile if loc[0] == "items" else MirrorFile if loc[0] == "mirror" else GroupFile
    return list(model.model_fields)


def _group(name: str, file: GroupFile) -> StepGroup:
    if file.items is None:
        written = {key: value for key, value in file.model_dump().items() if key in StepFile.model_fields}
        step = _step(name, name, written, f"steps.{name}", single=True)
        return StepGroup(name, file.role, file.title, (step,), single=True)
    defaults = {key: getattr(file, key) for key in file.model_fields_set if key in ITEM_DEFAULTS}
    steps: list[Step] = []
    for index, item in enumerate(file.items):
        if item.id in MAPPING_NAMES:
            raise RulesError(f"steps.{name}.items[{index}].id: {item.id!r} is a name conditions read on a "
                             "group's items; call the step otherwise")
        written = {**defaults, **{key: getattr(item, key) for key in item.model_fields_set}}
        written["after"] = [*item.after, *file.after] + ([steps[-1].id] if file.ordered and steps else [])
        steps.append(_step(name, item.id, written, f"steps.{name}.items[{index}]"))
    return StepGroup(name, file.role, file.title, tuple(steps))


def _step(group: str, id_: str, written: Mapping[str, Any], where: str, single: bool = False) -> Step:
    values = {**_step_defaults(), **written}
    warn_at = values["warn_at"]
    if warn_at is not None and not 0 <= warn_at <= 1:
        raise RulesError(f"{where}.warn_at: {warn_at!r} is not a share of the duration: "
                         "write a number from 0 to 1, e.g. 0.75 for 75%")
    _check_expression(values["paused_when"], f"{where}.paused_when")
    _check_start(values["start_from"], f"{where}.start_from")
    return Step(
        key=group if single else f"{group}.{id_}", group=group, id=id_,
        title=values["title"] or id_, owner=values["owner"], after=tuple(values["after"]),
        optional=values["optional"], duration=_duration(values["duration"], f"{where}.duration"),
        start_from=values["start_from"], warn_at=warn_at, paused_when=values["paused_when"],
    )


def _step_defaults() -> dict[str, Any]:
    return {key: field.get_default(call_default_factory=True) for key, field in StepFile.model_fields.items()}


def _check_start(start_from: str, where: str) -> None:
    """``after``, ``started``, or a dotted name the caller resolves (``case.opened_at``)."""
    if start_from in STARTS or re.match(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)+$", start_from):
        return
    close = closest(start_from, STARTS)
    hint = f"did you mean {close!r}? " if close else ""
    raise RulesError(f"{where}: {start_from!r} is not where a clock starts; {hint}write after (when the "
                     "predecessors finished), started (when the record went in progress) or a date or field "
                     "such as case.opened_at")


def _duration(text: str | None, where: str) -> DurationSpec | None:
    if text is None:
        return None
    found = _FROM_CONTEXT.match(text)
    if found is None:
        fixed = parse_duration(text, where)
        return DurationSpec(fixed.unit, fixed=fixed)
    _check_expression(found["expression"], where)
    return DurationSpec(found["unit"], amount_from=found["expression"])


def _check_expression(text: str, where: str) -> None:
    if not text:
        return
    try:
        _JINJA.compile_expression(text)
    except TemplateError as error:
        raise RulesError(f"{where}: {text!r} is not an expression Jinja can read: {str(error).rstrip('.')}") from None


def _mirror_group(name: str, file: GroupFile, drafts: Mapping[str, StepGroup],
                  files: Mapping[str, GroupFile]) -> StepGroup:
    assert file.mirror is not None
    sources = mirrored_steps(name, file.mirror.of, file.mirror.items, drafts, files)
    if file.mirror.reverse:
        sources = sources[::-1]
    where = f"steps.{name}"
    steps = tuple(_mirror_step(name, source, file, where) for source in sources)
    return StepGroup(name, file.role, "", steps, mirror_of=file.mirror.of,
                     reverse=file.mirror.reverse, only_done=file.mirror.only == "done")


def _mirror_step(name: str, source: Step, file: GroupFile, where: str) -> Step:
    assert file.mirror is not None
    written = {key: getattr(file, key) for key in file.model_fields_set if key in StepFile.model_fields}
    written["title"] = _title(file.title, source, f"{where}.title") if file.title else source.title
    written.setdefault("owner", source.owner)
    written["after"] = list(file.after)
    return replace(_step(name, _mirror_id(file.mirror.id, source, f"{where}.mirror.id"), written, where),
                   mirrors=source.key)


def _mirror_id(template: str, source: Step, where: str) -> str:
    """The id of a mirror's item: the mirrored item's, or ``mirror.id`` rendered over it."""
    if not template:
        return source.id
    id_ = _title(template, source, where).strip()
    if not re.match(NAME, id_):
        raise RulesError(f"{where}: {template!r} gives {id_!r} for {source.id}, which is not an id: "
                         "give each item letters, digits and _ (starting with a letter)")
    return id_


def _title(template: str, source: Step, where: str) -> str:
    try:
        return _JINJA.from_string(template).render(step=source)
    except TemplateError as error:
        raise RulesError(f"{where}: {template!r} cannot be read: {str(error).rstrip('.')}; "
                         "it can use step.id, step.title and step.owner") from None
