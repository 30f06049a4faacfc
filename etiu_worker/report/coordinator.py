"""The coordinator's report: one row per engagement, built from the local state only. No printing.

What a coordinator asks ("she can see that you have 3 tickets open without a Prod Upgrade open")
is answered from the state folder, never from the instance: the records of every engagement as
the worker last read them (``records.sqlite3``), the worker's own verified writes since, its
memory of each engagement and its open flags (the journal), and the playbook's calendar. Nothing
here builds a ServiceNow client or sends a request, so the report works while the instance is
down, and while a worker runs (SQLite readers do not block it).

The cache holds the records as read at the start of the last cycle, before that cycle's writes.
Those writes are in the journal, read back and verified: a ``done`` state change, roadmap update
or ticket creation newer than the cached version of its record is laid over it, so a report run
right after ``run --once`` shows the record the worker just closed as closed.

What a row shows (phases, columns, deadlines, views, timeline) is the pack's report data
(pack.toml's ``[[phases]]`` and ``[report]``); ``coordinator_phases`` builds the rows,
``coordinator_rows`` holds their shape and the filters. This module re-exports their public
names, so callers import everything from here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from pathlib import Path

from ..state.cache import CACHE_NAME, RecordCache
from ..config import Settings
from .coordinator_phases import build_rows, engagement_row
from .coordinator_rows import (
    Cell,
    CoordinatorReport,
    Deadline,
    EngagementRow,
    Mark,
    OpenFlag,
    Span,
    filter_rows,
    normalise_phase,
    phase_counts,
    select,
    view_rows,
)
from ..state.journal import DONE, Journal, JournalEntry
from ..engagement.values import format_sn_datetime, parse_sn_datetime
from .engagement_context import build_engagements
from ..cycle.people import USERS_TABLE, assignee_names
from ..actions.loading import runtime_packs
from ..playbook.pack_match import assign
from ..cycle.pack_reads import distinct, pack_scopes, tables_of

__all__ = [
    "Cell", "CoordinatorReport", "Deadline", "EngagementRow", "Mark", "NoStateError", "OpenFlag",
    "Span", "apply_worker_writes", "build_rows", "engagement_row", "filter_rows", "normalise_phase", "phase_counts",
    "read_report", "read_reports", "select", "view_rows",
]

# Journal fields a write may carry besides its field changes: notes, not record fields.
NOTE_FIELDS = frozenset({"work_notes", "comments"})
# Writes whose after-values are field values of the record (notes and flags change no field).
FIELD_WRITES = frozenset({"set_state", "set_field", "create", "create_ticket", "update_roadmap"})
CREATES = frozenset({"create", "create_ticket"})


# --- the worker's own writes over the cache (pure) ------------------------------------------


def apply_worker_writes(
    tables: Mapping[str, list[dict]], entries: Iterable[JournalEntry], watermarks: Mapping[str, str | None]
) -> dict[str, list[dict]]:
    """The cached records with the worker's verified field writes laid over them.

    A write applies to the cached version of its record when it is newer than that version's
    ``sys_updated_on`` (a person's later change wins). A ticket the worker created and the cache
    has not read yet is added, unless its table was read after the creation (then it was deleted).
    """
    merged = {table: {record.get("sys_id", ""): dict(record) for record in records} for table, records in tables.items()}
    for entry in sorted(entries, key=lambda entry: (entry.time, entry.id)):
        if entry.outcome != DONE or entry.kind not in FIELD_WRITES or entry.table not in merged or not entry.sys_id:
            continue
        fields = {name: value for name, value in entry.after.items() if name not in NOTE_FIELDS}
        stamp = format_sn_datetime(entry.time)
        record = merged[entry.table].get(entry.sys_id)
        if record is None:
            watermark = watermarks.get(entry.table)
            if entry.kind in CREATES and (not watermark or watermark < stamp):
                merged[entry.table][entry.sys_id] = {
                    **fields, "sys_id": entry.sys_id, "number": entry.number,
                    "sys_created_on": stamp, "sys_updated_on": stamp,
                }
            continue
        if _older_than(record.get("sys_updated_on", ""), entry.time):
            record.update(fields)
            record["sys_updated_on"] = stamp
    return {table: list(records.values()) for table, records in merged.items()}


def _older_than(stamp: str, moment: datetime) -> bool:
    try:
        updated = parse_sn_datetime(stamp)
    except (TypeError, ValueError):
        return True
    return updated is None or updated < moment


# --- reading the state folder ---------------------------------------------------------------


class NoStateError(Exception):
    """The state folder holds no records yet: no cycle has run with it."""


def read_report(settings: Settings, now: datetime | None = None) -> CoordinatorReport:
    """The report of the first pack the settings run (see ``read_reports``)."""
    return read_reports(settings, now)[0]


def read_reports(settings: Settings, now: datetime | None = None, playbooks=None) -> tuple[CoordinatorReport, ...]:
    """One report per pack the settings run (``playbooks``, when already loaded), from the state
    folder; each shows the engagements its pack claims, as a cycle assigns them. No ServiceNow
    client, no request."""
    at = now or datetime.now(timezone.utc)
    state_dir = Path(settings.state.dir)
    if not (state_dir / CACHE_NAME).is_file():
        raise NoStateError(f"{state_dir} holds no records yet")
    playbooks = tuple(playbooks or runtime_packs(settings))
    chosen = pack_scopes(playbooks)
    with RecordCache.open_read_only(state_dir) as cache, Journal.open_read_only(state_dir) as journal:
        writes = [entry for entry in journal.entries(outcome=DONE) if entry.kind in FIELD_WRITES]
        held = {scope.cache_name: cache.records(scope.cache_name) for scope in distinct(chosen)}
        tables = {name: _cached_tables(cache, chosen[name], held, writes) for name in chosen}
        memories = journal.all_engagement_states()
        flags = journal.open_flags()
        runs = journal.runs(limit=1)
        people = assignee_names(cache.records(USERS_TABLE))
    built = {p.name: build_engagements(p, tables[p.name], settings.worker.default_timezone) for p in playbooks}
    owned = assign(playbooks, built, memories, at)
    return tuple(
        CoordinatorReport(tuple(build_rows(owned[p.name], memories, flags, p, at, people)), at,
                          runs[0] if runs else None, str(state_dir), p.report)
        for p in playbooks
    )


def _cached_tables(cache: RecordCache, scopes, held, writes) -> dict[str, list[dict]]:
    """One pack's cached records by table (``held``: every cached read), with the worker's verified
    writes laid over them."""
    return apply_worker_writes(tables_of(scopes, held), writes,
                               {scope.table: cache.watermark(scope.cache_name) for scope in scopes})


def __getattr__(name: str):
    """``PHASES`` and ``VIEWS``: the shipped pack's (see coordinator_rows)."""
    from . import coordinator_rows

    return getattr(coordinator_rows, name)
