"""A quiet cycle: nothing it reads changed and no wake-up is due, so no engagement is built.

Incremental evaluation (incremental.py) still groups every cached row to find what changed; on a
quiet instance that is most of a cycle's work, to learn that nothing did. So after each cycle that
evaluated, the journal keeps the cycle's basis: the record cache's change token of every table
read (cache.py: a new one whenever a table's rows change), a digest of the journal's engagement
memories and evaluation marks, and the packs' and settings' fingerprint; beside it, the earliest
wake-up of any engagement found, and how many were found.

A cycle whose basis is the same, when the earliest wake-up has not passed, no full evaluation is
due and the last run finished clean, would evaluate no engagement: it decodes no row, plans and
writes nothing, and reports the engagements the last cycle found.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import datetime

from ..config import Settings
from . import incremental

BASIS_KEY = "quiet_basis"  # journal meta: {"basis": ..., "wake": ISO, "total": n} after the last evaluating cycle
UNKNOWN = ("", "0001-01-01T00:00:00+00:00")  # the mark of a key with none: due at once


def basis(cache, names: Sequence[str], journal, fingerprint: str) -> str | None:
    """What a cycle's evaluation starts from, as one digest; None when a table has no token yet."""
    tokens = [cache.token(name) for name in names]
    if None in tokens:
        return None
    parts = [fingerprint, journal.evaluation_digest(), *(f"{name}={token}" for name, token in zip(names, tokens))]
    return hashlib.blake2b("\n".join(parts).encode("utf-8"), digest_size=16).hexdigest()


def known_total(journal, cache, names: Sequence[str], fingerprint: str, settings: Settings, at: datetime) -> int | None:
    """How many engagements the last cycle found, when this one has nothing to evaluate; else None."""
    meta = journal.metadata()
    held = _held(meta.get(BASIS_KEY))
    if held is None or incremental.full_evaluation_due(meta, fingerprint, at, settings):
        return None
    if datetime.fromisoformat(held["wake"]) <= at or held["basis"] != basis(cache, names, journal, fingerprint):
        return None
    return int(held["total"])


def remember(journal, cache, names: Sequence[str], selection: incremental.Selection,
             marks: Mapping[str, tuple[str, str]]) -> None:
    """Keep the basis of the cycle just ended (after its memories, marks and own writes were stored)."""
    found = basis(cache, names, journal, selection.fingerprint)
    value = json.dumps({"basis": found, "wake": _earliest(selection, marks), "total": selection.total})
    journal.set_metadata({BASIS_KEY: value if found else None})


def _earliest(selection: incremental.Selection, marks: Mapping[str, tuple[str, str]]) -> str:
    """The earliest wake-up of the engagements found: this cycle's marks, the journal's for the rest."""
    wakes = [marks[key][1] if key in marks else selection.marks.get(key, UNKNOWN)[1] for key in selection.keys]
    return min(map(datetime.fromisoformat, wakes), default=datetime.fromisoformat(incremental.NEVER)).isoformat()


def _held(text: str | None) -> dict | None:
    try:
        held = json.loads(text) if text else None
    except ValueError:
        return None
    return held if isinstance(held, dict) and {"basis", "wake", "total"} <= held.keys() else None
