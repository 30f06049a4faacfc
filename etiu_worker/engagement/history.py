"""A field's history from the instance: its ``sys_audit`` rows, read in batches.

The roadmap sync reads it on first sight of an engagement (no remembered roadmap) to tell which
ticket took on a disputed date most recently. Only this module sends the requests; the facts get
the rows as plain data (``FieldChange``) and stay free of I/O.

The integration user may not be allowed to read ``sys_audit`` (403): then the history is None,
said once at INFO, and the roadmap sync falls back to a flagged conflict with no write.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Iterable, Mapping, Sequence

from ..errors import ForbiddenError
from .engagements import Engagement
from .values import parse_sn_datetime
from ..servicenow.query import Query, in_batches

log = logging.getLogger(__name__)
AUDIT_TABLE = "sys_audit"
AUDIT_FIELDS = ("tablename", "documentkey", "fieldname", "oldvalue", "newvalue", "user",
                "record_checkpoint", "sys_created_on")
_told_forbidden: set[str] = set()  # tables whose history the user may not read, said once per process


@dataclass(frozen=True)
class FieldChange:
    """One audited change of one field of one record: ``old`` became ``new`` at ``at``."""

    sys_id: str
    field: str
    old: str
    new: str
    at: datetime | None
    user: str = ""
    checkpoint: int | None = None  # the record's update count after the change

    @property
    def is_creation(self) -> bool:
        """Whether this row records the value the record was created with (nothing before it)."""
        return self.old == "" or self.checkpoint == 0


History = Mapping[str, Sequence[FieldChange]]  # by record sys_id, oldest first
Each = Callable[[Callable[[Any], Any], Iterable[Any]], list[Any]]  # (call, items) -> results, in item order


def one_after_another(call: Callable[[Any], Any], items: Iterable[Any]) -> list[Any]:
    """``call`` of each item here, in order: how the batches are read unless told otherwise."""
    return [call(item) for item in items]


def read_field_history(client, table: str, sys_ids: Iterable[str], field: str,
                       each: Each = one_after_another) -> dict[str, list[FieldChange]] | None:
    """Every audited change of ``field`` on these records, oldest first; None when refused (403).

    ``each(call, batches)`` reads the batches of 100 records (the cycle passes its write lanes,
    which read several at once) and returns their rows in batch order."""
    read = lambda chunk: client.list(AUDIT_TABLE, _audit_query(table, field, chunk), fields=list(AUDIT_FIELDS))  # noqa: E731
    try:
        rows = [row for found in each(read, in_batches(sorted(set(sys_ids)))) for row in found]
    except ForbiddenError as error:
        _say_forbidden(table, error)
        return None
    return changes_from_rows(rows, field)


def changes_from_rows(rows: Iterable[Mapping[str, str]], field: str) -> dict[str, list[FieldChange]]:
    """``sys_audit`` rows (as the Table API gives them) of ``field``, by record, oldest first."""
    changes: dict[str, list[FieldChange]] = {}
    for row in rows:
        if row.get("fieldname", field) == field:
            change = _change_of(row, field)
            changes.setdefault(change.sys_id, []).append(change)
    for found in changes.values():
        found.sort(key=_order)
    return changes


def cycle_history(client, engagements: Sequence[Engagement], roles: Sequence[str], field: str,
                  each: Each = one_after_another) -> History | None:
    """The history of ``field`` for every record of ``roles`` in these engagements (the records
    that carry the roadmap), in one batched read per table.

    The cycle passes only the engagements that need it (``context.needs_history``); with none, no
    request is sent and the mapping is empty, so a quiet or warm cycle costs nothing more.
    """
    by_table: dict[str, list[str]] = {}
    for engagement in engagements:
        for role in roles:
            for record in engagement.each(role):
                by_table.setdefault(record.table, []).append(record.sys_id)
    history: dict[str, list[FieldChange]] = {}
    for table, sys_ids in by_table.items():
        found = read_field_history(client, table, sys_ids, field, each)
        if found is None:
            return None
        history |= found
    return history


def _audit_query(table: str, field: str, sys_ids: list[str]) -> Query:
    # No ORDERBY: the client pages by sys_id (a stable read); the changes are sorted once read.
    return Query.where("tablename", "=", table).and_where("fieldname", "=", field).and_in("documentkey", sys_ids)


def _change_of(row: Mapping[str, str], field: str) -> FieldChange:
    checkpoint = str(row.get("record_checkpoint", ""))
    return FieldChange(
        sys_id=row.get("documentkey", ""), field=field, old=row.get("oldvalue", "") or "",
        new=row.get("newvalue", "") or "", at=_moment(row.get("sys_created_on", "")),
        user=row.get("user", "") or "", checkpoint=int(checkpoint) if checkpoint.isdigit() else None,
    )


def _moment(text: str) -> datetime | None:
    try:
        return parse_sn_datetime(text)
    except ValueError:
        return None  # an unreadable stamp cannot say when: the row decides nothing


def _order(change: FieldChange) -> tuple:
    return (change.at is not None, change.at or datetime.min, change.checkpoint or 0)


def _say_forbidden(table: str, error: ForbiddenError) -> None:
    if table in _told_forbidden:
        return
    _told_forbidden.add(table)
    log.info("the integration user may not read %s (%s): a date that differs between the tickets of an "
             "engagement seen for the first time is flagged as a conflict instead of resolved by its history; "
             "grant the user a role that may read audit data to resolve such dates", AUDIT_TABLE, error)
