"""The schema a pack runs with: its own ``[schema]`` of pack.toml, overridden by the keys of the
worker settings' old ``[schema]`` section (config file or ``ETIU_SCHEMA__*``) that are set.

Those settings keys are deprecated: they are read for one release and each use logs one WARNING
that names the new place.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from ..config import SchemaSettings, env_name

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


def effective_schema(pack_schema: SchemaSettings, overrides: SchemaSettings, pack_file: Path) -> SchemaSettings:
    """The pack's schema with every key set in the worker settings' ``[schema]`` put over it."""
    keys = set_keys(overrides)
    if not keys:
        return pack_schema
    _warn_once(keys, pack_file)
    data = pack_schema.model_dump()
    for path, value in keys.items():
        section = data
        for part in path[:-1]:
            section = section[part]
        section[path[-1]] = value
    return SchemaSettings(**data)


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
