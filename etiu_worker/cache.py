"""The records of every engagement as last read, so that a cycle reads only what changed.

Delta sync: each table has a watermark, the newest ``sys_updated_on`` seen (the instance's own
clock, so the worker's clock does not matter). A cycle asks for the rows updated at or after the
watermark less an overlap, merges them in, and evaluates every engagement from the cache, so that
time-based rules (validation length, support week end) fire on engagements nobody touched. A full
read replaces a table's cache on a configurable period; it is also what notices deleted records
and records that left the worker's scope.

Records and watermark of a table change in one SQLite transaction: a crash leaves either the old
pair or the new one, never a watermark ahead of the records it stands for.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterable
from datetime import datetime, timedelta, timezone
from pathlib import Path

CACHE_NAME = "records.sqlite3"
SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    tbl TEXT NOT NULL, sys_id TEXT NOT NULL, data TEXT NOT NULL, PRIMARY KEY (tbl, sys_id)
);
CREATE TABLE IF NOT EXISTS sync (
    tbl TEXT PRIMARY KEY, watermark TEXT NOT NULL, full_sync_at TEXT NOT NULL
);
"""


class RecordCache:
    def __init__(self, connection: sqlite3.Connection, path: Path) -> None:
        self._db = connection
        self.path = path

    @classmethod
    def open(cls, state_dir: Path) -> RecordCache:
        state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = state_dir / CACHE_NAME
        if not path.exists():
            os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
        connection = sqlite3.connect(path, timeout=30, isolation_level=None)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.executescript(SCHEMA)
        return cls(connection, path)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> RecordCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def watermark(self, table: str) -> str | None:
        row = self._db.execute("SELECT watermark FROM sync WHERE tbl = ?", (table,)).fetchone()
        return row[0] if row else None

    def full_sync_due(self, table: str, at: datetime, period: timedelta) -> bool:
        row = self._db.execute("SELECT full_sync_at FROM sync WHERE tbl = ?", (table,)).fetchone()
        return row is None or datetime.fromisoformat(row[0]) + period <= at

    def replace(self, table: str, rows: list[dict], at: datetime) -> None:
        """A full read: the table's cache becomes exactly these rows."""
        with self._transaction():
            self._db.execute("DELETE FROM records WHERE tbl = ?", (table,))
            self._store(table, rows)
            self._db.execute(
                "INSERT OR REPLACE INTO sync (tbl, watermark, full_sync_at) VALUES (?, ?, ?)",
                (table, _newest(rows, ""), at.astimezone(timezone.utc).isoformat()),
            )

    def merge(self, table: str, rows: list[dict]) -> None:
        """A delta read: these rows replace their cached versions; the watermark moves forward."""
        if not rows:
            return
        with self._transaction():
            self._store(table, rows)
            self._db.execute(
                "UPDATE sync SET watermark = max(watermark, ?) WHERE tbl = ?", (_newest(rows, ""), table)
            )

    def store(self, table: str, rows: list[dict]) -> None:
        """Records read outside the delta (a look-up, a freshness check): the watermark stays, so
        the next delta read still covers every change since the last one."""
        if rows:
            with self._transaction():
                self._store(table, rows)

    def records(self, table: str) -> list[dict]:
        return [json.loads(data) for (data,) in self._db.execute("SELECT data FROM records WHERE tbl = ?", (table,))]

    def _store(self, table: str, rows: Iterable[dict]) -> None:
        self._db.executemany(
            "INSERT OR REPLACE INTO records (tbl, sys_id, data) VALUES (?, ?, ?)",
            [(table, row["sys_id"], json.dumps(row)) for row in rows],
        )

    def _transaction(self):
        return _Transaction(self._db)


class _Transaction:
    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, kind, error, trace) -> None:
        self.db.execute("COMMIT" if kind is None else "ROLLBACK")


def _newest(rows: Iterable[dict], default: str) -> str:
    return max((row.get("sys_updated_on", "") for row in rows), default=default)
