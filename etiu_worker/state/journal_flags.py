"""The flags part of the journal: problems the worker raised on engagements, open or resolved.

A mixin of ``Journal``: callers use ``Journal.open_flag`` and friends, as before the split.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from .journal_schema import FLAG_COLUMNS
from .journal_values import iso, parse, parse_optional


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
    severity: str  # "problem" or "warning", as the rule's action says
    kind: str  # what the rule's flag key names first: cancelled, grace, duplicate-code…


class FlagsMixin:
    """Open, resolve and list flags; needs the journal's ``_db``, ``_transaction`` and ``_now``."""

    def open_flag(
        self, engagement: str, rule: str, key: str, table: str, sys_id: str, number: str,
        message: str, *, severity: str = "problem", kind: str = "",
    ) -> bool:
        """Open a flag; True when it is new, False when the same problem is already flagged."""
        with self._transaction() as db:
            cursor = db.execute(
                "INSERT INTO flags (engagement, rule, key, table_name, sys_id, number, message,"
                " opened_at, severity, kind) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT DO NOTHING",
                (engagement, rule, key, table, sys_id, number, message, iso(self._now()), severity,
                 kind),
            )
        return cursor.rowcount == 1

    def resolve_flags(self, engagement: str, rule: str, still_open_keys: Iterable[str]) -> list[Flag]:
        """Resolve the open flags of this engagement and rule whose key is not still open."""
        keep = set(still_open_keys)
        resolved_at = iso(self._now())
        with self._transaction() as db:
            # Compared in Python: a large key set would exceed SQLite's limit on parameters.
            rows = db.execute(
                f"SELECT {FLAG_COLUMNS} FROM flags WHERE engagement = ? AND rule = ?"
                " AND resolved_at IS NULL ORDER BY id",
                (engagement, rule),
            ).fetchall()
            gone = [flag_from_row(row) for row in rows if row[3] not in keep]
            db.executemany(
                "UPDATE flags SET resolved_at = ? WHERE id = ?",
                [(resolved_at, flag.id) for flag in gone],
            )
        return [replace(flag, resolved_at=parse(resolved_at)) for flag in gone]

    def resolve_flags_of(self, still_open: Mapping[tuple[str, str], Collection[str]]) -> list[Flag]:
        """``resolve_flags`` of each (engagement, rule) with its keys still open, in one transaction
        that reads the open flags once (a cycle evaluates thousands of engagements × rules).

        ``still_open`` is read as it is, not copied: a cold cycle's 40,000 pairs are some 10 MB."""
        keep = still_open
        if not keep:  # a quiet cycle evaluated nothing: no flag can have gone
            return []
        resolved_at = iso(self._now())
        with self._transaction() as db:
            rows = sorted(_open_flag_rows(db, sorted({engagement for engagement, _ in keep})))
            gone = [flag_from_row(row) for row in rows
                    if (row[1], row[2]) in keep and row[3] not in keep[(row[1], row[2])]]
            db.executemany("UPDATE flags SET resolved_at = ? WHERE id = ?", [(resolved_at, flag.id) for flag in gone])
        return [replace(flag, resolved_at=parse(resolved_at)) for flag in gone]

    def open_flags(self, engagement: str | None = None) -> list[Flag]:
        """Open flags, oldest first, of one engagement or of all."""
        query = f"SELECT {FLAG_COLUMNS} FROM flags WHERE resolved_at IS NULL"
        parameters: tuple[str, ...] = ()
        if engagement is not None:
            query += " AND engagement = ?"
            parameters = (engagement,)
        rows = self._db.execute(query + " ORDER BY opened_at, id", parameters).fetchall()
        return [flag_from_row(row) for row in rows]


_ENGAGEMENTS_PER_SELECT = 500  # under SQLite's oldest limit of 999 parameters a statement


def _open_flag_rows(db: Any, engagements: list[str]) -> Iterable[tuple[Any, ...]]:
    """The open flags of these engagements only (an edited cycle evaluates a few of thousands),
    by the index of open flags."""
    for start in range(0, len(engagements), _ENGAGEMENTS_PER_SELECT):
        chunk = engagements[start:start + _ENGAGEMENTS_PER_SELECT]
        yield from db.execute(f"SELECT {FLAG_COLUMNS} FROM flags WHERE resolved_at IS NULL"
                              f" AND engagement IN ({', '.join('?' * len(chunk))})", chunk)


def flag_from_row(row: tuple[Any, ...]) -> Flag:
    id_, engagement, rule, key, table, sys_id, number, message, opened_at, resolved_at, severity, kind = row
    return Flag(
        id=id_, engagement=engagement, rule=rule, key=key, table=table, sys_id=sys_id,
        number=number, message=message, opened_at=parse(opened_at),
        resolved_at=parse_optional(resolved_at), severity=severity, kind=kind,
    )
