"""The records of every engagement as last read, so that a cycle reads only what changed.

Delta sync: each table has a watermark, the instance's clock when it was last read (the newest
``sys_updated_on`` seen when the instance sends no clock: the instance's own clock either way, so
the worker's clock does not matter). A cycle asks for the rows updated at or after
the watermark less an overlap, merges in those that differ from the cached ones, and evaluates every engagement from the cache, so that
time-based rules (a step running late, a range of days ending) fire on engagements nobody touched. A full
read replaces a table's cache on a configurable period; it is also what notices deleted records
and records that left the worker's scope.

Every change of a table's cached rows (a merge of rows that differ, a full read's replace, a
look-up stored) gives the table a new random token in the same transaction: a cycle that finds
every token as it left them knows no row changed without reading one (cycle/quiet.py).

Beside the rows, a caller may keep a summary of them by group (``groups``: a text per group, under
a label saying what it was made with) at a checkpoint; from then on every row stored keeps its
version from before in ``changes`` (none for a new row), so that the next cycle learns which rows
changed since the summary without reading the others (cycle/edited.py). A full read drops both.

Records and watermark of a table change in one SQLite transaction: a crash leaves either the old
pair or the new one, never a watermark ahead of the records it stands for.

It is only a cache: a damaged file (empty, truncated, not a database, written by a newer
etiu-worker) is deleted with a WARNING, and the cycle reads every record again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import secrets
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path

from ..errors import StateError
from .files import connect_read_only, damage, guard_database_errors, remove, user_version

log = logging.getLogger(__name__)

CACHE_NAME = "records.sqlite3"
CACHE_VERSION = 3  # PRAGMA user_version; a cache from a newer worker is rebuilt, not read
# (3: rows stored log their old version, which a worker of version 2 would not do)
_DECODE_CHUNK = 2000  # cached rows decoded at once
_LOOKUP_BATCH = 500  # sys_ids per look-up of cached rows (SQLite allows 999 parameters at least)
SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    tbl TEXT NOT NULL, sys_id TEXT NOT NULL, data TEXT NOT NULL, PRIMARY KEY (tbl, sys_id)
);
CREATE TABLE IF NOT EXISTS sync (
    tbl TEXT PRIMARY KEY, watermark TEXT NOT NULL, full_sync_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS scopes (
    tbl TEXT PRIMARY KEY, query TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS tokens (
    tbl TEXT PRIMARY KEY, token TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS marks (
    name TEXT PRIMARY KEY, value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS changes (
    tbl TEXT NOT NULL, sys_id TEXT NOT NULL, data TEXT, PRIMARY KEY (tbl, sys_id)
);
CREATE TABLE IF NOT EXISTS groups (
    name TEXT PRIMARY KEY, summary TEXT NOT NULL
);
"""
GROUPS_MARK = "groups_label"  # marks: the label of the groups' summary; none, no summary held
# A cache from before the tokens (version 1) holds rows no token stands for: each table gets a new
# one, and what was remembered against the old ones is dropped.
_UPGRADE = """
INSERT OR REPLACE INTO tokens (tbl, token) SELECT tbl, lower(hex(randomblob(16))) FROM (
    SELECT DISTINCT tbl FROM records UNION SELECT tbl FROM sync
);
DELETE FROM marks;
DELETE FROM groups;
DELETE FROM changes;
"""


def _failure(path: Path, error: sqlite3.DatabaseError) -> str:
    return (
        f"the record cache {path} cannot be used ({error}): delete it (rm {path}*) "
        "and run again; it is only a cache, the next run reads every record again"
    )


def _describe_failure(cache: RecordCache, error: sqlite3.DatabaseError) -> str:
    return _failure(cache.path, error)


