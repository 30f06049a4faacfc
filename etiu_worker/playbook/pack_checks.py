"""The built-in checks a pack declares (``[checks.*]`` of pack.toml), checked against its roles
and compiled at load. No I/O but the one deprecation warning.

``[playbook] planned_window_hours`` is read for one release as a deprecated other name of
``[checks.planned_window] hours``; a pack that declares no records runs the shipped pack's, and
so its checks and ``[context]`` when it declares none.
"""

from __future__ import annotations

import logging
from typing import Any

from jinja2 import TemplateSyntaxError

from ..engagement.roadmap_labels import load_labels
from ..engagement.roles import Declarations
from ..errors import RulesError
from ..spelling import did_you_mean
from .pack_file import ChecksTable, PackFile, PlannedWindowTable
from .roadmap_check import check_roadmap_roles

log = logging.getLogger(__name__)
_warned: set[str] = set()  # the pack files already warned about, once per process


def checks_of(pack: PackFile, declarations: Declarations, env: Any, fit: int | None, where: str) -> ChecksTable:
    """The pack's checks, with the deprecated keys put over them (``fit``: the old [schema]
    short_description_max, when set), or a ``RulesError`` naming the key to fix."""
    checks = pack.checks
    if checks.roadmap_sync is not None and fit is not None:
        checks = checks.model_copy(update={"roadmap_sync": checks.roadmap_sync.model_copy(update={"fit": fit})})
    if "planned_window_hours" in pack.playbook.model_fields_set:
        _warn_hours(where)
        if checks.planned_window is not None:
            window = checks.planned_window.model_copy(update={"hours": pack.playbook.planned_window_hours})
            checks = checks.model_copy(update={"planned_window": window})
    check_roadmap_roles(checks.roadmap_sync, declarations, where)
    if checks.roadmap_sync is not None:
        load_labels(checks.roadmap_sync.labels, where)  # refused here, with the key path, not when first read
    if checks.planned_window is not None:
        _check_window(checks.planned_window, declarations, env, where)
    return checks


def _check_window(check: PlannedWindowTable, declarations: Declarations, env: Any, where: str) -> None:
    roles = list(declarations.records)
    if check.role not in declarations.records:
        raise RulesError(f"{where}: checks.planned_window.role: {check.role!r} is not a declared role"
                         f"{did_you_mean(check.role, roles)}; the roles are: {', '.join(roles)}")
    fields = declarations.records[check.role].fields
    for key in ("start", "end"):
        alias = getattr(check, key)
        if alias not in fields or fields[alias].type != "datetime":
            raise RulesError(f"{where}: checks.planned_window.{key}: {alias!r} is not a datetime field of "
                             f"records.{check.role}{did_you_mean(alias, fields)}")
    for key in ("applies", "expected"):
        try:
            env.compile_expression(getattr(check, key))
        except TemplateSyntaxError as error:
            raise RulesError(f"{where}: checks.planned_window.{key}: {getattr(check, key)!r} does not compile: "
                             f"{error.message}") from None


def _warn_hours(where: str) -> None:
    if where in _warned:
        return
    _warned.add(where)
    log.warning("%s: [playbook] planned_window_hours is deprecated and will be ignored in a later release: "
                "write it as hours in [checks.planned_window]", where)
