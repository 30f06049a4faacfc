"""Enforce: send planned writes, then read every one back, because fields fail silently.

The writes go one request per record (``batching``), from ``servicenow.max_parallel_writes``
threads (``send``); each write keeps its own journal entry, outcome and read-back.

The read-backs of a cycle are batched: one list request per table per 100 written records
(``sys_idIN...``), and one per 100 records for the journal entries of the notes. A field that did
not persist is written once more and checked again; what still does not hold is reported.

One fault costs one action, not the cycle: a write that fails after the client's retries fails
alone (with the writes sharing its request) and the others go on. Where ServiceNow may have applied it (the answer was lost, a 5xx
after the commit) its outcome is ``unknown`` and its journal entry stays pending, so it is
settled by looking it up before anything is sent again (``recover.settle_pending``). Only an
instance that cannot be reached at all (``UNREACHABLE_STREAK`` requests in a row find no
connection and nothing got through) or that refuses the credentials ends the cycle.
"""

from __future__ import annotations

import logging
from concurrent.futures import Executor
from datetime import datetime, timedelta
from collections.abc import Collection, Mapping

from ..actions import Write
from ..errors import AuthenticationError, ServiceNowError, UnreachableError
from ..state.journal_actions import ActionFinish
from ..engagement.values import format_sn_datetime, parse_sn_datetime
from ..servicenow.query import Query, in_batches
from .batching import batch
from .lanes import in_lanes
from .send import UNKNOWN, UNREACHABLE_STREAK, Outcome, Sending, lanes_of

log = logging.getLogger(__name__)
JOURNAL_TABLE = "sys_journal_field"
# Journal entries are looked for from a little before the writes began on the instance's clock.
CLOCK_SLACK = timedelta(minutes=10)
NOT_RETURNED = "the record was not returned by its read-back (deleted, or hidden by an ACL)"
__all__ = ["Outcome", "UNKNOWN", "UNREACHABLE_STREAK", "send_and_verify", "verify", "read_back", "finish"]


def send_and_verify(client, journal, run_id: str, writes: list[Write], since: datetime, clock,
                    should_stop=lambda: False, parallel: int = 1) -> list[Outcome]:
    """Send the writes, one request per record from ``parallel`` threads (no new request once
    ``should_stop`` says so), then verify each write of the requests sent.

    ``since`` is a moment on the instance's clock before the first write: the read-back looks
    for the notes posted from then on.
    """
    sending = Sending(client, journal, run_id, clock, parallel)
    with lanes_of(parallel) as pool:
        outcomes = sending.run(batch(writes), should_stop, pool)
        sent = [outcome for outcome in outcomes if outcome.status == "sent"]
        verify(client, sent, since, pool=pool)
        retry = [outcome for outcome in sent if _fields_only_missing(outcome)]
        resend_missing(client, retry)
        if retry:
            verify(client, retry, since, notes=False, pool=pool)
    finish_all(journal, outcomes)
    if sending.down and not any(outcome.status != "failed" for outcome in outcomes):
        raise UnreachableError(sending.last_error, method="write", table=outcomes[-1].write.table if outcomes else "")
    return outcomes


def _fields_only_missing(outcome: Outcome) -> bool:
    """A missing plain field may be written again; a missing note never (it could post twice)."""
    return bool(outcome.missing) and outcome.write.note_field not in outcome.missing


def verify(client, outcomes: list[Outcome], since: datetime, notes: bool = True, pool: Executor | None = None) -> None:
    """Fill each outcome's ``missing``: written fields whose stored value differs; the read-backs
    several at once on ``pool``'s threads, when given.

    A read-back that fails leaves its writes ``unknown`` (settled by the next run); a record the
    read-back does not return is asked for once more, then reported as not returned, which says
    nothing about whether its write saved.
    """
    by_table: dict[str, list[Outcome]] = {}
    for outcome in outcomes:
        by_table.setdefault(outcome.write.table, []).append(outcome)
    for table, group in by_table.items():
        names = sorted({name for outcome in group for name in outcome.write.fields} | {"sys_id"})
        # Several writes may touch one record (a state and a flag): read each record back once.
        stored = _guarded(group, read_back_all, client, table, list(dict.fromkeys(o.sys_id for o in group)), names, pool)
        for outcome in group:
            _compare(outcome, stored)
    if notes:
        _verify_notes(client, [o for o in outcomes if o.write.note and o.status == "sent" and not o.not_returned], since, pool)


def _compare(outcome: Outcome, stored: dict[str, dict] | None) -> None:
    if stored is None:
        return
    record = stored.get(outcome.sys_id)
    outcome.not_returned = record is None
    outcome.missing = {} if record is None else {
        name: str(record.get(name, "(field not returned)"))
        for name, value in outcome.write.fields.items() if str(record.get(name)) != value
    }


def _guarded(outcomes: list[Outcome], read, *args):
    """``read(*args)``, or None with the outcomes left unknown when the read-back fails.

    Unknown outcomes keep their journal entries pending, so the next run settles them."""
    try:
        return read(*args)
    except AuthenticationError:
        raise
    except ServiceNowError as error:
        log.error("reading back %d writes failed: %s; they are checked again by the next run", len(outcomes), error)
        for outcome in outcomes:
            outcome.status, outcome.error = UNKNOWN, f"read-back failed: {error}"
        if isinstance(error, UnreachableError):
            raise  # every try of a read found no connection: the instance is gone for this cycle
        return None


