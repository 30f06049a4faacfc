"""What the journal remembers: the notes already posted and each engagement's memory.

A mixin of ``Journal``: callers use ``Journal.note_posted``, ``Journal.engagement_state`` and
friends, as before the split.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from typing import Any

from .journal_values import iso


class MemoryMixin:
    """Notes and engagement memory; needs the journal's ``_db``, ``_transaction`` and ``_now``."""

    # --- notes -----------------------------------------------------------------------------

    def note_posted(self, sys_id: str, key: str) -> bool:
        row = self._db.execute(
            "SELECT 1 FROM notes WHERE sys_id = ? AND key = ?", (sys_id, key)
        ).fetchone()
        return row is not None

    def remember_note(self, sys_id: str, key: str, run_id: str) -> None:
        """Remember that the note ``key`` was posted on the record; remembering twice is harmless."""
        with self._transaction() as db:
            self._remember_note(db, sys_id, key, run_id)

    def _remember_note(self, db: sqlite3.Connection, sys_id: str, key: str, run_id: str) -> None:
        db.execute(
            "INSERT INTO notes (sys_id, key, run_id, time) VALUES (?, ?, ?, ?)"
            " ON CONFLICT DO NOTHING",
            (sys_id, key, run_id, iso(self._now())),
        )

    # --- engagement memory -----------------------------------------------------------------

    def engagement_state(self, key: str) -> dict[str, Any]:
        """What the worker remembers of an engagement; empty when nothing."""
        row = self._db.execute("SELECT state FROM engagement_state WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row else {}

    def all_engagement_states(self) -> dict[str, dict[str, Any]]:
        """Every engagement's memory in one query."""
        rows = self._db.execute("SELECT key, state FROM engagement_state").fetchall()
        return {key: json.loads(state) for key, state in rows}

    def save_engagement_state(self, key: str, state: Mapping[str, Any]) -> None:
        self.save_engagement_states({key: state})

    def save_engagement_states(self, states: Mapping[str, Mapping[str, Any]]) -> None:
        """Save many engagements' memory in one transaction (one disk sync for a whole cycle)."""
        stamp = iso(self._now())
        rows = [(key, json.dumps(dict(state), sort_keys=True), stamp) for key, state in states.items()]
        with self._transaction() as db:
            # Unchanged state is not rewritten: most engagements do not change between cycles.
            db.executemany(
                "INSERT INTO engagement_state (key, state, updated_at) VALUES (?, ?, ?)"
                " ON CONFLICT (key) DO UPDATE SET state = excluded.state,"
                " updated_at = excluded.updated_at WHERE state != excluded.state",
                rows,
            )

    def forget_engagement(self, key: str) -> None:
        with self._transaction() as db:
            db.execute("DELETE FROM engagement_state WHERE key = ?", (key,))
