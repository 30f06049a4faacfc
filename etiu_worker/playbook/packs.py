"""Which pack folders a worker runs (every pack ``rules.packs`` or ``rules.path`` names), and the
names of the first's fields, read from its pack.toml alone. Loading and checking them is
etiu_worker/actions/loading.py's.
"""

from __future__ import annotations

import logging
from pathlib import Path

from ..config import Settings
from ..errors import RulesError
from .pack_file import PackFile, read_pack_file
from .pack_folders import PackFolder, configured_folders, folder_of, pack_folder, templates_override
from .pack_records import FieldNames, field_names
from .pack_schema import SHIPPED_PACK_FILE, effective_records

log = logging.getLogger(__name__)


def chosen_folders(settings: Settings, pack: str | Path | None = None) -> tuple[PackFolder, ...]:
    """The packs of the settings, or only ``pack`` (a shipped pack's name or a folder, taken as
    ``rules.path`` would be) when given."""
    if pack is None:
        return configured_folders(settings)
    return (pack_folder(folder_of(pack), templates_override(settings)),)


def configured_names(settings: Settings) -> FieldNames:
    """The names of the fields of the settings' (first) pack, with the settings' overrides, from
    pack.toml alone: for commands that read the state folder and only name states with them.

    A pack that cannot be read gives the shipped pack's with the settings' overrides: ``journal``
    worked without the rules before packs, and ``run`` and ``rules check`` are where a broken pack
    is reported.
    """
    try:
        folder = configured_folders(settings)[0]
        pack = read_pack_file(folder.pack_file, needs_pack_table=not folder.legacy)
        where = folder.pack_file
    except (RulesError, OSError) as error:
        log.debug("state names from the shipped pack: the pack cannot be read: %s", error)
        pack, where = read_pack_file(SHIPPED_PACK_FILE, needs_pack_table=True), SHIPPED_PACK_FILE
    return _names(pack, settings, where)


def _names(pack: PackFile, settings: Settings, where: Path) -> FieldNames:
    declarations = effective_records(pack, settings.schema, where)[0]
    roadmap = pack.checks.roadmap_sync
    if roadmap is None and not pack.records:
        roadmap = read_pack_file(SHIPPED_PACK_FILE, needs_pack_table=True).checks.roadmap_sync
    if roadmap is None:
        return field_names(declarations)
    return field_names(declarations, roadmap.roles, roadmap.field, roadmap.roadmap_labels)
