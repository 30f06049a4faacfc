"""How a pack's roles fit together, checked once at load time.

Each check returns the first mistake as (key path, message), so that ``load_roles`` can raise one
``RulesError`` that says where in pack.toml to look and how to fix it.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import combinations
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..spelling import did_you_mean
from .roles import MEANINGS, Declarations, RoleDeclaration

# What every record has already; an alias with one of these names would hide it.
RECORD_ATTRIBUTES = frozenset({
    "role", "table", "sys_id", "number", "state", "state_value", "meaning", "updated_on", "step",
    "values", "raw", "is_pending", "is_open", "is_done", "is_skipped", "is_canceled", "is_closed",
})

Mistake = tuple[str, str]


def first_mistake(declarations: Declarations) -> Mistake | None:
    """The first way the declarations do not fit together, or None when they do."""
    for check in (_role_names, _key_role, _links, _cycles, _roles_apart, _zone):
        found = next(check(declarations), None)
        if found:
            return found
    for name, role in declarations.records.items():
        found = next(_role_alone(f"records.{name}", role), None)
        if found:
            return found
    return None


def _role_names(declarations: Declarations) -> Iterator[Mistake]:
    """Every role the engagement or a link names is declared."""
    engagement = declarations.engagement
    named = [("engagement.key.role", engagement.key.role), ("engagement.zone.role", engagement.zone.role)]
    if engagement.name:
        named.append(("engagement.name.role", engagement.name.role))
    named += [(f"records.{name}.link.of", role.link.of) for name, role in declarations.records.items() if role.link]
    for where, role in named:
        if role is not None and role not in declarations.records:
            roles = ", ".join(sorted(declarations.records))
            yield where, f"{role!r} is not a role{did_you_mean(role, declarations.records)}; the roles are {roles}"


def _key_role(declarations: Declarations) -> Iterator[Mistake]:
    key = declarations.engagement.key
    link = declarations.records[key.role].link
    if link is not None and link.field != key.field:
        yield (f"records.{key.role}.link",
               f"{key.role} is the key role (engagement.key), so it joins by its key field: "
               f"link = {{ field = {key.field!r} }}, or leave link out")
    for name, role in declarations.records.items():
        if role.link is None and name != key.role:
            yield (f"records.{name}.link",
                   "missing: say how a record joins the engagement: { field = \"...\" } (it carries the key), "
                   "{ ref = \"...\", of = \"role\" } or { referenced_by = \"...\", of = \"role\" }")


def _links(declarations: Declarations) -> Iterator[Mistake]:
    for name, role in declarations.records.items():
        if role.link and role.link.of == name:
            yield f"records.{name}.link.of", f"{name} cannot link to itself: name the role on the other end of the reference"


def _cycles(declarations: Declarations) -> Iterator[Mistake]:
    """Links by reference must end at a role that carries the key, or no engagement finds them."""
    for start in declarations.records:
        path = [start]
        while (link := declarations.link_of(path[-1])).of is not None:
            if link.of in path:
                circle = " -> ".join([*path[path.index(link.of):], link.of])
                yield (f"records.{start}.link",
                       f"the links go round in a circle ({circle}): one of these roles must join by the key field")
                break
            path.append(link.of)


def _roles_apart(declarations: Declarations) -> Iterator[Mistake]:
    """Roles on one table need a link or an identity that tells their records apart."""
    for (first, one), (second, other) in combinations(declarations.records.items(), 2):
        if one.table == other.table and _same_selector(declarations, first, second):
            yield (f"records.{second}",
                   f"shares table {one.table} with records.{first} and nothing tells their records apart: "
                   "give each an identity, such as { field = \"u_code\", value = \"A1\" }")


def _same_selector(declarations: Declarations, first: str, second: str) -> bool:
    if declarations.link_of(first) != declarations.link_of(second):
        return False
    one, other = declarations.records[first].identity, declarations.records[second].identity
    return one == other or (one is not None and other is not None and one.kind == other.kind == "step")


def _zone(declarations: Declarations) -> Iterator[Mistake]:
    default = declarations.engagement.zone.default
    if default is not None:
        try:
            ZoneInfo(default)
        except (ZoneInfoNotFoundError, ValueError):
            yield "engagement.zone.default", f"{default!r} is not an IANA time zone such as Europe/London"


def _role_alone(where: str, role: RoleDeclaration) -> Iterator[Mistake]:
    yield from _states(where, role)
    for alias in role.fields:
        if alias in RECORD_ATTRIBUTES:
            yield f"{where}.fields.{alias}", f"{alias!r} is a name every record has already: choose another alias"
    for alias in role.writable:
        if alias not in role.fields:
            yield (f"{where}.writable",
                   f"{alias!r} is not one of this role's fields{did_you_mean(alias, role.fields)}: "
                   "declare it under fields first")


def _states(where: str, role: RoleDeclaration) -> Iterator[Mistake]:
    seen: dict[str, str] = {}
    for name, value in role.states.items():
        if value in seen:
            yield (f"{where}.states.{name}",
                   f"value {value!r} is already the state {seen[value]!r}: each stored value names one state")
        seen[value] = name
    for name in role.meaning:
        if name not in role.states:
            yield (f"{where}.meaning.{name}",
                   f"{name!r} is not a state of this role{did_you_mean(name, role.states)}")
    for name in role.states:
        if name not in role.meaning:
            yield (f"{where}.meaning",
                   f"the state {name!r} has no meaning: give it one of {', '.join(MEANINGS)}")
