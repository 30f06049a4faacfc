"""Keyset paging for the Table API: each page asks for the rows after the last sys_id seen.

Paging by ``sysparm_offset`` counts rows: a row deleted during a read shifts every later row one
place up, so one is never read, and a row inserted before the offset is read twice. Paging by key
(``ORDERBYsys_id`` and ``sys_id>LAST``, no offset) cannot skip or repeat a row: every row that
exists for the whole read is read exactly once; one created or deleted meanwhile is read or not,
and the next cycle sees it. sys_ids compare as text on the instance.

The caller's query may not carry its own ``ORDERBY``: the key is the order (``ValueError``).
A query of several ``^NQ`` groups gets the key condition in each group, so that it still holds
for every alternative.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ..errors import ServerError

KEY = "sys_id"
_ORDER_TERM = re.compile(r"(?:^|\^)ORDERBY")
_KEY_VALUE = re.compile(r"[A-Za-z0-9_-]{1,64}")


def checked_query(query: str) -> str:
    """``query`` stripped, or ValueError when it orders the rows itself."""
    query = query.strip()
    if _ORDER_TERM.search(query):
        raise ValueError(
            f"the query {query[:80]!r} has an ORDERBY: lists are read in sys_id order so that no row is "
            f"skipped or read twice while paging; sort the records after reading them"
        )
    return query


def page_query(query: str, after: str | None) -> str:
    """The encoded query of the page after sys_id ``after`` (the first page when None)."""
    order = f"ORDERBY{KEY}"
    if after is None:
        return f"{query}^{order}" if query else order
    groups = query.split("^NQ") if query else [""]
    bounded = [f"{group}^{KEY}>{after}" if group else f"{KEY}>{after}" for group in groups]
    return "^NQ".join(bounded) + f"^{order}"


def last_key(records: list[Mapping[str, Any]]) -> str:
    """The sys_id of a page's last row, refused if it could not be put in a query safely."""
    value = records[-1].get(KEY)
    if isinstance(value, Mapping):  # sysparm_display_value=all
        value = value.get("value") or value.get("display_value")
    if not isinstance(value, str) or not _KEY_VALUE.fullmatch(value):
        raise ValueError(f"a row without a usable sys_id ({str(value)[:40]!r}): paging cannot go on")
    return value


def with_key(fields: tuple[str, ...]) -> tuple[str, ...]:
    """The fields to ask for: the key is needed to ask for the next page (all fields when empty)."""
    return fields if not fields or KEY in fields else (*fields, KEY)


def next_key(table: str, records: list[Mapping[str, Any]], after: str | None) -> str:
    """The key to read on after this page; ServerError when the instance ignored the last one."""
    try:
        first, last = last_key(records[:1]), last_key(records)
    except ValueError as exc:
        raise ServerError("ServiceNow's page cannot be paged on", str(exc), method="GET", table=table) from None
    if after is not None and first <= after:  # sys_id> was not applied: reading on would loop
        raise ServerError("ServiceNow repeated rows of the previous page", f"sys_id {first} after {after}",
                          method="GET", table=table)
    return last
