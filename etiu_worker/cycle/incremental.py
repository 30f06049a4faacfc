"""Incremental evaluation: a cycle builds and evaluates only the engagements something changed for.

An engagement's outcome (its planned writes, its memory, its flags) is a function of its records,
its memory, the packs and the settings, and the clock. So each evaluation is recorded in the
journal (``evaluations``) with a fingerprint of the first three and the engagement's wake-up, the
earliest instant the clock alone may change the outcome (playbook/wakeups.py). A later cycle
groups the cached rows by key (cheap: engagement/grouping.Grouping), and builds and evaluates an
engagement only when

* its records changed: one of them has a new update stamp or update count, one joined or left
  it, a record it shares became claimed by another engagement (the grouping's signature);
* its memory changed (the journal's engagement state, as stored);
* its wake-up has passed;
* its last evaluation planned writes, or could not be planned: the next cycle looks again.

Everything is evaluated (a full evaluation) on a dry run (``plan`` shows every engagement), after
a run that did not finish clean (a write may have landed unseen), on a full read of any table,
when the packs' files or the settings that shape planning changed, and every
``state.full_evaluation_hours``. Engagements not evaluated keep their flags and memory untouched.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from ..config import Settings
from ..engagement.engagements import Engagement
from ..engagement.grouping import Grouping
from ..playbook.clock_reads import clock_use
from ..playbook.pack_match import assign
from ..playbook.roadmap_check import with_roadmap_problems
from ..playbook.rules import Playbook
from .pack_reads import distinct
from . import edited

log = logging.getLogger(__name__)

FINGERPRINT_KEY = "evaluation_fingerprint"  # journal meta: the packs' and settings' fingerprint
FULL_AT_KEY = "full_evaluation_at"  # journal meta: when every engagement was last evaluated
NEVER = "9999-12-31T00:00:00+00:00"  # the wake-up of an engagement the clock cannot change


@dataclass
class Selection:
    """The engagements a cycle evaluates, and what their evaluation marks are made of."""

    owned: dict[str, list[Engagement]]  # by pack: the engagements to evaluate, assigned by pack match
    evaluated: list[str]  # the keys built and evaluated this cycle
    total: int  # every key found
    full: bool
    fingerprint: str  # of the packs and the settings
    signatures: dict[str, str] = field(default_factory=dict)  # key -> its records, across packs
    texts: dict[str, str] = field(default_factory=dict)  # key -> its memory as stored at the start
    memories: dict[str, dict[str, Any]] = field(default_factory=dict)  # the evaluated keys' memory
    match_reads_clock: bool = False
    keys: list[str] = field(default_factory=list)  # every key found
    marks: dict[str, tuple[str, str]] = field(default_factory=dict)  # as the journal held them (none when full)
    quiet: bool = False  # nothing was grouped: cycle/quiet.py found nothing to evaluate


def full_read_due(cache, chosen, state, at: datetime) -> bool:
    """Whether this cycle's read of some table is a full one (read.py decides it the same way)."""
    period = timedelta(hours=state.full_resync_hours)
    return any(cache.watermark(s.cache_name) is None or cache.full_sync_due(s.cache_name, at, period)
               for s in distinct(chosen))


def select(playbooks: Sequence[Playbook], chosen, rows, journal, settings: Settings, at: datetime, *, full: bool,
           upgrade: Callable[[dict], dict], fingerprint: str | None = None, cache=None) -> Selection:
    """The engagements to evaluate, built and assigned to their packs; ``full`` forces all of them.
    ``fingerprint``: ``settings_fingerprint(playbooks, settings)`` when the caller has it. With the
    record ``cache`` the rows come from, only the engagements the rows changed since the last
    cycle reach are grouped when that can be done exactly (edited.py)."""
    zone = settings.worker.default_timezone
    texts = journal.engagement_state_texts() if journal is not None else {}
    fingerprint = fingerprint or settings_fingerprint(playbooks, settings)
    full = full or journal is None or full_evaluation_due(journal.metadata(), fingerprint, at, settings)
    marks = {} if full else journal.evaluations()
    made_with = edited.label(fingerprint, chosen)
    stale = lambda key, signature: _changed(key, marks, fingerprint, signature, texts, at)  # noqa: E731
    grouped = None if full or cache is None else edited.grouped(playbooks, chosen, cache, made_with, zone, stale)
    grouped = grouped or edited.whole(playbooks, chosen, rows, zone)
    if cache is not None:
        cache.checkpoint(made_with, grouped.fresh, drop=grouped.dropped, whole=grouped.whole)
        for name in edited.linked_fields(playbooks) if grouped.whole else ():
            cache.index_field(name)
    signatures, present = grouped.signatures, grouped.present()
    keys = sorted(signatures)
    due = [key for key in keys if full or stale(key, signatures[key])]
    memories = upgrade({key: json.loads(texts[key]) for key in due if key in texts})
    built = {p.name: _built(p, grouped.groupings[p.name], [key for key in due if key in present[p.name]]) for p in playbooks}
    selection = Selection(assign(playbooks, built, memories, at), due, len(keys), full, fingerprint,
                          {key: signatures[key] for key in due}, {key: texts.get(key, "") for key in due}, memories,
                          any(clock_use(p).match for p in playbooks), keys, marks)
    log.info("%d engagements, %d evaluated%s", len(keys), len(due), " (full evaluation)" if full else "")
    return selection


