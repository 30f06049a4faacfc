"""Load a pack: parse it (etiu_worker/playbook/rules.py), then try every condition and template on
the sample engagement (sample.py), which needs the actions' planners. Every caller that runs or
checks a pack loads it here, so no pack runs unchecked.

A run takes every pack ``rules.packs`` lists (``runtime_packs``); each pack's ``[pack] match``
(etiu_worker/playbook/pack_match.py) is compiled here and tried on the sample like a rule's condition.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from ..config import SchemaSettings, Settings
from ..errors import RulesError
from ..playbook.code_cache import CodeCache
from ..state.journal_open import DATABASE_NAME
from ..playbook.pack_folders import PackFolder
from ..playbook.packs import chosen_folders
from ..playbook.report_checks import load_report
from ..playbook.rules import Playbook, parse_pack, parse_playbook
from . import KINDS
from ..playbook.pack_match import compile_match
from ..playbook.key_checks import refuse_remembered_keys
from .sample import SAMPLE_NOW, check_against_sample, check_condition, sample_context


def load_pack(folder: PackFolder, overrides: SchemaSettings | None = None, code_cache: CodeCache | None = None) -> Playbook:
    """Load and check the pack in ``folder``; ``overrides`` are the settings' deprecated [schema] keys;
    ``code_cache`` holds what was compiled before (the checks all run all the same)."""
    return _checked(parse_pack(folder, KINDS, overrides, code_cache))


def load_playbook(rules_dir: Path, templates_dir: Path, schema: SchemaSettings) -> Playbook:
    """Load and check a rules folder in the old layout (``playbook.toml`` beside the rules)."""
    return _checked(parse_playbook(rules_dir, templates_dir, schema, KINDS))


def load_packs(settings: Settings, pack: str | Path | None = None,
               code_cache: CodeCache | None = None) -> tuple[Playbook, ...]:
    """Every chosen pack, loaded and checked, in the order the settings list them."""
    playbooks = tuple(load_pack(folder, settings.schema, code_cache) for folder in chosen_folders(settings, pack))
    _refuse_duplicate_names(playbooks)
    return playbooks


def runtime_packs(settings: Settings, *, keep_compiled: bool = False) -> tuple[Playbook, ...]:
    """Every pack a run takes, in the order rules.packs lists them. With ``keep_compiled`` (a run),
    what they compile to is taken from the state folder and kept there for the next run
    (playbook/code_cache.py), once the folder holds a journal: a folder that is not the
    worker's, or not yet, is left as it is."""
    if not keep_compiled:
        return load_packs(settings)
    code_cache = CodeCache.open(settings.state.dir)
    playbooks = load_packs(settings, code_cache=code_cache)
    if (settings.state.dir / DATABASE_NAME).is_file():
        code_cache.save()
    return playbooks


def runtime_playbook(settings: Settings) -> Playbook:
    """The first pack a run takes: the one whose schema commands name states with."""
    return runtime_packs(settings)[0]


def _checked(playbook: Playbook) -> Playbook:
    """The playbook tried on the sample, with its report data, itself tried on the sample."""
    playbook = replace(playbook, match=compile_match(playbook))
    refuse_remembered_keys(playbook.rules, playbook.moments, playbook.env)
    check_against_sample(playbook)
    context = sample_context(playbook)[1]
    for condition in playbook.match:
        check_condition(playbook, condition, context)
    report = load_report(playbook.files, playbook.pack, playbook, playbook.states, context, SAMPLE_NOW)
    return replace(playbook, report=report)


def _refuse_duplicate_names(playbooks: tuple[Playbook, ...]) -> None:
    seen: dict[str, Path] = {}
    for playbook in playbooks:
        where = playbook.files.pack_file if playbook.files else Path("?")
        if playbook.name in seen:
            raise RulesError(f"{where}: the pack name {playbook.name!r} is also the name of the pack in "
                             f"{seen[playbook.name]}; give each pack in rules.packs its own [pack] name")
        seen[playbook.name] = where
