"""Settle the actions an interrupted run left pending, before a new cycle decides anything.

A run killed between sending a write and recording its outcome leaves the journal entry
"pending". A note it may have posted must not be posted again: the instance's own journal says
whether it was, by the reference every note carries. The fields written with that note are read
back: the action is done only if they hold too, else unverified (its note still counts as posted).
Anything else is simply marked failed: the next cycle recomputes it from the records (a ticket
that was created is found there).
"""

from __future__ import annotations

import logging
from ..actions.notes import FIELD_OF_KIND
from .instance_lookup import posted_refs
from .verify import read_back

log = logging.getLogger(__name__)
INTERRUPTED = "interrupted before its outcome was recorded"
NOTE_FOUND = "note found on the instance after an interrupted run"
NOTE_FIELDS = frozenset(FIELD_OF_KIND.values())


def settle_pending(client, journal) -> int:
    """Finish every pending action as done (its note is on the instance) or failed; return the count."""
    pending = journal.pending_actions()
    if not pending:
        return 0
    noted = [entry for entry in pending if entry.note_key and entry.sys_id]
    # By reference, not by time: the worker's clock says nothing of when the instance stamped it.
    found = posted_refs(client, {entry.sys_id for entry in noted}) if noted else {}
    posted = [entry for entry in noted if entry.note_key in found.get(entry.sys_id, ())]
    stored = _stored_fields(client, posted)
    for entry in pending:
        if entry not in posted:
            journal.finish_action(entry.id, "failed", error=f"{INTERRUPTED}; the next cycle decides again")
            continue
        record = stored.get((entry.table, entry.sys_id), {})
        missing = {name: str(record.get(name, "(record not found)")) for name, value in _fields(entry).items()
                   if str(record.get(name)) != value}
        if missing:
            reads = "; ".join(f"{name} reads {value[:60]!r}" for name, value in missing.items())
            journal.finish_action(entry.id, "unverified", verification=f"{NOTE_FOUND}; not verified: {reads}")
        else:
            journal.finish_action(entry.id, "done", verification=NOTE_FOUND)
    log.warning("settled %d actions left pending by an interrupted run", len(pending))
    return len(pending)


def _fields(entry) -> dict[str, str]:
    """The plain fields an action wrote, without its note."""
    return {name: value for name, value in entry.after.items() if name not in NOTE_FIELDS}


def _stored_fields(client, entries) -> dict[tuple[str, str], dict]:
    """The records these actions wrote fields on, as stored now: one list request per table."""
    by_table: dict[str, tuple[set[str], set[str]]] = {}
    for entry in entries:
        if _fields(entry):
            sys_ids, names = by_table.setdefault(entry.table, (set(), {"sys_id"}))
            sys_ids.add(entry.sys_id)
            names.update(_fields(entry))
    return {
        (table, sys_id): record
        for table, (sys_ids, names) in by_table.items()
        for sys_id, record in read_back(client, table, sorted(sys_ids), sorted(names)).items()
    }
