"""The names a pack adds to what its conditions and templates see: its roles, its ``[context]``
table, and the names of the built-in checks it declares. No I/O.

Every role is a top-level name bound to its record. ``[context]`` gives more names: a list of
roles is a group (``tickets = ["intake", "review"]`` gives ``tickets.intake`` and
``engagement.tickets``, the group's records found), a string another name for one role
(``ctask = "planned_dates"``). A name that a built-in name or another role already has is
refused at load, as is a rule reading a check's name when the pack does not declare the check.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from jinja2 import nodes

from ..engagement.engagements import Engagement
from ..engagement.records import Record
from ..engagement.roles import Declarations
from ..errors import RulesError
from ..spelling import did_you_mean
from .condition_check import StateNames
from .tree_nodes import find_all, with_root

# The names of the built-in checks' facts, by the [checks.*] table that gives them.
CHECK_NAMES = {
    "window": "planned_window",
    "sync": "roadmap_sync", "roadmap": "roadmap_sync",
    "prod_upgrade_utc": "roadmap_sync", "prod_upgrade_local": "roadmap_sync",
}
BUILT_IN = (
    "now", "today", "dates", "steps", "latches", "engagement", "key", "client", "zone", "calendar", "contacts",
    "problems", "params", "rule", "records", "found", "codes", "numbers", "target", "problem", "ticket", "changes", "error",
    "record", "step",
    *CHECK_NAMES,
)


@dataclass(frozen=True)
class ContextNames:
    """A pack's ``[context]``: its groups (name -> roles, in pack order) and other names (name -> role)."""

    groups: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    aliases: Mapping[str, str] = field(default_factory=dict)

    def roles_of(self, name: str) -> tuple[str, ...]:
        """The roles a top-level name reads: itself (a role), its group's, or its alias's."""
        if name in self.groups:
            return self.groups[name]
        return (self.aliases.get(name, name),)


def load_context(table: Mapping[str, Any], declarations: Declarations, where: str) -> ContextNames:
    """``[context]`` of pack.toml checked against the roles, or a ``RulesError`` naming the key."""
    roles = list(declarations.records)
    for role in roles:
        _refuse_built_in(where, f"records.{role}", role, "the role")
    groups: dict[str, tuple[str, ...]] = {}
    aliases: dict[str, str] = {}
    for name, value in table.items():
        path = f"context.{name}"
        _refuse_built_in(where, path, name, "the group or alias")
        if name in roles:
            raise RulesError(f"{where}: {path}: {name!r} is already a role: name the group or alias otherwise")
        members = [value] if isinstance(value, str) else value
        if not isinstance(members, list) or not all(isinstance(member, str) for member in members) or not members:
            raise RulesError(f"{where}: {path}: give a role (\"planned_dates\") or a list of roles "
                             f"([\"intake\", \"review\"])")
        for member in members:
            if member not in roles:
                raise RulesError(f"{where}: {path}: {member!r} is not a declared role"
                                 f"{did_you_mean(member, roles)}; the roles are: {', '.join(roles)}")
        if isinstance(value, str):
            aliases[name] = value
        else:
            groups[name] = tuple(role for role in roles if role in members)  # in pack order
    return ContextNames(MappingProxyType(groups), MappingProxyType(aliases))


def _refuse_built_in(where: str, path: str, name: str, what: str) -> None:
    if name in BUILT_IN:
        raise RulesError(f"{where}: {path}: {name!r} is a name every condition already reads ({', '.join(sorted(BUILT_IN))}): "
                         f"give {what} another name")


def check_declared(tree: nodes.Node, declared_checks: set[str], where: str, subject: str) -> None:
    """Refuse a condition or template that reads a check's name (``window``) when the pack does
    not declare that check, saying which ``[checks.*]`` to declare."""
    stored = {node.name for node in find_all(tree, nodes.Name) if node.ctx in ("store", "param")}
    loaded = [node.name for node in _names(tree) if node.ctx == "load" and node.name not in stored]
    for name in loaded:
        check = CHECK_NAMES.get(name)
        if check is not None and check not in declared_checks:
            raise RulesError(f"{where}: {subject} reads {name!r}, which exists only when pack.toml declares "
                             f"[checks.{check}]: declare it, or read something else")


def _names(tree: nodes.Node) -> list[nodes.Name]:
    return with_root(tree, nodes.Name)


class EngagementView:
    """``engagement`` as conditions see it: the engagement's own names, and each group of
    ``[context]`` as the tuple of its records found (in pack order, then by number)."""

    def __init__(self, engagement: Engagement, names: ContextNames) -> None:
        self._engagement = engagement
        self._groups = {name: tuple(record for role in roles for record in engagement.each(role))
                        for name, roles in names.groups.items()}

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        if name in self._groups:
            return self._groups[name]
        return getattr(self._engagement, name)

    def __dir__(self) -> list[str]:
        own = ("key", "zone", "name", "found", "chosen", "problems", "records", "is_broken", "one", "each", "by_step")
        return sorted({*own, *self._groups})


def group_records(engagement: Engagement, names: ContextNames) -> dict[str, Any]:
    """The top-level names of the roles and of ``[context]``, each bound to its record(s)."""
    chosen: dict[str, Record | None] = {role: engagement.one(role) for role in engagement.found}
    bound: dict[str, Any] = dict(chosen)
    for name, roles in names.groups.items():
        bound[name] = MappingProxyType({role: chosen[role] for role in roles})
    for name, role in names.aliases.items():
        bound[name] = chosen[role]
    return bound


def state_names(declarations: Declarations, names: ContextNames) -> StateNames:
    """The states each role, other name of a role and group can hold, as conditions compare them."""
    by_name: dict[str, tuple[str, ...]] = {role: tuple(record.states) for role, record in declarations.records.items()}
    by_name |= {name: by_name[role] for name, role in names.aliases.items()}
    for name, roles in names.groups.items():
        by_name[name] = tuple(dict.fromkeys(state for role in roles for state in by_name[role]))
    return StateNames(MappingProxyType(by_name), names.groups)


def targets_of(declarations: Declarations, names: ContextNames) -> tuple[str, ...]:
    """What an action's ``target`` may name: a role, another name of one, or ``problems``."""
    return (*declarations.records, *names.aliases, "problems")


def codes_of(declarations: Declarations) -> Mapping[str, str]:
    """``codes``: each code-identified role's code (``codes.<role>``)."""
    return MappingProxyType({role: str(record.identity.value) for role, record in declarations.records.items()
                             if record.identity is not None and record.identity.kind == "code"})
