"""``etiu-worker rules init``: copy a shipped pack into a folder of the admin's, to tune there."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from .pack_file import PACK_FILE
from .pack_folders import shipped_pack

# What a pack is made of; anything else in a shipped folder (caches) is not copied.
PACK_PARTS = (("rules", "*.toml"), ("templates", "*.j2"), ("fixtures", "*.toml"))


class TargetNotEmptyError(ValueError):
    """The folder to copy into already holds something (or is a file)."""


@dataclass(frozen=True)
class CopiedPack:
    """What ``copy_shipped_pack`` wrote: the folder, and how many files of each part."""

    name: str
    folder: Path
    counts: dict[str, int]

    def summary(self) -> str:
        """``pack.toml, 8 rules, 20 templates, 31 fixtures``."""
        return ", ".join([PACK_FILE] + [f"{count} {part}" for part, count in self.counts.items()])


def copy_shipped_pack(name: str, target: Path) -> CopiedPack:
    """Copy the shipped pack ``name`` into ``target``, which must be missing or empty."""
    source = shipped_pack(name)
    _require_empty(target)
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy2(source / PACK_FILE, target / PACK_FILE)
    counts = {part: _copy_part(source / part, target / part, pattern) for part, pattern in PACK_PARTS}
    return CopiedPack(name, target, counts)


def _require_empty(target: Path) -> None:
    if target.exists() and not target.is_dir():
        raise TargetNotEmptyError(f"{target} is a file: name a new or empty folder to copy the pack into")
    if target.is_dir() and any(target.iterdir()):
        raise TargetNotEmptyError(f"{target} is not empty: name a new or empty folder, so that no file of "
                                  f"yours is overwritten")


def _copy_part(source: Path, target: Path, pattern: str) -> int:
    target.mkdir()
    files = sorted(source.glob(pattern))
    for path in files:
        shutil.copy2(path, target / path.name)
    return len(files)
