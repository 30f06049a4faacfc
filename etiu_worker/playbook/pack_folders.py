"""Where a pack's files are: the shipped packs by name, an admin's pack folder, and a rules folder
in the old layout (``playbook.toml`` beside the rules files, templates from ``templates.path``).

A pack folder holds ``pack.toml``, ``rules/``, ``templates/`` and ``fixtures/``. A folder with
neither ``pack.toml`` nor ``playbook.toml`` is refused: defaults would run silently with no
holidays. The old layout still loads, as the ``etiu`` pack, with one deprecation WARNING.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from ..config import Settings, shipped_path
from ..errors import RulesError
from .names import did_you_mean
from .pack_file import LEGACY_PLAYBOOK_FILE, PACK_FILE

log = logging.getLogger(__name__)
DEFAULT_PACK = "etiu"
_warned: set[str] = set()  # the deprecations already logged: each once per process and folder


@dataclass(frozen=True)
class PackFolder:
    """The files of one pack: its pack.toml (or old playbook.toml) and its three folders."""

    root: Path
    pack_file: Path
    rules_dir: Path
    templates_dir: Path
    fixtures_dir: Path
    legacy: bool = False

    def rule_files(self) -> list[Path]:
        """The rules files, in file-name order (``NN_name.toml``)."""
        return [path for path in sorted(self.rules_dir.glob("*.toml")) if path != self.pack_file]


def shipped_packs_dir() -> Path:
    """The folder of the packs shipped with etiu-worker, installed or in a checkout."""
    return shipped_path("packs")


def shipped_pack_names() -> list[str]:
    """The names of the shipped packs, sorted."""
    return sorted(path.name for path in shipped_packs_dir().iterdir() if (path / PACK_FILE).is_file())


def shipped_pack(name: str) -> Path:
    """The folder of the shipped pack ``name``."""
    folder = shipped_packs_dir() / name
    if not (folder / PACK_FILE).is_file():
        names = shipped_pack_names()
        raise RulesError(f"there is no shipped pack {name!r}{did_you_mean(name, names)}: the shipped packs are "
                         f"{', '.join(names)}; a pack folder of your own is a path such as ./{name}")
    return folder


def folder_of(spec: str | Path) -> Path:
    """A ``rules.packs`` entry or ``--pack`` value as a folder: a shipped pack's name, else a path.

    A bare name (no ``/``) is a shipped pack's; write ``./etiu`` for a folder of that name.
    """
    text = str(spec)
    if isinstance(spec, Path) or "/" in text or "\\" in text or text.startswith((".", "~")):
        return Path(text).expanduser()
    return shipped_pack(text)


def pack_folder(folder: Path, templates: Path | None = None) -> PackFolder:
    """The files of the pack in ``folder``; ``templates`` replaces its templates folder."""
    if not folder.is_dir():
        raise RulesError(f"pack folder {folder} does not exist: set rules.packs or rules.path (ETIU_RULES__PATH) "
                         f"to a pack folder, or make one with etiu-worker rules init {folder}")
    if (folder / PACK_FILE).is_file():
        if templates is not None:
            _warn_once(f"templates:{folder}", "templates.path (ETIU_TEMPLATES__PATH) is deprecated: a pack keeps "
                       "its templates in its templates/ folder (%s); %s is used instead for now",
                       folder / "templates", templates)
        return PackFolder(folder, folder / PACK_FILE, folder / "rules", templates or folder / "templates",
                          folder / "fixtures")
    if (folder / LEGACY_PLAYBOOK_FILE).is_file() or any(folder.glob("*.toml")):
        return _legacy_folder(folder, templates)
    raise RulesError(
        f"{folder / PACK_FILE} is missing: a pack folder holds {PACK_FILE} ([pack], [playbook], [contacts], "
        f"[calendar], [engagement], [records.*]), rules/, templates/ and fixtures/; start from the shipped pack with "
        f"etiu-worker rules init DIR and point rules.path (ETIU_RULES__PATH) at DIR"
    )


def _legacy_folder(folder: Path, templates: Path | None) -> PackFolder:
    """A rules folder in the old layout; without its playbook.toml, loading it says so (no warning
    first: the error is what to act on)."""
    shipped = shipped_pack(DEFAULT_PACK)
    if (folder / LEGACY_PLAYBOOK_FILE).is_file():
        _warn_layout(folder)
    return PackFolder(folder, folder / LEGACY_PLAYBOOK_FILE, folder, templates or shipped / "templates",
                      shipped / "fixtures", legacy=True)


def _warn_layout(folder: Path) -> None:
    _warn_once(
        f"layout:{folder}",
        "%s is a rules folder in the old layout (%s beside the rules files, templates from "
        "templates.path); it is loaded as the %s pack for now, but this layout is deprecated: move it to a "
        "pack folder (%s, rules/, templates/, fixtures/), for example from etiu-worker rules init DIR",
        folder, LEGACY_PLAYBOOK_FILE, DEFAULT_PACK, PACK_FILE,
    )


def configured_folders(settings: Settings) -> tuple[PackFolder, ...]:
    """The packs the settings name: ``rules.path`` (one folder) when it is set, else ``rules.packs``."""
    rules, templates = settings.rules, templates_override(settings)
    if "path" in rules.model_fields_set:
        if "packs" in rules.model_fields_set:
            raise RulesError("rules.path and rules.packs are both set: rules.path (ETIU_RULES__PATH) is one pack "
                             "folder, rules.packs (ETIU_RULES__PACKS) a list of them; set only one")
        return (pack_folder(rules.path, templates),)
    if templates is not None and len(rules.packs) > 1:
        raise RulesError("templates.path (ETIU_TEMPLATES__PATH) is set, but rules.packs lists several packs: each "
                         "pack keeps its own templates/ folder; unset templates.path")
    return tuple(pack_folder(folder_of(spec), templates) for spec in rules.packs)


def templates_override(settings: Settings) -> Path | None:
    """``templates.path`` when it is set (deprecated), else None: a pack has its own templates."""
    return settings.templates.path if "path" in settings.templates.model_fields_set else None


def _warn_once(marker: str, message: str, *args: object) -> None:
    if marker not in _warned:
        _warned.add(marker)
        log.warning(message, *args)
