"""What the journal remembers: the notes already posted, each engagement's memory, and what each
engagement was last evaluated from (``evaluations``: cycle/incremental.py).

A mixin of ``Journal``: callers use ``Journal.note_posted``, ``Journal.engagement_state`` and
friends, as before the split.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Mapping
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
        self._remember_notes(db, [(sys_id, key, run_id)])

    def _remember_notes(self, db: sqlite3.Connection, notes: Iterable[tuple[str, str, str]]) -> None:
        """Remember each (sys_id, key, run_id) inside the caller's transaction."""
        stamp = iso(self._now())
        db.executemany(
            "INSERT INTO notes (sys_id, key, run_id, time) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
            [(sys_id, key, run_id, stamp) for sys_id, key, run_id in notes],
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
            db.executemany(_UPSERT_STATE, rows)

    def forget_engagement(self, key: str) -> None:
        with self._transaction() as db:
            db.execute("DELETE FROM engagement_state WHERE key = ?", (key,))

    # --- evaluations (cycle/incremental.py) --------------------------------------------------

    def engagement_state_texts(self) -> dict[str, str]:
        """Every engagement's memory as stored (JSON text), to fingerprint without reading it."""
        return dict(self._db.execute("SELECT key, state FROM engagement_state").fetchall())

    def engagement_states_of(self, keys: Iterable[str]) -> dict[str, dict[str, Any]]:
        """The memory of the engagements ``keys`` that have one."""
        texts = self.engagement_state_texts()
        return {key: json.loads(texts[key]) for key in keys if key in texts}

    def evaluations(self) -> dict[str, tuple[str, str]]:
        """Each engagement's last evaluation: (fingerprint, wake-up as ISO text), by key."""
        rows = self._db.execute("SELECT key, fingerprint, wake_at FROM evaluations").fetchall()
        return {key: (fingerprint, wake_at) for key, fingerprint, wake_at in rows}

    def save_evaluations(self, states: Mapping[str, Mapping[str, Any]], marks: Mapping[str, tuple[str, str]],
                         forget_others: bool = False) -> None:
        """Engagements' memory and evaluation marks in one transaction; ``forget_others`` (a full
        evaluation) drops the marks of engagements no longer found."""
        stamp = iso(self._now())
        rows = [(key, json.dumps(dict(state), sort_keys=True), stamp) for key, state in states.items()]
        with self._transaction() as db:
            db.executemany(_UPSERT_STATE, rows)
            if forget_others:
                db.execute("DELETE FROM evaluations")
            db.executemany("INSERT OR REPLACE INTO evaluations (key, fingerprint, wake_at) VALUES (?, ?, ?)",
                           [(key, fingerprint, wake) for key, (fingerprint, wake) in marks.items()])

    def forget_evaluations(self) -> None:
        """The next cycle evaluates every engagement."""
        with self._transaction() as db:
            db.execute("DELETE FROM evaluations")


# Unchanged state is not rewritten: most engagements do not change between cycles.
_UPSERT_STATE = (
    "INSERT INTO engagement_state (key, state, updated_at) VALUES (?, ?, ?)"
    " ON CONFLICT (key) DO UPDATE SET state = excluded.state,"
    " updated_at = excluded.updated_at WHERE state != excluded.state"
)
