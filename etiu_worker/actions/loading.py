"""Load a pack: parse it (etiu_worker/playbook/rules.py), then try every condition and template on
the sample engagement (sample.py), which needs the actions' planners. Every caller that runs or
checks a pack loads it here, so no pack runs unchecked.

A cycle runs one pack today. Several packs load and check (``rules check``), but a run refuses
them: which pack an engagement belongs to needs per-engagement matching, which is not built yet.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from ..config import SchemaSettings, Settings
from ..errors import RulesError
from ..playbook.pack_folders import PackFolder
from ..playbook.packs import chosen_folders
from ..playbook.report_checks import load_report
from ..playbook.rules import Playbook, parse_pack, parse_playbook, state_names
from . import KINDS
from .sample import SAMPLE_NOW, check_against_sample, sample_context


def load_pack(folder: PackFolder, overrides: SchemaSettings | None = None) -> Playbook:
    """Load and check the pack in ``folder``; ``overrides`` are the settings' deprecated [schema] keys."""
    return _checked(parse_pack(folder, KINDS, overrides))


def load_playbook(rules_dir: Path, templates_dir: Path, schema: SchemaSettings) -> Playbook:
    """Load and check a rules folder in the old layout (``playbook.toml`` beside the rules)."""
    return _checked(parse_playbook(rules_dir, templates_dir, schema, KINDS))


def load_packs(settings: Settings, pack: str | Path | None = None) -> tuple[Playbook, ...]:
    """Every chosen pack, loaded and checked, in the order the settings list them."""
    playbooks = tuple(load_pack(folder, settings.schema) for folder in chosen_folders(settings, pack))
    _refuse_duplicate_names(playbooks)
    return playbooks


def runtime_playbook(settings: Settings) -> Playbook:
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


def _checked(playbook: Playbook) -> Playbook:
    """The playbook tried on the sample, with its report data, itself tried on the sample."""
    check_against_sample(playbook)
    context = sample_context(playbook)[1]
    report = load_report(playbook.files, playbook.pack, playbook, state_names(playbook.schema), context, SAMPLE_NOW)
    return replace(playbook, report=report)


def _refuse_duplicate_names(playbooks: tuple[Playbook, ...]) -> None:
    seen: dict[str, Path] = {}
    for playbook in playbooks:
        where = playbook.files.pack_file if playbook.files else Path("?")
        if playbook.name in seen:
            raise RulesError(f"{where}: the pack name {playbook.name!r} is also the name of the pack in "
                             f"{seen[playbook.name]}; give each pack in rules.packs its own [pack] name")
        seen[playbook.name] = where
