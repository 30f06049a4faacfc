"""The worker's local state: one SQLite database in the state folder.

It keeps the journal of actions (what the worker did or planned, and how it went), the notes
already posted, the flags raised on engagements, what the worker remembers of each engagement,
the delta-sync watermarks and the runs. The worker writes to a production instance from cron,
so this file is its memory across crashes:

* WAL mode and one transaction per logical step, so a SIGKILL at any point leaves the database
  consistent (the interrupted step is simply absent).
* An action is recorded as ``pending`` before its write is sent and finished after, so the next
  run finds the writes whose outcome is unknown in ``pending_actions()``.
* A busy timeout, so a second process (a ``journal`` listing, a ``run --once`` that exits on the
  lock) waits for a writer instead of failing with "database is locked".

The state folder must never hold a secret: ``record_action`` refuses field names that look like
credentials. Times are stored as UTC ISO strings of fixed width, so they sort as text; ``now``
is the module's clock, which tests monkeypatch.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import TracebackType
from typing import Any

from .errors import EtiuError

DATABASE_NAME = "etiu-worker.sqlite3"
BUSY_TIMEOUT_SECONDS = 30.0
MAX_VALUE_CHARS = 4000
TRUNCATION_MARK = "…"

ACTION_KINDS = frozenset(
    {"set_state", "create_ticket", "update_roadmap", "work_note", "comment", "flag"}
)
PENDING = "pending"
PLANNED = "planned"
DONE = "done"
FAILED = "failed"
UNVERIFIED = "unverified"
RECORD_OUTCOMES = frozenset({PENDING, PLANNED})
FINISH_OUTCOMES = frozenset({DONE, FAILED, UNVERIFIED})
OUTCOMES = RECORD_OUTCOMES | FINISH_OUTCOMES

# A field name that looks like a credential: its value must never reach the state folder.
_CREDENTIAL_KEY = re.compile(
    r"pass(word|wd)|secret|token|authori[sz]ation|api[-_]?key|credential", re.IGNORECASE
)

ENTRY_COLUMNS = (
    "time", "run", "rule", "engagement", "target", "number", "action", "change", "outcome",
    "verification",
)


def now() -> datetime:
    """The current time, aware and in UTC. Tests monkeypatch this to control time."""
    return datetime.now(timezone.utc)


# --- records -----------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class ActionRecord:
    """One action the worker takes or plans, as handed to ``Journal.record_action``.

    ``before`` and ``after`` map field names to ServiceNow string values. ``note_key`` names the
    note a ``work_note`` or ``comment`` action posts: finishing the action as done or unverified
    remembers the note in the same transaction, so a crash cannot leave it posted but forgotten.
    """

    run_id: str
    rule: str
    engagement: str
    table: str
    sys_id: str
    number: str
    target: str
    kind: str
    before: Mapping[str, str] = field(default_factory=dict)
    after: Mapping[str, str] = field(default_factory=dict)
    outcome: str = PENDING
    verification: str = ""
    error: str = ""
    note_key: str = ""


@dataclass(frozen=True, kw_only=True)
class JournalEntry(ActionRecord):
    """An action as stored: the record plus its id and the time it was recorded."""

    id: int
    time: datetime


@dataclass(frozen=True, kw_only=True)
class Flag:
    """A problem the worker raised on an engagement; open while ``resolved_at`` is None."""

    id: int
    engagement: str
    rule: str
    key: str
    table: str
    sys_id: str
    number: str
    message: str
    opened_at: datetime
    resolved_at: datetime | None


@dataclass(frozen=True, kw_only=True)
class Run:
    """One run of the worker; ``outcome`` is None while running, or when it crashed."""

    id: str
    started_at: datetime
    finished_at: datetime | None
    outcome: str | None
    counts: dict[str, int]


# --- schema ------------------------------------------------------------------------------------

# Each migration is a list of statements, applied in one transaction; ``PRAGMA user_version``
# is the number of migrations applied. Append, never edit: databases in the field hold them.
_MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """CREATE TABLE runs (
            id TEXT PRIMARY KEY,
            started_at TEXT NOT NULL,
            finished_at TEXT,
            outcome TEXT,
            counts TEXT NOT NULL DEFAULT '{}'
        )""",
        "CREATE INDEX runs_started ON runs (started_at)",
        # AUTOINCREMENT: an action id printed in a log never names another action after a prune.
        """CREATE TABLE actions (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            time TEXT NOT NULL,
            run_id TEXT NOT NULL,
            rule TEXT NOT NULL,
            engagement TEXT NOT NULL,
            table_name TEXT NOT NULL,
            sys_id TEXT NOT NULL,
            number TEXT NOT NULL,
            target TEXT NOT NULL,
            kind TEXT NOT NULL,
            before TEXT NOT NULL,
            after TEXT NOT NULL,
            outcome TEXT NOT NULL,
            verification TEXT NOT NULL,
            error TEXT NOT NULL,
            note_key TEXT NOT NULL
        )""",
        "CREATE INDEX actions_time ON actions (time)",
        "CREATE INDEX actions_engagement ON actions (engagement, time)",
        "CREATE INDEX actions_run ON actions (run_id)",
        "CREATE INDEX actions_pending ON actions (id) WHERE outcome = 'pending'",
        """CREATE TABLE notes (
            sys_id TEXT NOT NULL,
            key TEXT NOT NULL,
            run_id TEXT NOT NULL,
            time TEXT NOT NULL,
            PRIMARY KEY (sys_id, key)
        ) WITHOUT ROWID""",
        """CREATE TABLE flags (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            engagement TEXT NOT NULL,
            rule TEXT NOT NULL,
            key TEXT NOT NULL,
            table_name TEXT NOT NULL,
            sys_id TEXT NOT NULL,
            number TEXT NOT NULL,
            message TEXT NOT NULL,
            opened_at TEXT NOT NULL,
            resolved_at TEXT
        )""",
        # At most one open flag per problem; a resolved problem that comes back is a new flag.
        "CREATE UNIQUE INDEX flags_open ON flags (engagement, rule, key) WHERE resolved_at IS NULL",
        "CREATE INDEX flags_resolved ON flags (resolved_at) WHERE resolved_at IS NOT NULL",
        """CREATE TABLE engagement_state (
            key TEXT PRIMARY KEY,
            state TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )""",
        """CREATE TABLE watermarks (
            table_name TEXT PRIMARY KEY,
            value TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )""",
        "CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
    ),
)
SCHEMA_VERSION = len(_MIGRATIONS)

_ACTION_COLUMNS = (
    "id, time, run_id, rule, engagement, table_name, sys_id, number, target, kind, before, "
    "after, outcome, verification, error, note_key"
)
_FLAG_COLUMNS = (
    "id, engagement, rule, key, table_name, sys_id, number, message, opened_at, resolved_at"
)


# --- the journal -------------------------------------------------------------------------------


class Journal:
    """The state database. Open it with ``Journal.open(state_dir)``; use it from one thread."""

    def __init__(self, connection: sqlite3.Connection, path: Path) -> None:
        self._db = connection
        self.path = path

    @classmethod
    def open(cls, state_dir: Path) -> Journal:
        """Open (creating if needed) the database in ``state_dir`` and bring its schema up to date."""
        state_dir = Path(state_dir)
        path = state_dir / DATABASE_NAME
        try:
            _create_private_file(state_dir, path)
        except OSError as exc:
            raise EtiuError(f"state folder {state_dir} cannot be used: {exc}") from None
        try:
            connection = _connect(path)
        except sqlite3.DatabaseError as exc:
            raise EtiuError(f"state database {path} cannot be opened: {exc}") from None
        journal = cls(connection, path)
        try:
            journal._migrate()
        except sqlite3.DatabaseError as exc:
            connection.close()
            raise EtiuError(f"state database {path} cannot be read: {exc}") from None
        except BaseException:
            connection.close()
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

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
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

    def _migrate(self) -> None:
        if self._user_version() == SCHEMA_VERSION:
            return
        with self._transaction() as db:
            # Read again under the write lock: another process may have migrated meanwhile.
            version = self._user_version()
            if version > SCHEMA_VERSION:
                raise EtiuError(
                    f"state database {self.path} has schema version {version}, newer than this "
                    f"etiu-worker knows ({SCHEMA_VERSION}): upgrade etiu-worker"
                )
            for statements in _MIGRATIONS[version:]:
                for statement in statements:
                    db.execute(statement)
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def _user_version(self) -> int:
        return self._db.execute("PRAGMA user_version").fetchone()[0]

    # --- actions ---------------------------------------------------------------------------

    def record_action(self, entry: ActionRecord) -> int:
        """Store an action (``pending`` before its write is sent, or ``planned``); return its id."""
        _check_kind(entry.kind)
        if entry.outcome not in RECORD_OUTCOMES:
            raise ValueError(
                f"an action is recorded as pending or planned, not {entry.outcome!r}: "
                "finish_action sets the outcome"
            )
        before, after = _stored_values(entry.before), _stored_values(entry.after)
        with self._transaction() as db:
            cursor = db.execute(
                "INSERT INTO actions (time, run_id, rule, engagement, table_name, sys_id, number,"
                " target, kind, before, after, outcome, verification, error, note_key)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    _iso(now()), entry.run_id, entry.rule, entry.engagement, entry.table,
                    entry.sys_id, entry.number, entry.target, entry.kind, before, after,
                    entry.outcome, _truncate(entry.verification), _truncate(entry.error),
                    entry.note_key,
                ),
            )
        return int(cursor.lastrowid)

    def finish_action(
        self,
        action_id: int,
        outcome: str,
        verification: str = "",
        error: str = "",
        after: Mapping[str, str] | None = None,
        *,
        sys_id: str | None = None,
        number: str | None = None,
    ) -> None:
        """Set the outcome of a pending action.

        ``after`` replaces the recorded after-values (say, as read back); ``sys_id`` and
        ``number`` fill in what a ``create_ticket`` only learns once the record exists.
        """
        if outcome not in FINISH_OUTCOMES:
            raise ValueError(f"an action finishes as done, failed or unverified, not {outcome!r}")
        stored_after = _stored_values(after) if after is not None else None
        with self._transaction() as db:
            row = db.execute(
                "SELECT outcome, sys_id, note_key, run_id FROM actions WHERE id = ?", (action_id,)
            ).fetchone()
            if row is None:
                raise ValueError(f"no action {action_id} in the journal")
            if row[0] != PENDING:
                raise ValueError(f"action {action_id} is {row[0]}, not pending: it cannot be finished")
            db.execute(
                "UPDATE actions SET outcome = ?, verification = ?, error = ?,"
                " after = coalesce(?, after), sys_id = coalesce(?, sys_id),"
                " number = coalesce(?, number) WHERE id = ?",
                (outcome, _truncate(verification), _truncate(error), stored_after, sys_id, number,
                 action_id),
            )
            note_key = row[2]
            # A failed write posted nothing; an unverified one may have, so it counts as posted.
            if note_key and outcome in (DONE, UNVERIFIED):
                self._remember_note(db, sys_id or row[1], note_key, row[3])

    def pending_actions(self) -> list[JournalEntry]:
        """Actions whose write was (perhaps) sent but whose outcome was never recorded, oldest first."""
        rows = self._db.execute(
            f"SELECT {_ACTION_COLUMNS} FROM actions WHERE outcome = ? ORDER BY id", (PENDING,)
        ).fetchall()
        return [_entry(row) for row in rows]

    def entries(
        self,
        *,
        engagement: str | None = None,
        rule: str | None = None,
        outcome: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        run_id: str | None = None,
        limit: int | None = None,
    ) -> list[JournalEntry]:
        """Journal entries, newest first; ``since`` is inclusive and ``until`` exclusive."""
        conditions: list[str] = []
        parameters: list[Any] = []
        for column, value in (
            ("engagement = ?", engagement), ("rule = ?", rule), ("outcome = ?", outcome),
            ("run_id = ?", run_id),
            ("time >= ?", None if since is None else _iso(since)),
            ("time < ?", None if until is None else _iso(until)),
        ):
            if value is not None:
                conditions.append(column)
                parameters.append(value)
        where = f"WHERE {' AND '.join(conditions)}" if conditions else ""
        parameters.append(-1 if limit is None else limit)
        rows = self._db.execute(
            f"SELECT {_ACTION_COLUMNS} FROM actions {where} ORDER BY time DESC, id DESC LIMIT ?",
            parameters,
        ).fetchall()
        return [_entry(row) for row in rows]

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

    @staticmethod
    def _remember_note(db: sqlite3.Connection, sys_id: str, key: str, run_id: str) -> None:
        db.execute(
            "INSERT INTO notes (sys_id, key, run_id, time) VALUES (?, ?, ?, ?)"
            " ON CONFLICT DO NOTHING",
            (sys_id, key, run_id, _iso(now())),
        )

    # --- flags -----------------------------------------------------------------------------

    def open_flag(
        self, engagement: str, rule: str, key: str, table: str, sys_id: str, number: str,
        message: str,
    ) -> bool:
        """Open a flag; True when it is new, False when the same problem is already flagged."""
        with self._transaction() as db:
            cursor = db.execute(
                "INSERT INTO flags (engagement, rule, key, table_name, sys_id, number, message,"
                " opened_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (engagement, rule, key, table, sys_id, number, message, _iso(now())),
            )
        return cursor.rowcount == 1

    def resolve_flags(self, engagement: str, rule: str, still_open_keys: Iterable[str]) -> list[Flag]:
        """Resolve the open flags of this engagement and rule whose key is not still open."""
        keep = set(still_open_keys)
        resolved_at = _iso(now())
        with self._transaction() as db:
            # Compared in Python: a large key set would exceed SQLite's limit on parameters.
            rows = db.execute(
                f"SELECT {_FLAG_COLUMNS} FROM flags WHERE engagement = ? AND rule = ?"
                " AND resolved_at IS NULL ORDER BY id",
                (engagement, rule),
            ).fetchall()
            gone = [_flag(row) for row in rows if row[3] not in keep]
            db.executemany(
                "UPDATE flags SET resolved_at = ? WHERE id = ?",
                [(resolved_at, flag.id) for flag in gone],
            )
        return [replace(flag, resolved_at=_parse(resolved_at)) for flag in gone]

    def open_flags(self, engagement: str | None = None) -> list[Flag]:
        """Open flags, oldest first, of one engagement or of all."""
        query = f"SELECT {_FLAG_COLUMNS} FROM flags WHERE resolved_at IS NULL"
        parameters: tuple[str, ...] = ()
        if engagement is not None:
            query += " AND engagement = ?"
            parameters = (engagement,)
        rows = self._db.execute(query + " ORDER BY opened_at, id", parameters).fetchall()
        return [_flag(row) for row in rows]

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
        stamp = _iso(now())
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

    # --- watermarks ------------------------------------------------------------------------

    def watermark(self, table: str) -> str | None:
        row = self._db.execute(
            "SELECT value FROM watermarks WHERE table_name = ?", (table,)
        ).fetchone()
        return row[0] if row else None

    def set_watermark(self, table: str, value: str) -> None:
        with self._transaction() as db:
            db.execute(
                "INSERT INTO watermarks (table_name, value, updated_at) VALUES (?, ?, ?)"
                " ON CONFLICT (table_name) DO UPDATE SET value = excluded.value,"
                " updated_at = excluded.updated_at",
                (table, value, _iso(now())),
            )

    def last_full_sync(self) -> datetime | None:
        row = self._db.execute("SELECT value FROM meta WHERE name = 'last_full_sync'").fetchone()
        return datetime.fromisoformat(row[0]) if row else None

    def set_last_full_sync(self, ts: datetime) -> None:
        with self._transaction() as db:
            db.execute(
                "INSERT INTO meta (name, value) VALUES ('last_full_sync', ?)"
                " ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                (_iso(ts),),
            )

    # --- runs ------------------------------------------------------------------------------

    def start_run(self) -> str:
        """Record the start of a run and return its id: eight hex digits, unique in the journal."""
        started_at = _iso(now())
        while True:
            run_id = secrets.token_hex(4)
            with self._transaction() as db:
                cursor = db.execute(
                    "INSERT INTO runs (id, started_at) VALUES (?, ?) ON CONFLICT DO NOTHING",
                    (run_id, started_at),
                )
            if cursor.rowcount == 1:
                return run_id

    def finish_run(self, run_id: str, outcome: str, counts: Mapping[str, int]) -> None:
        with self._transaction() as db:
            cursor = db.execute(
                "UPDATE runs SET finished_at = ?, outcome = ?, counts = ? WHERE id = ?",
                (_iso(now()), outcome, json.dumps(dict(counts), sort_keys=True), run_id),
            )
            if cursor.rowcount != 1:
                raise ValueError(f"no run {run_id!r} in the journal")

    def runs(self, limit: int = 20) -> list[Run]:
        """The latest runs, newest first."""
        rows = self._db.execute(
            "SELECT id, started_at, finished_at, outcome, counts FROM runs"
            " ORDER BY started_at DESC, rowid DESC LIMIT ?",
            (limit,),
        ).fetchall()
        return [
            Run(id=row[0], started_at=_parse(row[1]), finished_at=_parse_optional(row[2]),
                outcome=row[3], counts=json.loads(row[4]))
            for row in rows
        ]

    # --- retention -------------------------------------------------------------------------

    def prune(self, retention_days: int, now: datetime | None = None) -> dict[str, int]:
        """Delete journal entries, resolved flags and runs older than ``retention_days``.

        Open flags, engagement memory, posted notes (forgetting one would post it again) and
        pending actions (their outcome is still unknown) are kept. Returns rows deleted by kind.
        """
        if retention_days < 1:
            raise ValueError(f"retention_days must be at least 1, not {retention_days}")
        reference = now if now is not None else _clock()
        cutoff = _iso(reference - timedelta(days=retention_days))
        with self._transaction() as db:
            actions = db.execute(
                "DELETE FROM actions WHERE time < ? AND outcome != ?", (cutoff, PENDING)
            ).rowcount
            flags = db.execute(
                "DELETE FROM flags WHERE resolved_at IS NOT NULL AND resolved_at < ?", (cutoff,)
            ).rowcount
            runs = db.execute("DELETE FROM runs WHERE started_at < ?", (cutoff,)).rowcount
        return {"actions": actions, "flags": flags, "runs": runs}


# --- helpers -----------------------------------------------------------------------------------


def _clock() -> datetime:
    # Looked up at call time, so a monkeypatched ``now`` is honoured inside ``prune``.
    return now()


def _create_private_file(state_dir: Path, path: Path) -> None:
    """Create the folder (0700) and the database file (0600) before SQLite opens it.

    SQLite gives its ``-wal`` and ``-shm`` files the database file's permissions.
    """
    if not state_dir.is_dir():
        state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(state_dir, 0o700)  # mkdir's mode is filtered by the umask
    try:
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    try:
        os.fchmod(descriptor, 0o600)
    finally:
        os.close(descriptor)


def _connect(path: Path) -> sqlite3.Connection:
    # isolation_level=None: this module issues BEGIN and COMMIT itself, one step per transaction.
    connection = sqlite3.connect(path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None)
    try:
        connection.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_SECONDS * 1000)}")
        connection.execute("PRAGMA journal_mode = WAL")
        # FULL syncs the WAL at each commit: a "pending" row must survive a power cut as well,
        # since the write it announces may already be in ServiceNow.
        connection.execute("PRAGMA synchronous = FULL")
    except BaseException:
        connection.close()
        raise
    return connection


def _check_kind(kind: str) -> None:
    if kind not in ACTION_KINDS:
        raise ValueError(f"unknown action kind {kind!r}: expected one of {sorted(ACTION_KINDS)}")


def _stored_values(values: Mapping[str, str]) -> str:
    """The JSON stored for before/after values: credential-looking names refused, long values cut."""
    stored: dict[str, str] = {}
    for name, value in values.items():
        if not isinstance(name, str) or not isinstance(value, str):
            raise TypeError(f"field values are strings, got {name!r}: {value!r}")
        if _CREDENTIAL_KEY.search(name):
            raise ValueError(
                f"field {name!r} looks like a credential: the state folder must never hold one"
            )
        stored[name] = _truncate(value)
    return json.dumps(stored, ensure_ascii=False)


def _truncate(text: str) -> str:
    if len(text) <= MAX_VALUE_CHARS:
        return text
    return text[: MAX_VALUE_CHARS - len(TRUNCATION_MARK)] + TRUNCATION_MARK


def _iso(moment: datetime) -> str:
    """UTC ISO text of fixed width, so that text order is time order."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{moment!r} has no time zone: the journal keeps UTC times")
    return moment.astimezone(timezone.utc).isoformat(timespec="microseconds")


def _parse(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _parse_optional(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def _entry(row: tuple[Any, ...]) -> JournalEntry:
    (id_, time, run_id, rule, engagement, table, sys_id, number, target, kind, before, after,
     outcome, verification, error, note_key) = row
    return JournalEntry(
        id=id_, time=_parse(time), run_id=run_id, rule=rule, engagement=engagement, table=table,
        sys_id=sys_id, number=number, target=target, kind=kind, before=json.loads(before),
        after=json.loads(after), outcome=outcome, verification=verification, error=error,
        note_key=note_key,
    )


def _flag(row: tuple[Any, ...]) -> Flag:
    id_, engagement, rule, key, table, sys_id, number, message, opened_at, resolved_at = row
    return Flag(
        id=id_, engagement=engagement, rule=rule, key=key, table=table, sys_id=sys_id,
        number=number, message=message, opened_at=_parse(opened_at),
        resolved_at=_parse_optional(resolved_at),
    )
