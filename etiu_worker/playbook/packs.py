"""Which pack folders a worker runs (every pack ``rules.packs`` or ``rules.path`` names), and the
schema of the first, read from its pack.toml alone. Loading and checking them is
etiu_worker/actions/loading.py's.
"""

from __future__ import annotations

import logging
from pathlib import Path

from ..config import SchemaSettings, Settings
from ..errors import RulesError
from .pack_file import read_pack_file
from .pack_folders import PackFolder, configured_folders, folder_of, pack_folder, templates_override
from .pack_schema import effective_records

log = logging.getLogger(__name__)


def chosen_folders(settings: Settings, pack: str | Path | None = None) -> tuple[PackFolder, ...]:
    """The packs of the settings, or only ``pack`` (a shipped pack's name or a folder, taken as
    ``rules.path`` would be) when given."""
    if pack is None:
        return configured_folders(settings)
    return (pack_folder(folder_of(pack), templates_override(settings)),)


def configured_schema(settings: Settings) -> SchemaSettings:
    """The schema of the settings' (first) pack, with the settings' overrides, from pack.toml
    alone: for commands that read the state folder and only name states with it.

    A pack that cannot be read gives the settings' schema: ``journal`` worked without the rules
    before packs, and ``run`` and ``rules check`` are where a broken pack is reported.
    """
    try:
        folder = configured_folders(settings)[0]
        pack = read_pack_file(folder.pack_file, needs_pack_table=not folder.legacy)
    except (RulesError, OSError) as error:
        log.debug("state names from the settings' schema: the pack cannot be read: %s", error)
        return settings.schema
    return effective_records(pack, settings.schema, folder.pack_file)[1]
