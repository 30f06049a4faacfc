"""Which packs ``etiu-worker demo`` runs, and which demo engagements the sandbox seeds for them.

Kept apart from commands.py, which runs the demo; this module does not import it.
"""

from __future__ import annotations

import click

from ..config import Settings
from ..playbook.pack_folders import DEFAULT_PACK, shipped_pack_names
from ..sandbox.demo_packs import PACKS as SEEDED_PACKS


def demo_packs(settings: Settings, packs: tuple[str, ...]) -> Settings:
    """The settings the demo runs with: the shipped packs asked for (``--pack``), else every
    shipped pack, unless the settings name their own (rules.packs or rules.path)."""
    if packs:
        known = shipped_pack_names()
        unknown = [name for name in packs if name not in known]
        if unknown:
            raise click.BadParameter(f"{unknown[0]!r} is not a shipped pack; the shipped packs are {', '.join(known)}",
                                     param_hint="--pack")
        return _with_packs(settings, list(packs))
    if {"path", "packs"} & settings.rules.model_fields_set:
        return settings
    return _with_packs(settings, [DEFAULT_PACK, *(name for name in shipped_pack_names() if name != DEFAULT_PACK)])


def pack_names(settings: Settings) -> list[str]:
    """The packs the demo runs, by name (a pack folder of the settings by its path)."""
    if "path" in settings.rules.model_fields_set:
        return [str(settings.rules.path)]
    return list(settings.rules.packs)


def seeded(settings: Settings) -> tuple[bool, list[str]]:
    """Whether the sandbox seeds the etiu demo, and the other packs whose demo it seeds (a pack
    folder of the settings gets the etiu demo, as the demo always had)."""
    chosen = pack_names(settings)
    return DEFAULT_PACK in chosen or "path" in settings.rules.model_fields_set, [name for name in chosen if name in SEEDED_PACKS]


def _with_packs(settings: Settings, packs: list[str]) -> Settings:
    return settings.model_copy(update={"rules": settings.rules.model_copy(update={"packs": packs})})
