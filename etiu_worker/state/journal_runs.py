"""The runs part of the journal, and its retention: which runs happened, and pruning old history.

A mixin of ``Journal``: callers use ``Journal.start_run``, ``Journal.prune`` and friends.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from .journal_values import iso, parse, parse_optional

PENDING = "pending"


@dataclass(frozen=True, kw_only=True)
class Run:
    """One run of the worker; ``outcome`` is None while running, or when it crashed."""

    id: str
    started_at: datetime
    finished_at: datetime | None
    outcome: str | None
    counts: dict[str, int]


class RunsMixin:
    """Start, finish and list runs; prune; needs the journal's ``_db``, ``_transaction`` and ``_now``."""

    def start_run(self) -> str:
        """Record the start of a run and return its id: eight hex digits, unique in the journal."""
        started_at = iso(self._now())
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
                (iso(self._now()), outcome, json.dumps(dict(counts), sort_keys=True), run_id),
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
            Run(id=row[0], started_at=parse(row[1]), finished_at=parse_optional(row[2]),
                outcome=row[3], counts=json.loads(row[4]))
            for row in rows
        ]

    def prune(self, retention_days: int, now: datetime | None = None) -> dict[str, int]:
        """Delete journal entries, resolved flags and runs older than ``retention_days``.

        Open flags, engagement memory, posted notes (forgetting one would post it again) and
        pending actions (their outcome is still unknown) are kept. Returns rows deleted by kind.
        """
        if retention_days < 1:
            raise ValueError(f"retention_days must be at least 1, not {retention_days}")
        reference = now if now is not None else self._now()
        cutoff = iso(reference - timedelta(days=retention_days))
        with self._transaction() as db:
            actions = db.execute(
                "DELETE FROM actions WHERE time < ? AND outcome != ?", (cutoff, PENDING)
            ).rowcount
            flags = db.execute(
                "DELETE FROM flags WHERE resolved_at IS NOT NULL AND resolved_at < ?", (cutoff,)
            ).rowcount
            runs = db.execute("DELETE FROM runs WHERE started_at < ?", (cutoff,)).rowcount
        return {"actions": actions, "flags": flags, "runs": runs}