@guard_database_errors(_describe_failure)
class RecordCache:
    """The cached records and watermarks of the state folder; an SQLite error is a ``StateError``."""

    def __init__(self, connection: sqlite3.Connection, path: Path) -> None:
        self._db = connection
        self.path = path

    @classmethod
    def open(cls, state_dir: Path) -> RecordCache:
        """Open the cache to read and write it; a damaged one is deleted and started afresh."""
        state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = state_dir / CACHE_NAME
        _discard_if_damaged(path, _problem(path))
        try:
            return cls(_connect(path), path)
        except sqlite3.OperationalError as error:  # a full disk, a read-only file: not damage
            raise StateError(_failure(path, error)) from None
        except sqlite3.DatabaseError as error:  # a damage the header did not show
            _discard_if_damaged(path, str(error))
            return cls(_connect(path), path)

    @classmethod
    def open_read_only(cls, state_dir: Path) -> RecordCache:
        """Open the cache only to read it (``report``), also on a read-only state folder."""
        path = Path(state_dir) / CACHE_NAME
        problem = _problem(path)
        if problem:
            raise StateError(
                f"the record cache {path} is damaged ({problem}): run etiu-worker run --once, "
                "which rebuilds it from the instance"
            )
        return cls(connect_read_only(path, 30), path)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> RecordCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def watermark(self, table: str) -> str | None:
        row = self._db.execute("SELECT watermark FROM sync WHERE tbl = ?", (table,)).fetchone()
        return row[0] if row else None

    def query(self, table: str) -> str | None:
        """The query the table's cache was last fully read with; None when unknown (an older cache)."""
        row = self._db.execute("SELECT query FROM scopes WHERE tbl = ?", (table,)).fetchone()
        return row[0] if row else None

    def full_sync_due(self, table: str, at: datetime, period: timedelta) -> bool:
        row = self._db.execute("SELECT full_sync_at FROM sync WHERE tbl = ?", (table,)).fetchone()
        return row is None or datetime.fromisoformat(row[0]) + period <= at

    def replace(self, table: str, rows: list[dict], at: datetime, *, read_at: str = "", query: str | None = None) -> None:
        """A full read (started at ``read_at`` on the instance's clock, with ``query``): the table's
        cache becomes exactly these rows."""
        with self._transaction():
            self._db.execute("DELETE FROM records WHERE tbl = ?", (table,))
            self._drop_groups()
            self._store(table, rows)
            self._renew_token(table)
            self._db.execute(
                "INSERT OR REPLACE INTO sync (tbl, watermark, full_sync_at) VALUES (?, ?, ?)",
                (table, read_at or _newest(rows), at.astimezone(timezone.utc).isoformat()),
            )
            if query is not None:
                self._db.execute("INSERT OR REPLACE INTO scopes (tbl, query) VALUES (?, ?)", (table, query))

    def merge(self, table: str, rows: list[dict], *, read_at: str = "") -> int:
        """A delta read (started at ``read_at`` on the instance's clock): the rows that differ from
        their cached versions replace them, and the watermark moves forward; how many differed.

        The rows a delta read brings back again because they changed inside the overlap (a bulk
        load a minute ago) are the cached ones: they are neither stored again nor counted."""
        changed = self._changed(table, rows)
        if not changed and not read_at:
            return 0
        with self._transaction():
            self._store(table, changed)
            self._db.execute(
                "UPDATE sync SET watermark = max(watermark, ?) WHERE tbl = ?", (read_at or _newest(changed), table)
            )
        return len(changed)

    def store(self, table: str, rows: list[dict]) -> None:
        """Records read outside the delta (a look-up, a freshness check): the watermark stays, so
        the next delta read still covers every change since the last one."""
        if rows:
            with self._transaction():
                self._store(table, rows)

    def forget_everything(self) -> None:
        """Drop every record and watermark: the next read of each table is a full read."""
        with self._transaction():
            self._db.execute("DELETE FROM records")
            self._db.execute("DELETE FROM sync")
            self._db.execute("DELETE FROM scopes")
            self._db.execute("DELETE FROM tokens")
            self._db.execute("DELETE FROM marks")
            self._drop_groups()

    def token(self, table: str) -> str | None:
        """The table's change token: a new one whenever its cached rows change; None before any."""
        row = self._db.execute("SELECT token FROM tokens WHERE tbl = ?", (table,)).fetchone()
        return row[0] if row else None

    def mark(self, name: str) -> str | None:
        """A value remembered with the cache (dropped with it), e.g. the tokens a scan last saw."""
        row = self._db.execute("SELECT value FROM marks WHERE name = ?", (name,)).fetchone()
        return row[0] if row else None

    def set_mark(self, name: str, value: str) -> None:
        with self._transaction():
            self._db.execute("INSERT OR REPLACE INTO marks (name, value) VALUES (?, ?)", (name, value))

    def records(self, table: str, each_chunk: Callable[[list[dict]], list[dict]] | None = None) -> list[dict]:
        """The table's rows in sys_id order, the order of a full read: the same rows come out in the
        same order whatever reads and merges brought them (a tie between two rows is broken alike).
        ``each_chunk``, when given, makes each chunk of decoded rows what is kept of it (a caller
        sharing their texts: the chunk's own copies go before the next is decoded)."""
        rows = self._db.execute("SELECT data FROM records WHERE tbl = ? ORDER BY sys_id", (table,))
        found: list[dict] = []
        # One decode per chunk of rows, as one JSON array: a third less CPU than one per row, in bounded memory.
        while chunk := rows.fetchmany(_DECODE_CHUNK):
            decoded = json.loads("[" + ",".join(data for (data,) in chunk) + "]")
            found += decoded if each_chunk is None else each_chunk(decoded)
        return found

    def sys_ids(self, table: str) -> set[str]:
        """The sys_ids of the table's cached rows, without decoding them."""
        return {sys_id for (sys_id,) in self._db.execute("SELECT sys_id FROM records WHERE tbl = ?", (table,))}

    def field_values(self, table: str, field: str) -> set[str]:
        """The distinct values of ``field`` in the table's cached rows, each as text (a reference sent
        as {"value": sys_id, ...} by its value), read by SQLite without decoding the rows in Python."""
        path = '$."' + field.replace('"', '""') + '"'
        found = self._db.execute(
            "SELECT DISTINCT CASE json_type(data, ?) WHEN 'object' THEN json_extract(data, ? || '.value') "
            "ELSE json_extract(data, ?) END FROM records WHERE tbl = ?", (path, path, path, table))
        return {str(value) for (value,) in found if value is not None}

    def rows(self, table: str, sys_ids) -> list[dict]:
        """The table's cached rows of these sys_ids, in sys_id order."""
        return self._rows_in(table, "sys_id", sorted(set(sys_ids)))

    def rows_where(self, table: str, field: str, values) -> list[dict]:
        """The table's cached rows whose ``field`` (a reference by its value) is one of ``values``, as
        text, in sys_id order; found by an index of the field (made on first use, kept up by SQLite),
        so Python decodes only the rows found."""
        return self._rows_in(table, self.index_field(field), sorted(set(values) - {""}))

    def index_field(self, field: str) -> str:
        """Index the rows by ``field`` (a reference by its value) once, SQLite keeping it up from
        then on; the indexed expression, for a query to name."""
        path = ('$."' + field.replace('"', '""') + '"').replace("'", "''")
        value = (f"CAST(CASE json_type(data, '{path}') WHEN 'object' THEN json_extract(data, '{path}.value') "
                 f"ELSE json_extract(data, '{path}') END AS TEXT)")
        index = "records_by_" + hashlib.blake2b(field.encode("utf-8"), digest_size=8).hexdigest()
        self._db.execute(f"CREATE INDEX IF NOT EXISTS {index} ON records (tbl, {value})")
        return value

    def _rows_in(self, table: str, column: str, values: list[str]) -> list[dict]:
        found: list[tuple[str, str]] = []
        for start in range(0, len(values), _LOOKUP_BATCH):
            batch = values[start:start + _LOOKUP_BATCH]
            found += self._db.execute(f"SELECT sys_id, data FROM records WHERE tbl = ? AND {column} IN "
                                      f"({','.join('?' * len(batch))})", (table, *batch)).fetchall()
        return json.loads("[" + ",".join(data for _, data in sorted(found)) + "]")

    def changes(self) -> list[tuple[str, str, dict | None]]:
        """(table, sys_id, the row as it was at the groups' checkpoint, None for a new row) of each
        row stored since."""
        found = self._db.execute("SELECT tbl, sys_id, data FROM changes ORDER BY tbl, sys_id")
        return [(table, sys_id, json.loads(data) if data is not None else None) for table, sys_id, data in found]

    def groups(self, label: str) -> dict[str, str] | None:
        """The groups' summary kept at the last checkpoint, when it was made with ``label``; else None."""
        if self.mark(GROUPS_MARK) != label:
            return None
        return dict(self._db.execute("SELECT name, summary FROM groups"))

    def checkpoint(self, label: str, summary: dict[str, str], *, drop=(), whole: bool = False) -> None:
        """The groups' summary as of now: ``summary`` replaces the groups named in it and ``drop``
        (every group, when ``whole``), and the log of changed rows starts again."""
        with self._transaction():
            if whole:
                self._db.execute("DELETE FROM groups")
            self._db.executemany("DELETE FROM groups WHERE name = ?", [(name,) for name in drop])
            self._db.executemany("INSERT OR REPLACE INTO groups (name, summary) VALUES (?, ?)", summary.items())
            self._db.execute("DELETE FROM changes")
            self._db.execute("INSERT OR REPLACE INTO marks (name, value) VALUES (?, ?)", (GROUPS_MARK, label))

    def _drop_groups(self) -> None:
        """A full read may drop rows, which the log of changes cannot tell: the summary goes."""
        self._db.execute("DELETE FROM groups")
        self._db.execute("DELETE FROM changes")
        self._db.execute("DELETE FROM marks WHERE name = ?", (GROUPS_MARK,))

    def _changed(self, table: str, rows: list[dict]) -> list[dict]:
        """The rows whose cached version is not exactly them (new rows included)."""
        held: dict[str, str] = {}
        ids = [row["sys_id"] for row in rows]
        for start in range(0, len(ids), _LOOKUP_BATCH):
            batch = ids[start:start + _LOOKUP_BATCH]
            marks = ",".join("?" * len(batch))
            held.update(self._db.execute(f"SELECT sys_id, data FROM records WHERE tbl = ? AND sys_id IN ({marks})",
                                         (table, *batch)))
        return [row for row in rows if held.get(row["sys_id"]) != json.dumps(row)]

    def _store(self, table: str, rows: Sequence[dict]) -> None:
        # The first old version since the checkpoint is the one kept (NULL: the row is new); with
        # no summary held there is nothing to keep it for.
        if self._db.execute("SELECT 1 FROM marks WHERE name = ?", (GROUPS_MARK,)).fetchone():
            self._db.executemany("INSERT OR IGNORE INTO changes (tbl, sys_id, data) VALUES "
                                 "(?1, ?2, (SELECT data FROM records WHERE tbl = ?1 AND sys_id = ?2))",
                                 ((table, row["sys_id"]) for row in rows))
        stored = self._db.executemany(
            "INSERT OR REPLACE INTO records (tbl, sys_id, data) VALUES (?, ?, ?)",
            ((table, row["sys_id"], json.dumps(row)) for row in rows),  # one row's text at a time, not the table's
        )
        if stored.rowcount > 0:
            self._renew_token(table)

    def _renew_token(self, table: str) -> None:
        self._db.execute("INSERT OR REPLACE INTO tokens (tbl, token) VALUES (?, ?)", (table, secrets.token_hex(16)))

    def _transaction(self):
        return _Transaction(self._db)


