"""A stored record as the Table API returns it, for each ``sysparm_display_value`` mode.

- ``false``: stored values; a reference is ``{"link", "value"}`` (or the bare sys_id without links).
- ``true``: display values; a reference is ``{"display_value", "link"}`` (or the display text).
- ``all``: ``{"display_value", "value"}`` for every field, plus ``link`` on references.
An empty reference is "" in the first two modes and ``{"display_value": "", "value": ""}`` in ``all``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from . import dates
from .schema import JOURNAL_LABELS, SYS_DATE_TIMES, TableSpec, spec
from .store import Record, Store

Mode = Literal["false", "true", "all"]


@dataclass(frozen=True)
class View:
    mode: Mode = "false"
    links: bool = True
    fields: tuple[str, ...] = ()  # empty: every field
    base: str = ""  # scheme://host[:port] of reference links


def render(store: Store, table: str, records: list[Record], view: View) -> list[dict[str, object]]:
    """Render records; requested fields the table does not have are left out, as ServiceNow does."""
    wanted = [name for name in view.fields if store.knows(table, name)] if view.fields else None
    declared = spec(table)
    references = declared.references if declared else {}
    read = store.value_of(table)
    rows = []
    for record in records:
        values = dict(record) if wanted is None else {name: read(record, name) for name in wanted}
        row: dict[str, object] = (
            values if view.mode == "false" else _displayed(store, table, declared, record, values, view)
        )
        for name, target in references.items():
            if name in values:
                row[name] = _reference(store, target, values[name], view)
        rows.append(row)
    return rows


def _displayed(store: Store, table: str, declared: TableSpec | None, record: Record,
               values: dict[str, str], view: View) -> dict[str, object]:
    shown = {name: _display(store, table, declared, record, name, value) for name, value in values.items()}
    if view.mode == "true":
        return dict(shown)
    return {name: {"display_value": shown[name], "value": value} for name, value in values.items()}


def _reference(store: Store, target: str, sys_id: str, view: View) -> object:
    link = f"{view.base}/api/now/table/{target}/{sys_id}"
    if view.mode == "false":
        if not sys_id or not view.links:
            return sys_id
        return {"link": link, "value": sys_id}
    shown = _reference_display(store, target, sys_id)
    if view.mode == "true":
        if not sys_id or not view.links:
            return shown
        return {"display_value": shown, "link": link}
    rendered: dict[str, str] = {"display_value": shown, "value": sys_id}
    if sys_id and view.links:
        rendered["link"] = link
    return rendered


def _reference_display(store: Store, target: str, sys_id: str) -> str:
    referenced = store.record(target, sys_id) if sys_id else None
    if referenced is None:
        return ""
    declared = spec(target)
    return referenced.get(declared.display_field if declared else "number", "") or ""


def _display(store: Store, table: str, declared: TableSpec | None, record: Record, name: str, value: str) -> str:
    if name in SYS_DATE_TIMES:
        return dates.to_local(value, store.zone)
    if declared is None:
        return value
    if name in declared.journals:
        return _journal_display(store, table, record.get("sys_id", ""), name)
    if name == "state" and declared.states:
        return declared.states.get(value, value)
    if declared.is_date_time(name):
        return dates.to_local(value, store.zone)
    return value


def _journal_display(store: Store, table: str, sys_id: str, element: str) -> str:
    label = JOURNAL_LABELS.get(element, element)
    entries = reversed(store.journal_entries(table, sys_id, element))  # newest first
    return "".join(
        f"{dates.to_local(entry['sys_created_on'], store.zone)} - "
        f"{store.display_name(entry['sys_created_by'])} ({label})\n{entry['value']}\n\n"
        for entry in entries
    )
