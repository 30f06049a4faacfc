"""One request per record per cycle, sent from several threads, against the demo sandbox.

The demo's first cycle plans two actions on several records (a work note and a flag on a change
request, a flag and a customer comment on a ticket): each such record gets one PATCH carrying
both, and each action keeps its own journal entry and read-back. Merged notes keep each note's
reference line, so a lost state folder or a crash after the request posts neither again. With
one thread or four the instance ends the same; a stop asked mid-cycle lets the requests in
flight finish and verifies them.
"""

from __future__ import annotations

import logging
import shutil
import threading
from collections import Counter
from datetime import datetime, timezone

import pytest

from etiu_worker.actions import Write
from etiu_worker.cycle import engine, verify as verify_module
from etiu_worker.cycle.batching import NOTE_SEPARATOR, Send, batch
from etiu_worker.cycle.recover import NOTE_FOUND
from etiu_worker.cycle.send import NOT_SENT
from etiu_worker.sandbox import Faults

from safety_helpers import (
    WRITE_METHODS,
    RequestLog,
    assert_same_instance,
    converge,
    in_process_settings,
    journal_entries,
    note_footers,
    pending_actions,
    run_cycle,
    seeded_sandbox,
    snapshot,
    write_requests,
)


@pytest.fixture
def sandbox():
    sb = seeded_sandbox(datetime.now(timezone.utc).date())
    yield sb
    sb.stop()


def parallel(settings, threads: int):
    return settings.model_copy(update={"servicenow": settings.servicenow.model_copy(update={"max_parallel_writes": threads})})


def shared_records(outcomes, note_field: str | None = None) -> dict[tuple[str, str], list]:
    """The records that more than one write of the cycle went to (with a note in ``note_field``)."""
    by_record: dict[tuple[str, str], list] = {}
    for outcome in outcomes:
        if outcome.sys_id and (note_field is None or outcome.write.note_field == note_field and outcome.write.note):
            by_record.setdefault((outcome.write.table, outcome.sys_id), []).append(outcome)
    return {key: group for key, group in by_record.items() if len(group) > 1}


def test_two_actions_on_one_record_go_in_one_request_and_are_journalled_and_verified_each(sandbox, tmp_path):
    settings = in_process_settings(sandbox, tmp_path / "state")
    sandbox.faults = log = RequestLog()

    first = run_cycle(settings)
    outcomes = first.report.outcomes
    records = {(o.write.table, o.sys_id) for o in outcomes if not o.write.is_create}
    creates = sum(o.write.is_create for o in outcomes)
    entries = {entry.id: entry for entry in journal_entries(tmp_path / "state", run_id=first.report.run_id)}

    assert first.exit_code == 0
    assert shared_records(outcomes), "the demo no longer plans two actions on one record"
    assert Counter(log.methods)["PATCH"] == len(records) and Counter(log.methods)["POST"] == creates
    for group in shared_records(outcomes).values():
        assert len({o.journal_id for o in group}) == len(group)
        assert all(entries[o.journal_id].outcome == "done" and entries[o.journal_id].verification == "verified" for o in group)
    sandbox.reset_requests()
    second = run_cycle(settings)
    assert second.exit_code == 0 and not second.report.plan.writes and write_requests(sandbox) == 0


def test_two_work_notes_merged_into_one_keep_both_references_in_order_and_a_lost_state_folder_posts_neither(sandbox, tmp_path):
    state = tmp_path / "state"
    settings = in_process_settings(sandbox, state)
    first = run_cycle(settings)
    merged = shared_records(first.report.outcomes, "work_notes")
    assert merged, "the demo no longer plans two work notes on one record"

    for (table, sys_id), group in merged.items():
        [entry] = sandbox.store.journal(table, sys_id, "work_notes")
        assert [ref for _, ref, _ in note_footers(entry["value"])] == [o.write.note_ref for o in group]
        assert entry["value"] == NOTE_SEPARATOR.join(o.write.note for o in group)
    shutil.rmtree(state)
    sandbox.reset_requests()

    again = run_cycle(settings)

    assert again.exit_code == 0 and not again.report.plan.writes and write_requests(sandbox) == 0
    assert not snapshot(sandbox).duplicate_notes


class Crash(BaseException):
    """The worker dying between its requests and the record of their outcomes."""


def test_a_crash_after_a_merged_request_settles_each_of_its_actions_and_posts_nothing_twice(sandbox, tmp_path, monkeypatch):
    state = tmp_path / "state"
    settings = in_process_settings(sandbox, state)

    def crash(*args, **kwargs):
        raise Crash()

    with monkeypatch.context() as patched:
        patched.setattr(verify_module, "verify", crash)
        with pytest.raises(Crash):
            run_cycle(settings)
    pending = {entry.id: entry for entry in pending_actions(state)}
    noted = [entry for entry in pending.values() if entry.note_key and entry.sys_id]  # a create is found again, not settled
    by_record = Counter((entry.table, entry.sys_id) for entry in noted if entry.after.get("work_notes"))
    assert any(count > 1 for count in by_record.values()), "no merged work notes were left pending"
    sandbox.reset_requests()

    rerun = run_cycle(settings)

    settled = {entry.id: entry for entry in journal_entries(state) if entry.id in pending}
    assert rerun.exit_code == 0 and not pending_actions(state)
    assert all(settled[entry.id].outcome == "done" and settled[entry.id].verification == NOTE_FOUND for entry in noted)
    assert not snapshot(sandbox).duplicate_notes
    assert not run_cycle(settings).report.plan.writes


