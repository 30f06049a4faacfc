"""Send the merged requests of a cycle (``batching.Send``) from a pool of threads.

Every action's journal entry is recorded ``pending`` before its request leaves: the entries of the
next ``CHUNK_PER_THREAD`` × threads requests are recorded in one transaction, then those requests
are handed to the threads as they come free, lane by lane: there is one request per record, and
one engagement's creates on a table go one after another (a checklist numbered in its steps' order).
When a thread is free but every request recorded waits for its lane (a chunk of one checklist's
creates), the next chunk is recorded, up to ``READY_CHUNKS`` chunks ahead, so that the free
threads have work. The journal is only touched from the calling thread.

Asked to stop (``should_stop``), or once the instance cannot be reached (``UNREACHABLE_STREAK``
requests in a row, counted as they complete, find no connection), no request is started any
more; those in flight are finished and their outcomes returned, to be verified by the caller.
The entries recorded for requests that never started are withdrawn (``planned``: decided, not
sent), so no run has to settle them.
"""

from __future__ import annotations

import logging
from collections import deque
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from queue import Empty, SimpleQueue

from ..actions import Write
from ..errors import AuthenticationError, NotFoundError, ServiceNowError, UnreachableError
from ..state.journal import ActionRecord
from ..state.journal_actions import ActionFinish
from .batching import Send
from ..engagement.sharing import shared

log = logging.getLogger(__name__)
UNREACHABLE_STREAK = 5  # requests in a row without a connection: the instance is down, stop sending
UNKNOWN = "unknown"  # sent, but whether ServiceNow applied it is not known: settled next run
CHUNK_PER_THREAD = 8  # requests journalled per transaction, per thread
READY_CHUNKS = 4  # chunks recorded ahead at most while free threads find no request whose lane is free
NOT_SENT = "not sent: the run stopped before this write; the next cycle decides again"


def lanes_of(parallel: int, *, always: bool = False):
    """The write lanes' threads, as a context; with one lane, none (the caller sends itself)
    unless ``always``."""
    if parallel <= 1 and not always:
        return nullcontext(None)
    return ThreadPoolExecutor(max_workers=max(1, parallel), thread_name_prefix="etiu-write")


@dataclass(slots=True)
class Outcome:
    write: Write
    status: str = "pending"  # done, failed, unverified, unknown
    verification: str = ""
    error: str = ""
    sys_id: str = ""
    number: str = ""
    journal_id: int = 0
    missing: dict[str, str] = field(default_factory=dict)
    saved: dict = field(default_factory=dict)  # the record as ServiceNow answered the write
    unreachable: bool = False  # failed because no connection could be made
    gone: bool = False  # the record written to does not exist (deleted since it was read)
    not_returned: bool = False  # the read-back did not return the record
    sent_at: datetime | None = None  # the worker's clock when the write was sent
    stamped_at: datetime | None = None  # the instance's time stamp on the note it posted


