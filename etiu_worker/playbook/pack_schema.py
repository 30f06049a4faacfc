"""The records a pack runs with: its ``[engagement]`` and ``[records.*]`` of pack.toml (the
shipped pack's when it declares none, as an old-layout folder does), with the keys of an old
``[schema]`` put over them: the pack's own, then those of the worker settings' ``[schema]``
section (config file or ``ETIU_SCHEMA__*``) that are set.

The settings keys are deprecated: they are read for one release and each use logs one WARNING
that names the new place.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from ..config import SchemaSettings, env_name
from ..engagement.roles import Declarations
from .pack_file import PackFile, read_toml
from .pack_folders import DEFAULT_PACK, shipped_pack
from .pack_records import declarations_with, schema_of

log = logging.getLogger(__name__)
_warned: set[tuple[str, ...]] = set()  # one warning per process and set of keys and pack


def set_keys(model: BaseModel, prefix: tuple[str, ...] = ()) -> dict[tuple[str, ...], Any]:
    """The leaf keys a settings model was given explicitly (not its defaults), with their values."""
    found: dict[tuple[str, ...], Any] = {}
    for name in sorted(model.model_fields_set):
        value = getattr(model, name)
        if isinstance(value, BaseModel):
            found |= set_keys(value, prefix + (name,))
        else:
            found[prefix + (name,)] = value
    return found


def effective_records(pack: PackFile, overrides: SchemaSettings, pack_file: Path
                      ) -> tuple[Declarations, SchemaSettings, int | None]:
    """The pack's declarations with every old ``[schema]`` key set put over them, the same in the
    old shape, and the old ``short_description_max`` when set (the roadmap's ``fit``)."""
    keys = set_keys(overrides)
    if keys:
        _warn_once(keys, pack_file)
    keys = set_keys(pack.schema_) | keys  # the settings win over the pack
    tables = pack.model_dump(include={"engagement", "records"}) if pack.records else _shipped_tables()
    declarations = declarations_with(tables, keys, str(pack_file))
    fit = keys.get(("short_description_max",))
    declared = pack.checks.roadmap_sync.fit if pack.checks.roadmap_sync else 160
    return declarations, schema_of(declarations, fit or declared), fit


def _shipped_tables() -> dict:
    _, data = read_toml(shipped_pack(DEFAULT_PACK) / "pack.toml")
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
