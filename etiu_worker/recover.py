"""Settle the actions an interrupted run left pending, before a new cycle decides anything.

A run killed between sending a write and recording its outcome leaves the journal entry
"pending". A note it may have posted must not be posted again: the instance's own journal says
whether it was, by the reference every note carries. Anything else is simply marked failed: the
next cycle recomputes it from the records (a ticket that was created is found there).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from .model import format_sn_datetime
from .verify import CLOCK_SLACK, journal_entries

log = logging.getLogger(__name__)
INTERRUPTED = "interrupted before its outcome was recorded"


def settle_pending(client, journal) -> int:
    """Finish every pending action as done (its note is on the instance) or failed; return the count."""
    pending = journal.pending_actions()
    if not pending:
        return 0
    noted = [entry for entry in pending if entry.note_key and entry.sys_id]
    since = format_sn_datetime(min(entry.time for entry in pending) - CLOCK_SLACK - timedelta(minutes=5))
    entries = journal_entries(client, {entry.sys_id for entry in noted}, since) if noted else {}
    for entry in pending:
        posted = entry.note_key and any(entry.note_key in e.get("value", "") for e in entries.get(entry.sys_id, []))
        if posted:
            journal.finish_action(entry.id, "done", verification="note found on the instance after an interrupted run")
        else:
            journal.finish_action(entry.id, "failed", error=f"{INTERRUPTED}; the next cycle decides again")
    log.warning("settled %d actions left pending by an interrupted run", len(pending))
    return len(pending)
