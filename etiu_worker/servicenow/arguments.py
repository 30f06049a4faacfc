"""The ServiceNow client's arguments, checked before anything is sent.

A table name and a sys_id become part of the URL, so anything but an identifier could point a
request elsewhere; field names go into ``sysparm_fields``, where a stray comma or caret would
widen what is read.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ..errors import QueryValueError
from .query import checked_field

MAX_PAGE_SIZE = 10000  # ServiceNow's own default and usual ceiling for sysparm_limit

_TABLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SYS_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


@dataclass(frozen=True)
class ReadParameters:
    fields: tuple[str, ...]
    display_value: bool | str
    exclude_reference_link: bool


def checked_page_size(size: object) -> int:
    if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= MAX_PAGE_SIZE:
        raise ValueError(f"page_size must be an int from 1 to {MAX_PAGE_SIZE}, not {size!r}")
    return size


def total_count(headers: Mapping[str, str]) -> int | None:
    try:
        return int(headers.get("X-Total-Count", ""))
    except ValueError:
        return None


def read_parameters(
    fields: Sequence[str] | None, display_value: bool | str, exclude_reference_link: bool
) -> ReadParameters:
    return ReadParameters(
        fields=_checked_fields(fields),
        display_value=_checked_display_value(display_value),
        exclude_reference_link=bool(exclude_reference_link),
    )


def _checked_fields(fields: Sequence[str] | None) -> tuple[str, ...]:
    if fields is None:
        return ()
    if isinstance(fields, str):
        raise TypeError("fields takes a sequence of field names, not one string")
    return tuple(checked_field(name) for name in fields)


def _checked_display_value(value: bool | str) -> bool | str:
    if isinstance(value, bool) or value == "all":
        return value
    if isinstance(value, str) and value.lower() in ("true", "false", "all"):
        return {"true": True, "false": False, "all": "all"}[value.lower()]
    raise ValueError(f"display_value must be True, False or 'all', not {value!r}")


def checked_table(table: str) -> str:
    if not isinstance(table, str) or not _TABLE_NAME.fullmatch(table):
        raise QueryValueError(f"{table!r} is not a table name: use letters, digits and '_'")
    return table


def record_path(sys_id: str) -> str:
    # The sys_id becomes part of the URL: anything but an id could point the request elsewhere.
    if not isinstance(sys_id, str) or not _SYS_ID.fullmatch(sys_id):
        raise QueryValueError(
            f"{str(sys_id)[:40]!r} is not a sys_id: expected letters, digits, '_' or '-' (32 hex digits)"
        )
    return f"/{sys_id}"
