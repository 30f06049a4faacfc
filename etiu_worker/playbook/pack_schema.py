"""The records a pack runs with: its ``[engagement]`` and ``[records.*]`` of pack.toml (the
shipped pack's when it declares none, as an old-layout folder does), with the keys of an old
``[schema]`` put over them: the pack's own, then those of the worker settings' ``[schema]``
section (config file or ``ETIU_SCHEMA__*``) that are set.

Each old key names a place in the declarations: ``schema.ticket.*`` the roles identified by a code,
``schema.change.*`` the role named ``change``, ``schema.ctask.*`` the roles identified by a matched
text, ``schema.codes.<role>`` that role's code, ``schema.<section>_states.<name>`` a stored state
value. The settings keys are deprecated: they are read for one release and each use logs one
WARNING that names the new place.
"""

from __future__ import annotations

import copy
import logging
from pathlib import Path
from typing import Any, Callable, Mapping

from pydantic import BaseModel

from ..config import SchemaSettings, env_name
from ..engagement.role_loading import load_roles
from ..errors import RulesError
from ..spelling import did_you_mean
from ..engagement.roles import Declarations, RoleDeclaration
from .pack_file import PackFile, read_toml
from .pack_folders import DEFAULT_PACK, shipped_pack

Tables = dict[str, Any]  # {"engagement": {...}, "records": {role: {...}}}, as pack.toml has them
SECTION_ROLES: dict[str, Callable[[Tables], list[str]]] = {
    "ticket": lambda tables: _roles_with(tables, "value"),
    "change": lambda tables: [role for role in tables["records"] if role == "change"],
    "ctask": lambda tables: _roles_with(tables, "contains"),
}
STATES_OF = {"ticket_states": "ticket", "change_states": "change", "ctask_states": "ctask"}

log = logging.getLogger(__name__)
_warned: set[tuple[str, ...]] = set()  # one warning per process and set of keys and pack


def set_keys(model: BaseModel, prefix: tuple[str, ...] = ()) -> dict[tuple[str, ...], Any]:
    """The leaf keys a settings model was given explicitly (not its defaults), with their values."""
    found: dict[tuple[str, ...], Any] = {}
    for name in sorted(model.model_fields_set):
        value = getattr(model, name)
        if isinstance(value, BaseModel):
            found |= set_keys(value, prefix + (name,))
        elif isinstance(value, dict):  # codes: one key per role
            found |= {prefix + (name, str(key)): item for key, item in sorted(value.items())}
        else:
            found[prefix + (name,)] = value
    return found


def effective_records(pack: PackFile, overrides: SchemaSettings, pack_file: Path) -> tuple[Declarations, int | None]:
    """The pack's declarations with every old ``[schema]`` key set put over them, and the old
    ``short_description_max`` when set (the roadmap's ``fit``)."""
    keys = set_keys(overrides)
    if keys:
        _warn_once(keys, pack_file)
    keys = set_keys(pack.schema_) | keys  # the settings win over the pack
    tables = pack.model_dump(include={"engagement", "records"}) if pack.records else _shipped_tables()
    declarations = declarations_with(tables, keys, str(pack_file))
    return declarations, keys.get(("short_description_max",))


SHIPPED_PACK_FILE = shipped_pack(DEFAULT_PACK) / "pack.toml"


def _shipped_tables() -> dict:
    _, data = read_toml(SHIPPED_PACK_FILE)
    return {name: data[name] for name in ("engagement", "records")}


def is_overridden(overrides: SchemaSettings, dotted: str) -> bool:
    """True when the settings key ``schema.<dotted>`` is set (and so wins over the pack)."""
    return tuple(dotted.split(".")) in set_keys(overrides)


def _warn_once(keys: dict[tuple[str, ...], Any], pack_file: Path) -> None:
    marker = (str(pack_file), *(".".join(path) for path in keys))
    if marker in _warned:
        return
    _warned.add(marker)
    names = ", ".join(f"schema.{'.'.join(path)} ({env_name('schema', *path)})" for path in keys)
    log.warning(
        "the worker settings' [schema] keys are deprecated and will be ignored in a later release: "
        "%s now belong in [schema] in %s; they override the pack's values for now. "
        "Copy the pack with `etiu-worker rules init DIR`, set the keys in DIR/pack.toml and point "
        "rules.path (ETIU_RULES__PATH) at DIR", names, pack_file,
    )


def declarations_with(tables: Mapping[str, Any], keys: Mapping[tuple[str, ...], Any], where: str) -> Declarations:
    """The declared roles with every old ``[schema]`` key of ``keys`` (path -> value) put over them."""
    edited: Tables = copy.deepcopy({name: dict(tables.get(name) or {}) for name in ("engagement", "records")})
    for path, value in keys.items():
        if path[0] == "codes" and path[-1] not in edited["records"]:
            roles = list(edited["records"])
            raise RulesError(f"{where}: schema.codes.{path[-1]}: {path[-1]!r} is not a role of the pack"
                             f"{did_you_mean(path[-1], roles)}; the roles are: {', '.join(roles)}")
        _put(edited, path, value)
    return load_roles(edited, where)


def legacy_table(declarations: Declarations, section: str) -> str | None:
    """The table the old ``[schema]`` section (ticket, change, ctask) names in the declarations:
    of the roles identified by a code, of the role named change, of the roles identified by a
    matched text; None when the pack has no such role."""
    tables = {"records": {role: {"identity": _identity(record)} for role, record in declarations.records.items()}}
    found = SECTION_ROLES[section](tables)
    return declarations.records[found[0]].table if found else None


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


# --- what the declarations hold for an old key ---------------------------------------------------


def _identity(record: RoleDeclaration) -> dict[str, Any]:
    return record.identity.model_dump() if record.identity else {}
