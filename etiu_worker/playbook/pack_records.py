"""The records a pack runs with: its ``[engagement]`` and ``[records.*]`` declarations, with the
keys of the old ``[schema]`` (a pack's own, or the worker settings' deprecated one) put over them.

Each old key names a place in the declarations: ``schema.ticket.*`` the roles identified by a code,
``schema.change.*`` the role named ``change``, ``schema.ctask.*`` the roles identified by a matched
text, ``schema.codes.<role>`` that role's code, ``schema.<section>_states.<name>`` a stored state
value. ``schema_of`` says the declarations back in the old shape, for the modules that still read
it. No I/O.
"""

from __future__ import annotations

import copy
from typing import Any, Callable, Mapping

from ..config import SchemaSettings
from ..engagement.role_loading import load_roles
from ..engagement.roles import Declarations, RoleDeclaration

Tables = dict[str, Any]  # {"engagement": {...}, "records": {role: {...}}}, as pack.toml has them
SECTION_ROLES: dict[str, Callable[[Tables], list[str]]] = {
    "ticket": lambda tables: _roles_with(tables, "value"),
    "change": lambda tables: [role for role in tables["records"] if role == "change"],
    "ctask": lambda tables: _roles_with(tables, "contains"),
}
STATES_OF = {"ticket_states": "ticket", "change_states": "change", "ctask_states": "ctask"}


def declarations_with(tables: Mapping[str, Any], keys: Mapping[tuple[str, ...], Any], where: str) -> Declarations:
    """The declared roles with every old ``[schema]`` key of ``keys`` (path -> value) put over them."""
    edited: Tables = copy.deepcopy({name: dict(tables.get(name) or {}) for name in ("engagement", "records")})
    for path, value in keys.items():
        _put(edited, path, value)
    return load_roles(edited, where)


def schema_of(declarations: Declarations, fit: int) -> SchemaSettings:
    """The declarations in the old ``[schema]`` shape; what the pack does not declare keeps its default."""
    records = declarations.records
    data: dict[str, Any] = {"short_description_max": fit}
    tables = {"records": {role: {"identity": _identity(record)} for role, record in records.items()}}
    for section, finder in SECTION_ROLES.items():
        found = finder(tables)
        if found:
            data[section] = _section_of(declarations, section, found[0])
            data[f"{section}_states"] = _known(SchemaSettings.model_fields[f"{section}_states"].annotation,
                                               records[found[0]].states)
    codes = {role: records[role].identity.value for role in SECTION_ROLES["ticket"](tables)}
    data["codes"] = _known(SchemaSettings.model_fields["codes"].annotation, codes)
    return SchemaSettings(**data)


# --- old key -> declarations -------------------------------------------------------------------


def _put(tables: Tables, path: tuple[str, ...], value: Any) -> None:
    section, name = path[0], path[-1]
    if section == "codes":
        tables["records"].setdefault(name, {}).setdefault("identity", {})["value"] = value
    elif section in STATES_OF:
        for role in SECTION_ROLES[STATES_OF[section]](tables):
            tables["records"][role].setdefault("states", {})[name] = value
    elif section in SECTION_ROLES:
        for role in SECTION_ROLES[section](tables):
            _put_field(tables, role, name, value)


def _put_field(tables: Tables, role: str, name: str, value: Any) -> None:
    record, engagement = tables["records"][role], tables["engagement"]
    if name == "table":
        record["table"] = value
    elif name == "state":
        record["state_field"] = value
    elif name in ("engagement", "change_request"):
        _put_link(tables, role, value)
    elif name == "code" or (name == "short_description" and "contains" in record.get("identity", {})):
        record["identity"]["field"] = value  # a text-identified role is told apart by its title
    elif name == "planned_dates_match":
        record["identity"]["contains"] = value
    elif name == "timezone":
        if engagement.get("zone", {}).get("role") == role:
            engagement["zone"]["field"] = value
    else:
        alias = "title" if name == "short_description" else name
        record.setdefault("fields", {}).setdefault(alias, {})["field"] = value
        if alias == "title" and engagement.get("name", {}).get("role") == role:
            engagement["name"]["field"] = value


def _put_link(tables: Tables, role: str, value: str) -> None:
    record, key = tables["records"][role], tables["engagement"].get("key", {})
    link = record.get("link")
    if link is None or "field" in link:
        if link is not None:
            link["field"] = value
        if key.get("role") == role:
            key["field"] = value
    elif "ref" in link:
        link["ref"] = value


def _roles_with(tables: Tables, identity_key: str) -> list[str]:
    return [role for role, record in tables["records"].items()
            if (record.get("identity") or {}).get(identity_key) is not None]


# --- declarations -> old shape -----------------------------------------------------------------


def _section_of(declarations: Declarations, section: str, role: str) -> dict[str, str]:
    record = declarations.records[role]
    link = declarations.link_of(role)
    fields = {alias: declared.field for alias, declared in record.fields.items()}
    data = {"table": record.table, "state": record.state_field}
    if section == "ticket":
        data |= {"engagement": link.field, "code": record.identity.field}
        data |= _aliases(fields, {"short_description": "title", "work_start": "work_start"})
    elif section == "change":
        data |= {"engagement": link.field} | _aliases(fields, {"planned_start": "planned_start", "planned_end": "planned_end"})
        zone = declarations.engagement.zone
        data |= {"timezone": zone.field} if zone.role == role and zone.field else {}
    else:
        data |= {"change_request": link.ref, "short_description": record.identity.field,
                 "planned_dates_match": record.identity.contains}
    return {name: value for name, value in data.items() if value is not None}


def _aliases(fields: dict[str, str], names: dict[str, str]) -> dict[str, str]:
    return {old: fields[alias] for old, alias in names.items() if alias in fields}


def _identity(record: RoleDeclaration) -> dict[str, Any]:
    return record.identity.model_dump() if record.identity else {}


def _known(model: Any, values: Mapping[str, str]) -> dict[str, str]:
    """Only the names the old shape has: a pack's other states are the declarations' alone."""
    return {name: value for name, value in values.items() if name in model.model_fields}


def legacy_table(declarations: Declarations, section: str) -> str | None:
    """The table the old ``[schema]`` section (ticket, change, ctask) names in the declarations:
    of the roles identified by a code, of the role named change, of the roles identified by a
    matched text; None when the pack has no such role."""
    tables = {"records": {role: {"identity": _identity(record)} for role, record in declarations.records.items()}}
    found = SECTION_ROLES[section](tables)
    return declarations.records[found[0]].table if found else None


def assignee_tables(declarations: Declarations) -> tuple[str, ...]:
    """The tables of the roles that carry the engagement key, whose records' assignees the report names."""
    return tuple(dict.fromkeys(record.table for role, record in declarations.records.items()
                               if declarations.link_of(role).kind == "key"))