class Sending:
    """One round of requests; ``down`` says whether it ended because the instance was unreachable."""

    def __init__(self, client, journal, run_id: str, clock, parallel: int = 1) -> None:
        self.client, self.journal, self.run_id, self.clock = client, journal, run_id, clock
        self.parallel = max(1, parallel)
        self.down = False
        self.last_error = ""
        self._streak = 0
        self._ready: deque[tuple[Send, list[Outcome]]] = deque()  # recorded pending, not started
        self._flight: dict[Future, tuple[Send, list[Outcome]]] = {}
        self._done: SimpleQueue[Future] = SimpleQueue()  # requests in flight that completed, in that order
        self._started: set[int] = set()  # journal ids of the outcomes whose request left
        self._texts: dict[str, str] = {}  # the answers' values, one string each (engagement/sharing.py)

    def run(self, sends: list[Send], should_stop=lambda: False, lanes: Executor | None = None) -> list[Outcome]:
        """The outcomes of the requests started, in planned order, sent on ``lanes`` (threads of
        their own when not given); raises AuthenticationError."""
        waiting, recorded = deque(sends), []
        with nullcontext(lanes) if lanes is not None else lanes_of(self.parallel, always=True) as pool:
            try:
                while (waiting or self._ready) and not self._stopping(should_stop, waiting):
                    if not self._ready:
                        recorded += self._record(waiting)
                    submitted = self._submit(pool)
                    if not submitted and self._starved(waiting):
                        recorded += self._record(waiting)
                        continue
                    self._collect(block=len(self._flight) >= self.parallel or not submitted)
                while self._flight:
                    self._collect(block=True)
            finally:
                self._withdraw()
        return [outcome for outcome in recorded if outcome.journal_id in self._started]

    def _stopping(self, should_stop, waiting) -> bool:
        if self.down:
            return True
        if not should_stop():
            return False
        left = len(waiting) + len(self._ready)
        log.info("stopping: %d planned requests left for the next run", left)
        return True

    def _starved(self, waiting: deque[Send]) -> bool:
        """A thread is free, no request recorded may take it, and more may be recorded."""
        chunk = CHUNK_PER_THREAD * self.parallel
        return bool(waiting) and len(self._flight) < self.parallel and len(self._ready) < READY_CHUNKS * chunk

    def _record(self, waiting: deque[Send]) -> list[Outcome]:
        """Journal the next chunk of requests' actions as pending, in one transaction."""
        chunk = [waiting.popleft() for _ in range(min(len(waiting), CHUNK_PER_THREAD * self.parallel))]
        outcomes = [[_outcome(write) for write in send.writes] for send in chunk]
        flat = [outcome for group in outcomes for outcome in group]
        ids = self.journal.record_actions([_entry(self.run_id, outcome.write) for outcome in flat])
        for outcome, journal_id in zip(flat, ids):
            outcome.journal_id = journal_id
        self._ready.extend(zip(chunk, outcomes))
        return flat

    def _submit(self, pool) -> bool:
        """Start the first ready request whose lane is free; False when every lane is busy."""
        busy = {_lane(send) for send, _ in self._flight.values()}
        ready = next((item for item in self._ready if _lane(item[0]) not in busy), None)
        if ready is None:
            return False
        self._ready.remove(ready)
        send, outcomes = ready
        sent_at = self.clock()
        for outcome in outcomes:
            outcome.sent_at = sent_at
            self._started.add(outcome.journal_id)
        future = pool.submit(_request, self.client, send)
        self._flight[future] = (send, outcomes)
        future.add_done_callback(self._done.put)
        return True

    def _collect(self, block: bool) -> None:
        """Take in the requests that completed (waiting for one when ``block``).

        A queue the futures put themselves in as they complete, not ``concurrent.futures.wait``,
        which hooks a waiter onto every request in flight at each call: thousands a cold cycle."""
        try:
            future = self._done.get(block=block and bool(self._flight))
        except Empty:
            return
        while True:
            self._complete(future, *self._flight.pop(future))
            try:
                future = self._done.get_nowait()
            except Empty:
                return

    def _complete(self, future: Future, send: Send, outcomes: list[Outcome]) -> None:
        try:
            saved = future.result()
        except AuthenticationError as error:
            self._refused(outcomes, error)
            raise
        except ServiceNowError as error:
            for outcome in outcomes:
                _failed(outcome, error, _extra(self.run_id, outcome.write))
            self.last_error = str(error)
            self._count(all(outcome.unreachable for outcome in outcomes))
            return
        self._count(False)
        if type(saved) is dict:  # kept to the cycle's end: its names and repeated values shared
            saved = shared((saved,), self._texts)[0]
        for outcome in outcomes:
            _sent(outcome, saved, send, self.run_id)

    def _refused(self, outcomes: list[Outcome], error: AuthenticationError) -> None:
        for outcome in outcomes:
            outcome.status, outcome.error = "failed", str(error)
        self.journal.finish_actions([ActionFinish(o.journal_id, "failed", error=str(error)) for o in outcomes])

    def _count(self, unreachable: bool) -> None:
        self._streak = self._streak + 1 if unreachable else 0
        if self._streak >= UNREACHABLE_STREAK and not self.down:
            self.down = True
            log.error("%d requests in a row found no connection to ServiceNow; the planned writes left are for the next run",
                      UNREACHABLE_STREAK)

    def _withdraw(self) -> None:
        ids = [outcome.journal_id for _, outcomes in self._ready for outcome in outcomes]
        self._ready.clear()
        if ids:
            self.journal.withdraw_actions(ids, NOT_SENT)


def _lane(send: Send) -> tuple[str, ...]:
    """Requests in one lane go one after another: those to one record, and one engagement's
    creates on one table, so that a checklist's records are numbered in the order of its steps."""
    if send.is_create:
        return ("create", send.table, send.first.engagement)
    return ("update", send.table, send.sys_id)


def _request(client, send: Send) -> dict:
    """The one HTTP request of a send (in a pool thread): the record as ServiceNow answered."""
    if send.is_create:
        return client.create(send.table, send.payload())
    return client.update(send.table, send.sys_id, send.payload())


def _outcome(write: Write) -> Outcome:
    return Outcome(write, sys_id=write.sys_id, number=write.number)


def _entry(run_id: str, write: Write) -> ActionRecord:
    return ActionRecord(
        run_id=run_id, rule=write.rule, engagement=write.engagement, table=write.table,
        sys_id=write.sys_id, number=write.number, target=write.target, kind=write.kind,
        before=dict(write.before), after=_after(write), note_key=write.note_ref if write.note else "",
    )


def _after(write: Write) -> dict[str, str]:
    after = dict(write.fields)
    if write.note:
        after[write.note_field] = write.note
    return after


def _extra(run_id: str, write: Write) -> dict:
    return {"run": run_id, "rule": write.rule, "engagement": write.engagement,
            "record": write.number or write.target, "action": write.kind}


def _sent(outcome: Outcome, saved: dict, send: Send, run_id: str) -> None:
    outcome.saved, outcome.status = saved, "sent"
    if send.is_create:
        outcome.sys_id, outcome.number = saved.get("sys_id", ""), saved.get("number", "")
    if log.isEnabledFor(logging.INFO):  # thousands of writes a cold cycle: no line, no fields to build
        log.info("%s on %s %s", outcome.write.kind, outcome.write.target, outcome.number,
                 extra=_extra(run_id, outcome.write))


def _failed(outcome: Outcome, error: ServiceNowError, extra: dict) -> None:
    """A write that failed after the client's retries: unknown where ServiceNow may have acted."""
    outcome.error = str(error)
    outcome.gone = isinstance(error, NotFoundError)
    outcome.unreachable = isinstance(error, UnreachableError) and not error.maybe_applied
    if error.maybe_applied:
        outcome.status = UNKNOWN
        log.error("%s on %s: %s; ServiceNow may have applied it, it is looked up before anything is sent again",
                  outcome.write.kind, outcome.write.number or outcome.write.target, error, extra=extra)
        return
    outcome.status = "failed"
    log.error("%s on %s failed: %s", outcome.write.kind, outcome.write.number or outcome.write.target, error, extra=extra)