def test_one_thread_and_four_leave_the_instance_the_same(tmp_path):
    today = datetime.now(timezone.utc).date()
    ends = []
    for threads in (1, 4):
        sb = seeded_sandbox(today)
        try:
            cycles = converge(parallel(in_process_settings(sb, tmp_path / f"state-{threads}"), threads))
            assert [cycle.exit_code for cycle in cycles] == [0] * len(cycles)
            ends.append(snapshot(sb))
        finally:
            sb.stop()

    assert_same_instance(ends[1], ends[0])


def test_writes_to_one_record_keep_their_planned_order_and_the_later_value_wins():
    def write(rule: str, **values: str) -> Write:
        note = values.pop("note", "")
        return Write(rule=rule, engagement="E", kind="set_field", table="t", sys_id="s1", number="T1", target="t",
                     fields=values, note_field="work_notes" if note else "", note=note, note_ref=rule * 12 if note else "")

    planned = [write("a", u_x="1", note="first"), write("b", u_y="2"), write("c", u_x="3", note="second")]
    other = Write(rule="d", engagement="E", kind="set_state", table="t", sys_id="s2", number="T2", target="t", fields={"state": "3"})

    sends = batch([planned[0], other, planned[1], planned[2]])

    assert [len(send.writes) for send in sends] == [3, 1]
    assert sends[0].payload() == {"u_x": "3", "u_y": "2", "work_notes": "first\n\nsecond"}
    assert dict(sends[0].writes[0].fields) == {}  # rule a's u_x is rule c's now: a keeps its note only
    assert isinstance(sends[1], Send) and sends[1].payload() == {"state": "3"}


class StopAfterWrites(Faults):
    """Says stop once ``n`` write requests reached the instance."""

    def __init__(self, n: int) -> None:
        super().__init__()
        self.n, self.seen, self._lock = n, 0, threading.Lock()

    def next_fault(self, method: str):  # type: ignore[override]
        with self._lock:
            self.seen += method.upper() in WRITE_METHODS
        return super().next_fault(method)

    def should_stop(self) -> bool:
        with self._lock:
            return self.seen >= self.n


def test_a_stop_asked_mid_cycle_finishes_the_requests_in_flight_and_verifies_them(sandbox, tmp_path, monkeypatch):
    state = tmp_path / "state"
    settings = in_process_settings(sandbox, state)
    sandbox.faults = stop = StopAfterWrites(2)
    cycle = engine.run_cycle
    monkeypatch.setattr(engine, "run_cycle", lambda *args, **kwargs: cycle(*args, **{**kwargs, "should_stop": stop.should_stop}))

    stopped = run_cycle(settings)
    outcomes = stopped.report.outcomes
    requests = {(o.write.table, o.sys_id or o.journal_id) for o in outcomes}

    assert stopped.exit_code == 0
    assert 2 <= write_requests(sandbox) == len(requests) < len(stopped.report.plan.writes)
    assert [o.status for o in outcomes] == ["done"] * len(outcomes)
    assert not pending_actions(state)
    withdrawn = [entry for entry in journal_entries(state, run_id=stopped.report.run_id) if entry.outcome == "planned"]
    assert withdrawn and all(entry.error == NOT_SENT for entry in withdrawn)
    monkeypatch.setattr(engine, "run_cycle", cycle)
    assert [c.exit_code for c in converge(settings)] in ([0, 0], [0, 0, 0])


def test_a_cycle_logged_at_info_tells_each_write_sent_with_its_run_rule_engagement_and_record(sandbox, tmp_path, caplog):
    settings = in_process_settings(sandbox, tmp_path / "state")
    caplog.set_level(logging.INFO, logger="etiu_worker.cycle.send")

    first = run_cycle(settings)

    told = [(r.run, r.rule, r.engagement, r.record, r.action) for r in caplog.records
            if r.name == "etiu_worker.cycle.send" and hasattr(r, "action")]
    sent = [(first.report.run_id, o.write.rule, o.write.engagement, o.write.number or o.write.target, o.write.kind)
            for o in first.report.outcomes]
    assert sent and Counter(told) == Counter(sent)


def test_a_cycle_logged_at_warning_tells_no_write_that_went_well(sandbox, tmp_path, caplog):
    settings = in_process_settings(sandbox, tmp_path / "state")
    caplog.set_level(logging.WARNING, logger="etiu_worker.cycle.send")

    first = run_cycle(settings)

    assert first.report.outcomes and not first.report.failed
    assert not [r for r in caplog.records if r.name == "etiu_worker.cycle.send"]
