"""The worker's local state: one SQLite database in the state folder.

It keeps the journal of actions (what the worker did or planned, and how it went), the notes
already posted, the flags raised on engagements, what the worker remembers of each engagement,
the runs, and which instance the folder belongs to (``meta``; see state_identity.py). The delta
watermarks live in the record cache (cache.py). The worker writes to a production instance
from cron, so this file is its memory across crashes:

* WAL mode and one transaction per logical step, so a SIGKILL at any point leaves the database
  consistent (the interrupted step is simply absent).
* An action is recorded as ``pending`` before its write is sent and finished after, so the next
  run finds the writes whose outcome is unknown in ``pending_actions()``.
* A busy timeout, so a second process (a ``journal`` listing, a ``run --once`` that exits on the
  lock) waits for a writer instead of failing with "database is locked".
* A damaged file stops the worker with exit 3 and what to do (journal_open.py); ``journal`` and
  ``report`` open it read-only (``Journal.open_read_only``), also on a read-only state folder.

The flags, runs and memory parts live in journal_flags.py, journal_runs.py and journal_memory.py,
mixed into ``Journal``. The state folder must never hold a secret: ``record_action`` refuses
field names that look like credentials. Times are stored as UTC ISO strings of fixed width, so
they sort as text; ``now`` is the module's clock, which tests monkeypatch.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from types import TracebackType

from ..errors import StateError
from .journal_actions import (
    DONE,
    FAILED,
    FINISH_OUTCOMES,
    OUTCOMES,
    PENDING,
    PLANNED,
    RECORD_OUTCOMES,
    UNVERIFIED,
    ActionRecord,
    ActionsMixin,
    JournalEntry,
)
from .journal_basis import BasisMixin
from .journal_flags import Flag, FlagsMixin
from .journal_memory import MemoryMixin
from .journal_open import (
    BUSY_TIMEOUT_SECONDS,
    DATABASE_NAME,
    connect_for_reading,
    connect_for_writing,
    journal_failure,
    move_aside_advice,
    prepare_for_writing,
    require_journal,
)
from .journal_runs import Run, RunsMixin
from .journal_schema import MIGRATIONS, SCHEMA_VERSION
from .journal_values import MAX_VALUE_CHARS, TRUNCATION_MARK, iso
from .files import guard_database_errors

__all__ = [
    "BUSY_TIMEOUT_SECONDS", "DATABASE_NAME", "DONE", "ENTRY_COLUMNS", "FAILED",
    "MAX_VALUE_CHARS", "PENDING", "PLANNED", "SCHEMA_VERSION", "TRUNCATION_MARK", "UNVERIFIED",
    "ActionRecord", "Flag", "Journal", "JournalEntry", "Run",
    "FINISH_OUTCOMES", "OUTCOMES", "RECORD_OUTCOMES", "require_journal",
]

ENTRY_COLUMNS = (
    "time", "run", "rule", "engagement", "target", "number", "action", "change", "outcome",
    "verification",
)


def now() -> datetime:
    """The current time, aware and in UTC. Tests monkeypatch this to control time."""
    return datetime.now(timezone.utc)


# --- the journal -------------------------------------------------------------------------------


def _describe_failure(journal: Journal, error: sqlite3.DatabaseError) -> str:
    return journal_failure(journal.path, error)


@guard_database_errors(_describe_failure)
class Journal(ActionsMixin, FlagsMixin, MemoryMixin, RunsMixin, BasisMixin):
    """The state database. Open it with ``Journal.open(state_dir)``; use it from one thread.

    Every SQLite error in a public method becomes a ``StateError`` (exit 3) naming the file.
    """

    def __init__(self, connection: sqlite3.Connection, path: Path,
                 action_kinds: Collection[str] | None = None) -> None:
        self._db = connection
        self.path = path
        self._action_kinds = None if action_kinds is None else frozenset(action_kinds)
        self._batched = False  # inside ``batch()``: each step joins its one transaction

    @classmethod
    def open(cls, state_dir: Path, *, action_kinds: Collection[str] | None = None) -> Journal:
        """Open (creating if needed) the database in ``state_dir`` and bring its schema up to date.

        ``action_kinds``: the only kinds of action ``record_action`` accepts (the worker passes
        its actions registry's names); ``None`` accepts any name.
        """
        state_dir = Path(state_dir)
        path = state_dir / DATABASE_NAME
        prepare_for_writing(state_dir, path)
        try:
            connection = connect_for_writing(path)
        except sqlite3.DatabaseError as exc:
            raise StateError(journal_failure(path, exc)) from None
        return cls._checked(cls(connection, path, action_kinds), cls._migrate)

    @classmethod
    def open_read_only(cls, state_dir: Path) -> Journal:
        """Open the journal only to read it (``journal``, ``report``): no lock, no file created.

        Works on a read-only state folder; ``StateError`` when the folder holds no journal.
        """
        path = require_journal(Path(state_dir))
        return cls._checked(cls(connect_for_reading(path), path), cls._refuse_future_schema)

    @classmethod
    def _checked(cls, journal: Journal, check) -> Journal:
        try:
            check(journal)
        except sqlite3.DatabaseError as exc:
            journal.close()
            raise StateError(journal_failure(journal.path, exc)) from None
        except BaseException:
            journal.close()
            raise
        return journal

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    @staticmethod
    def _now() -> datetime:
        # Looked up at call time, so a monkeypatched ``now`` is honoured by every part.
        return now()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        if self._batched:
            yield self._db  # the batch commits (or rolls back) every step at once
            return
        # IMMEDIATE takes the write lock up front, so the busy timeout applies; a deferred
        # transaction that upgrades from read to write can fail at once with "locked".
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
            self._db.execute("COMMIT")
        except BaseException:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            raise

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Every step inside is one transaction: all of them are stored, or none (one commit).

        Recording actions as pending is refused inside: their entry must be committed before
        their request leaves, which a batch only does at its end.
        """
        if self._batched:
            raise RuntimeError("a journal batch cannot be nested")
        with self._transaction():
            self._batched = True
            try:
                yield
            finally:
                self._batched = False

    def _migrate(self) -> None:
        if self._user_version() == SCHEMA_VERSION:
            return
        with self._transaction() as db:
            # Read again under the write lock: another process may have migrated meanwhile.
            version = self._refuse_future_schema()
            for statements in MIGRATIONS[version:]:
                for statement in statements:
                    db.execute(statement)
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def _refuse_future_schema(self) -> int:
        version = self._user_version()
        if version > SCHEMA_VERSION:
            raise StateError(
                f"the journal {self.path} has schema version {version}, newer than this "
                f"etiu-worker knows ({SCHEMA_VERSION}): upgrade etiu-worker, or "
                + move_aside_advice(self.path)
            )
        return version

    def _user_version(self) -> int:
        return self._db.execute("PRAGMA user_version").fetchone()[0]

    # --- which instance the folder belongs to ----------------------------------------------

    def forget_the_instance(self) -> None:
        """Forget what names another instance's records, keeping the history (adopting a folder).

        The engagements' memory (tickets created, roadmaps) and the open flags name records of
        the instance the folder was recorded for; the flags are closed, so the history keeps them.
        """
        with self._transaction() as db:
            db.execute("DELETE FROM engagement_state")
            db.execute("UPDATE flags SET resolved_at = ? WHERE resolved_at IS NULL", (iso(self._now()),))

    def metadata(self) -> dict[str, str]:
        """The folder's metadata (see state_identity.py), by name."""
        return dict(self._db.execute("SELECT name, value FROM meta").fetchall())

    def set_metadata(self, values: Mapping[str, str | None]) -> None:
        """Set metadata in one transaction; a value of None removes the name."""
        with self._transaction() as db:
            for name, value in values.items():
                if value is None:
                    db.execute("DELETE FROM meta WHERE name = ?", (name,))
                else:
                    db.execute(
                        "INSERT INTO meta (name, value) VALUES (?, ?)"
                        " ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                        (name, value),
                    )


