"""The shipped pack's report data, loaded once on first use: the phases and views callers name
before they load the pack they run (the command line's ``--view`` choices and view titles)."""

from __future__ import annotations

from functools import lru_cache

from ..playbook.pack_folders import DEFAULT_PACK, pack_folder, shipped_pack
from ..actions.loading import load_pack


@lru_cache(maxsize=1)
def shipped_report():
    """The shipped default pack's ``ReportPack``."""
    return load_pack(pack_folder(shipped_pack(DEFAULT_PACK))).report