class _Transaction:
    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, kind, error, trace) -> None:
        self.db.execute("COMMIT" if kind is None else "ROLLBACK")


def _problem(path: Path) -> str | None:
    """What is wrong with the cache file, or None (also when there is none yet)."""
    if not path.exists():
        return None
    if path.stat().st_size == 0:
        return "it is empty"
    problem = damage(path)
    if problem is None and user_version(path) > CACHE_VERSION:
        problem = f"it was written by a newer etiu-worker (version {user_version(path)})"
    return problem


def _discard_if_damaged(path: Path, problem: str | None) -> None:
    if not problem:
        return
    try:
        remove(path)
    except OSError as error:
        raise StateError(
            f"the record cache {path} is damaged ({problem}) and cannot be deleted "
            f"({error.strerror}): delete it (rm {path}*) and run again; it is only a cache"
        ) from None
    log.warning(
        "the record cache %s was damaged (%s) and is deleted: it is only a cache, this cycle "
        "reads every record again", path, problem,
    )


def _connect(path: Path) -> sqlite3.Connection:
    if not path.exists():
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    connection = sqlite3.connect(path, timeout=30, isolation_level=None)
    try:
        connection.execute("PRAGMA journal_mode=WAL")
        older = connection.execute("PRAGMA user_version").fetchone()[0] < CACHE_VERSION
        connection.executescript(SCHEMA + (_UPGRADE if older else ""))
        connection.execute(f"PRAGMA user_version = {CACHE_VERSION}")
    except BaseException:
        connection.close()
        raise
    return connection


def _newest(rows: Iterable[dict]) -> str:
    return max((row.get("sys_updated_on", "") for row in rows), default="")
