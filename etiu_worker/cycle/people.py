"""The names of the people records are assigned to, read once per person and kept in the record cache.

The records that carry the engagement key hold their assignee (``assigned_to``) as a sys_user sys_id. After a
cycle, the sys_ids the cache has no name for are read from ``sys_user`` (sys_id, name and
user_name only, 100 per request) and kept in ``records.sqlite3``, so the report shows and matches
names without a request of its own, and a quiet cycle (no new assignee) sends nothing more than
its one list request per table.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping

from ..state.cache import RecordCache
from ..errors import ForbiddenError, ServiceNowError
from ..servicenow.query import Query, in_batches

log = logging.getLogger(__name__)

USERS_TABLE = "sys_user"
ASSIGNEE_FIELD = "assigned_to"
USER_FIELDS = ("sys_id", "name", "user_name")
_SYS_ID = re.compile(r"[0-9a-f]{32}")


def remember_assignees(client, cache: RecordCache, tables: Iterable[str]) -> None:
    """Read the names of assignees the cache does not know yet; a failed read is tried next cycle.
    Not even looked for when no row of ``tables`` or of sys_user changed since the last look
    (the tables' change tokens, cache.py): a quiet cycle scans no row."""
    tables = tuple(tables)
    mark = "assignees:" + ",".join(tables)
    if cache.mark(mark) == _tokens(cache, tables):
        return
    if _read_names(client, cache, tables):
        cache.set_mark(mark, _tokens(cache, tables))


def _tokens(cache: RecordCache, tables: tuple[str, ...]) -> str:
    return ",".join(str(cache.token(table)) for table in (*tables, USERS_TABLE))


def _read_names(client, cache: RecordCache, tables: tuple[str, ...]) -> bool:
    """Read the unknown assignees' names; whether every read answered."""
    known = cache.sys_ids(USERS_TABLE)
    wanted = sorted(assignee_ids(cache, tables) - known)
    for batch in in_batches(wanted):
        try:
            found = client.list(USERS_TABLE, Query.where("sys_id", "IN", batch), fields=USER_FIELDS)
        except ForbiddenError as error:
            # Without read access to sys_user, ask once per person, not every cycle.
            log.warning("cannot read assignees' names from %s (%s): the report shows their sys_ids", USERS_TABLE, error)
            found = []
        except ServiceNowError as error:
            log.info("assignees' names not read this cycle: %s", error)
            return False
        seen = {row.get("sys_id") for row in found}
        cache.merge(USERS_TABLE, found + [{"sys_id": sys_id, "name": "", "user_name": ""}
                                          for sys_id in batch if sys_id not in seen])
    return True


def assignee_ids(cache: RecordCache, tables: Iterable[str]) -> set[str]:
    """The sys_ids in the assignee field of the records of ``tables`` (SQLite reads them out of the
    cached rows: decoding every row in Python on every quiet cycle cost more than the rest of it)."""
    values = (value.strip() for table in tables for value in cache.field_values(table, ASSIGNEE_FIELD))
    return {value for value in values if _SYS_ID.fullmatch(value)}


def assignee_names(rows: Iterable[Mapping]) -> dict[str, str]:
    """``{sys_id: name}`` from cached sys_user rows (the user name when the name is empty)."""
    names = {}
    for row in rows:
        name = str(row.get("name") or row.get("user_name") or "").strip()
        if name:
            names[str(row.get("sys_id"))] = name
    return names


def reference_value(value: object) -> str:
    """A field's value as stored: a reference sent as {"value": sys_id, "link": …} is its sys_id."""
    if isinstance(value, Mapping):
        value = value.get("value", "")
    return str(value or "").strip()
