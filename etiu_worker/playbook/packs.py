"""The packs a worker runs, loaded and checked: every pack ``rules.packs`` (or ``rules.path``)
names, each under a name no other pack has.

A cycle runs one pack today. Several packs load and check (``rules check``), but a run refuses
them: which pack an engagement belongs to needs per-engagement matching, which is not built yet.
"""

from __future__ import annotations

import logging
from pathlib import Path

from ..config import SchemaSettings, Settings
from ..errors import RulesError
from .pack_file import read_pack_file
from .pack_folders import PackFolder, configured_folders, folder_of, pack_folder, templates_override
from .pack_schema import effective_schema

log = logging.getLogger(__name__)


def chosen_folders(settings: Settings, pack: str | Path | None = None) -> tuple[PackFolder, ...]:
    """The packs of the settings, or only ``pack`` (a shipped pack's name or a folder, taken as
    ``rules.path`` would be) when given."""
    if pack is None:
        return configured_folders(settings)
    return (pack_folder(folder_of(pack), templates_override(settings)),)


def load_packs(settings: Settings, pack: str | Path | None = None):
    """Every chosen pack, loaded and checked, in the order the settings list them."""
    from .rules import load_pack  # rules imports this package's modules

    playbooks = tuple(load_pack(folder, settings.schema) for folder in chosen_folders(settings, pack))
    _refuse_duplicate_names(playbooks)
    return playbooks


def runtime_playbook(settings: Settings):
    """The one pack a cycle runs; several are refused with what to do instead."""
    playbooks = load_packs(settings)
    if len(playbooks) > 1:
        names = ", ".join(playbook.name for playbook in playbooks)
        raise RulesError(
            f"rules.packs lists {len(playbooks)} packs ({names}), but a run takes one pack for now: runs of "
            f"several packs arrive with per-engagement matching ([pack] match). Keep one pack in rules.packs "
            f"(ETIU_RULES__PACKS), or run one worker per pack, each with its own state folder"
        )
    return playbooks[0]


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
    return effective_schema(pack.schema_, settings.schema, folder.pack_file)


def _refuse_duplicate_names(playbooks) -> None:
    seen: dict[str, Path] = {}
    for playbook in playbooks:
        where = playbook.files.pack_file if playbook.files else Path("?")
        if playbook.name in seen:
            raise RulesError(f"{where}: the pack name {playbook.name!r} is also the name of the pack in "
                             f"{seen[playbook.name]}; give each pack in rules.packs its own [pack] name")
        seen[playbook.name] = where
