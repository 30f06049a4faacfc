"""Before anything is posted or created, ask the instance whether it already is.

The local journal remembers the notes the worker posted, but it is only a cache: a lost or
rebuilt state folder, an answer lost after ServiceNow applied a write, or a crash leave it
without notes that are on the instance. So every planned note that the journal does not know is
looked up by its reference in ``sys_journal_field`` (one list request per ``query.IN_BATCH`` records), and every
planned ticket by its engagement key and code (one list request per 100 engagements). What is
found is not sent again; the journal learns the notes, the record cache the tickets.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import replace

from ..actions import Write
from ..engagement.roles import Declarations
from ..servicenow.query import Query, in_batches
from .lanes import in_lanes
from .send import lanes_of
from .verify import JOURNAL_TABLE

log = logging.getLogger(__name__)
WORKER_MARK = "etiu-worker"
# A footer ends each note; notes merged into one request's entry are joined by a blank line.
_REF = re.compile(r"· ref ([0-9a-f]{12})[ \t]*(?=\n\n|\s*\Z)")


def unsent_writes(client, journal, cache, declarations: Declarations, writes: list[Write], run_id: str,
                  lanes: int = 1) -> list[Write]:
    """``writes`` less the notes and tickets the instance already has; the notes looked up
    ``lanes`` requests at once.

    The journal learns each note found (none when ``journal`` is None, as in a dry run)."""
    writes = _without_posted_notes(client, journal, writes, run_id, lanes)
    return _without_existing_tickets(client, cache, declarations, writes)


def posted_refs(client, sys_ids: Iterable[str], lanes: int = 1) -> dict[str, set[str]]:
    """The references of the worker's notes on these records, as the instance holds them."""
    read = lambda chunk: client.list(  # noqa: E731
        JOURNAL_TABLE, Query.where("element_id", "IN", chunk).and_where("value", "LIKE", WORKER_MARK),
        fields=["element_id", "value"])
    with lanes_of(lanes) as pool:
        entries = [entry for found in in_lanes(pool, read, in_batches(sorted(set(sys_ids)))) for entry in found]
    refs: dict[str, set[str]] = {}
    for entry in entries:
        found = _REF.findall(entry.get("value", ""))
        if found:
            refs.setdefault(entry.get("element_id", ""), set()).update(found)
    return refs


def _without_posted_notes(client, journal, writes: list[Write], run_id: str, lanes: int) -> list[Write]:
    noted = [write for write in writes if write.note and write.sys_id]
    if not noted:
        return writes
    found = posted_refs(client, {write.sys_id for write in noted}, lanes)
    kept = []
    for write in writes:
        if write.note and write.sys_id and write.note_ref in found.get(write.sys_id, ()):
            _learn_note(journal, write, run_id)
            write = _without_note(write)
        if write is not None:
            kept.append(write)
    return kept


def _learn_note(journal, write: Write, run_id: str) -> None:
    if journal is None:
        return
    log.info("%s on %s: note %s is already on the instance; not posted again", write.kind,
             write.number or write.target, write.note_ref, extra={"engagement": write.engagement, "rule": write.rule})
    journal.remember_note(write.sys_id, write.note_ref, run_id)
    if write.kind == "flag":
        journal.open_flag(write.engagement, write.rule, write.flag_key, write.table, write.sys_id,
                          write.number, write.flag_message, severity=write.flag_severity, kind=write.flag_kind)


def _without_note(write: Write) -> Write | None:
    """The write's plain fields alone, or None when it only posted the note."""
    if not write.fields:
        return None
    return replace(write, note="", clock_check=None)


Shape = tuple[str, str, str]  # a created record's table, engagement key field and code field


def _without_existing_tickets(client, cache, declarations: Declarations, writes: list[Write]) -> list[Write]:
    creates: dict[Shape, list[Write]] = {}
    for write in writes:
        if write.is_create and write.role in declarations.records:
            creates.setdefault(_shape(declarations, write.role), []).append(write)
    existing: dict[Shape, dict[tuple[str, str], dict]] = {}
    for shape, planned in creates.items():
        existing[shape] = _existing_tickets(client, shape, planned)
        if existing[shape]:
            cache.store(shape[0], list(existing[shape].values()))
    kept = []
    for write in writes:
        shape = _shape(declarations, write.role) if write.is_create and write.role in declarations.records else None
        found = existing.get(shape, {}).get(_identity(shape, write.fields)) if shape else None
        if found is not None:
            log.warning("%s for %s already exists on the instance (%s); not created again", write.target,
                        write.engagement, found.get("number", ""),
                        extra={"engagement": write.engagement, "rule": write.rule})
            continue
        kept.append(write)
    return kept


def _shape(declarations: Declarations, role: str) -> Shape:
    declared = declarations.records[role]
    code = declared.identity.field if declared.identity else ""
    return declared.table, str(declarations.link_of(role).field or ""), code


def _existing_tickets(client, shape: Shape, creates: list[Write]) -> dict[tuple[str, str], dict]:
    table, key_field, code_field = shape
    wanted = {_identity(shape, write.fields) for write in creates}
    keys = sorted({key for key, _ in wanted})
    codes = sorted({code for _, code in wanted})
    found: dict[tuple[str, str], dict] = {}
    for chunk in in_batches(keys):
        query = Query.where(key_field, "IN", chunk).and_where(code_field, "IN", codes)
        for record in client.list(table, query):
            identity = _identity(shape, record)
            if identity in wanted:
                found.setdefault(identity, record)
    return found


def _identity(shape: Shape, fields) -> tuple[str, str]:
    return (str(fields.get(shape[1], "")), str(fields.get(shape[2], "")))