def _built(playbook: Playbook, grouping: Grouping, keys: list[str]) -> list[Engagement]:
    return [with_roadmap_problems(engagement, playbook.checks.roadmap_sync) for engagement in grouping.build(keys)]


def quiet(playbooks: Sequence[Playbook], total: int, fingerprint: str) -> Selection:
    """No engagement to evaluate, none grouped: ``total`` were found by the last cycle."""
    return Selection({p.name: [] for p in playbooks}, [], total, False, fingerprint, quiet=True)


def full_evaluation_due(meta: Mapping[str, str], fingerprint: str, at: datetime, settings: Settings) -> bool:
    """Whether the packs or settings changed since the last full evaluation, or it is due again."""
    if meta.get(FINGERPRINT_KEY) != fingerprint or not meta.get(FULL_AT_KEY):
        return True
    return datetime.fromisoformat(meta[FULL_AT_KEY]) + timedelta(hours=settings.state.full_evaluation_hours) <= at


def _changed(key: str, marks, fingerprint: str, signature: str, texts, at: datetime) -> bool:
    mark = marks.get(key)
    if mark is None:
        return True
    if mark[0] != key_fingerprint(fingerprint, signature, texts.get(key, "")):
        return True
    return datetime.fromisoformat(mark[1]) <= at


def key_fingerprint(fingerprint: str, signature: str, memory_text: str) -> str:
    """One engagement's fingerprint: the packs and settings, its records, its memory as stored."""
    return _digest("\n".join((fingerprint, signature, memory_text)))


def settings_fingerprint(playbooks: Sequence[Playbook], settings: Settings) -> str:
    """The packs' files and the settings that shape planning (the zone, the schema, the packs)."""
    parts = [settings.worker.default_timezone, settings.schema.model_dump_json(), ",".join(p.name for p in playbooks)]
    for playbook in playbooks:
        parts += [playbook.name, *_files(playbook)]
    return _digest("\n".join(parts))


def _files(playbook: Playbook) -> list[str]:
    if playbook.files is None:
        return [repr(playbook)]
    root = Path(playbook.files.root)
    found = sorted(path for path in root.rglob("*") if path.is_file() and "fixtures" not in path.relative_to(root).parts)
    return [f"{path.relative_to(root)}:{_digest_bytes(path.read_bytes())}" for path in found]


def marks(selection: Selection, plan, at: datetime) -> dict[str, tuple[str, str]]:
    """The evaluation marks to record for the engagements ``plan`` evaluated (after its writes)."""
    again = {write.engagement for write in plan.writes} | set(plan.waiting) | set(plan.skipped)
    unowned = at if selection.match_reads_clock else datetime.fromisoformat(NEVER)
    found = {}
    for key in selection.evaluated:
        memory = plan.memories.get(key)
        text = json.dumps(dict(memory), sort_keys=True) if memory is not None else selection.texts.get(key, "")
        wake = at if key in again else plan.wakes.get(key, unowned)
        found[key] = (key_fingerprint(selection.fingerprint, selection.signatures[key], text), wake.isoformat())
    return found


def remember(journal, selection: Selection, plan, at: datetime) -> dict[str, tuple[str, str]]:
    """Record what each evaluated engagement was evaluated from, and when to wake it; the marks."""
    found = marks(selection, plan, at)
    journal.save_evaluations({}, found, forget_others=selection.full)
    if selection.full:
        journal.set_metadata({FINGERPRINT_KEY: selection.fingerprint, FULL_AT_KEY: at.isoformat()})
    return found


def _digest(text: str) -> str:
    return _digest_bytes(text.encode("utf-8"))


def _digest_bytes(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()