def read_back_all(client, table: str, sys_ids: list[str], fields: list[str], pool: Executor | None = None) -> dict[str, dict]:
    """``read_back``, asking once more for the records the first answer left out."""
    stored = read_back(client, table, sys_ids, fields, pool)
    absent = [sys_id for sys_id in sys_ids if sys_id not in stored]
    if absent:
        stored.update(read_back(client, table, absent, fields, pool))
    return stored


def read_back(client, table: str, sys_ids: list[str], fields: list[str] | None = None,
              pool: Executor | None = None) -> dict[str, dict]:
    """The records by sys_id, one list request per 100; ``fields`` None reads whole rows."""
    read = lambda chunk: client.list(table, Query.where("sys_id", "IN", chunk), fields=fields)  # noqa: E731
    return {record["sys_id"]: record for records in in_lanes(pool, read, in_batches(sys_ids)) for record in records}


def _verify_notes(client, outcomes: list[Outcome], since: datetime, pool: Executor | None = None) -> None:
    if not outcomes:
        return
    refs: dict[str, set[str]] = {}
    for outcome in outcomes:
        refs.setdefault(outcome.sys_id, set()).add(outcome.write.note_ref)
    found = _guarded(outcomes, notes_found, client, refs, format_sn_datetime(since - CLOCK_SLACK), pool)
    for outcome in outcomes if found is not None else ():
        created = found.get((outcome.sys_id, outcome.write.note_ref))
        if created is None:
            outcome.missing[outcome.write.note_field] = "(note not found in the record's journal)"
            continue
        try:
            outcome.stamped_at = parse_sn_datetime(created)
        except ValueError:
            outcome.stamped_at = None


def notes_found(client, refs: Mapping[str, Collection[str]], since: str,
                pool: Executor | None = None) -> dict[tuple[str, str], str]:
    """Which references (``refs``: by record sys_id) a journal entry (work note, comment) on their
    record holds since a time: (sys_id, reference) to the first such entry's ``sys_created_on``.

    Only that is kept of each 100 records' entries, not their texts, which for a cold cycle's
    10,000 notes would add some 13 MB to the worker's peak."""
    fields = ["element_id", "element", "value", "sys_created_on"]

    def read(chunk: list[str]) -> dict[tuple[str, str], str]:
        query = Query.where("element_id", "IN", chunk).and_where("sys_created_on", ">=", since)
        found: dict[tuple[str, str], str] = {}
        for entry in client.list(JOURNAL_TABLE, query, fields=fields):
            sys_id, value = entry.get("element_id", ""), entry.get("value", "")
            for ref in refs.get(sys_id, ()):
                if ref in value:
                    found.setdefault((sys_id, ref), entry.get("sys_created_on", ""))
        return found

    found: dict[tuple[str, str], str] = {}
    for part in in_lanes(pool, read, in_batches(sorted(refs))):
        found.update(part)  # each record's entries are in one chunk
    return found


def resend_missing(client, outcomes: list[Outcome]) -> None:
    """Write the fields that did not persist once more: one request per record, as the first time."""
    by_record: dict[tuple[str, str], list[Outcome]] = {}
    for outcome in outcomes:
        by_record.setdefault((outcome.write.table, outcome.sys_id), []).append(outcome)
    for (table, sys_id), group in by_record.items():
        fields = {name: o.write.fields[name] for o in group for name in o.missing if name in o.write.fields}
        log.warning("%s on %s did not persist %s; writing it once more", ", ".join(o.write.kind for o in group),
                    group[0].number, ", ".join(fields))
        try:
            client.update(table, sys_id, fields)
        except ServiceNowError as error:
            for outcome in group:
                outcome.error = str(error)


def finish_all(journal, outcomes: list[Outcome]) -> None:
    """Judge each outcome and record them all in one transaction; unknown ones stay pending."""
    journal.finish_actions([finished for finished in map(finish, outcomes) if finished is not None])


def finish(outcome: Outcome) -> ActionFinish | None:
    """How the outcome's journal entry ends; None leaves it pending, for the next run to look up."""
    if outcome.status == UNKNOWN:
        return None
    if outcome.status == "sent":
        _judge(outcome)
    return ActionFinish(outcome.journal_id, outcome.status, verification=outcome.verification,
                        error=outcome.error, sys_id=outcome.sys_id, number=outcome.number)


def _judge(outcome: Outcome) -> None:
    if outcome.not_returned:
        outcome.status, outcome.verification = "unverified", NOT_RETURNED
        log.warning("%s on %s: %s", outcome.write.kind, outcome.number or outcome.write.target, NOT_RETURNED,
                    extra=_extra(outcome))
    elif outcome.missing:
        outcome.status = "unverified"
        outcome.verification = "not verified: " + "; ".join(f"{name} reads {value[:60]!r}" for name, value in outcome.missing.items())
        log.error("%s on %s could not be verified: %s", outcome.write.kind, outcome.number or outcome.write.target,
                  outcome.verification, extra=_extra(outcome))
    else:
        outcome.status, outcome.verification = "done", "verified"


def _extra(outcome: Outcome) -> dict[str, str]:
    """The log fields of a write that did not verify (only built when it is logged)."""
    return {"rule": outcome.write.rule, "engagement": outcome.write.engagement, "record": outcome.number}
