"""The read-backs of a cycle's writes go several at once on the write lanes' threads
(cycle/lanes.py), as do the freshness checks before them and a first sight's history reads, and
fail as they would one after another; a free write lane is kept busy."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from functools import partial

import pytest

from etiu_worker.actions import Write
from etiu_worker.cycle.batching import batch
from etiu_worker.engagement.history import read_field_history
from etiu_worker.cycle.freshness import fresh_writes
from etiu_worker.cycle.instance_lookup import posted_refs
from etiu_worker.cycle.lanes import in_lanes
from etiu_worker.cycle.send import Sending
from etiu_worker.cycle.verify import read_back
from etiu_worker.state.journal import Journal


class TwoAtOnceClient:
    """A client whose list requests each wait until another one is in flight: one after another,
    the first would wait for ever (the barrier gives up after 10 s and the test fails)."""

    def __init__(self) -> None:
        self.together = threading.Barrier(2, timeout=10)
        self.asked: list[list[str]] = []

    def list(self, table, query, fields=None):
        ids = str(query).split("IN", 1)[1].split(",")
        self.asked.append(ids)
        self.together.wait()
        return [] if table == "sys_journal_field" else [{"sys_id": sys_id.strip()} for sys_id in ids]


def test_read_backs_of_two_hundred_records_are_sent_at_once_on_two_lanes():
    client = TwoAtOnceClient()
    sys_ids = [f"{number:032d}" for number in range(200)]
    with ThreadPoolExecutor(max_workers=2) as pool:
        stored = read_back(client, "u_etiu_ticket", sys_ids, ["sys_id"], pool)
    assert sorted(stored) == sys_ids
    assert len(client.asked) == 2


def test_results_come_in_the_order_of_the_items():
    with ThreadPoolExecutor(max_workers=4) as pool:
        assert in_lanes(pool, lambda n: n * n, range(20)) == [n * n for n in range(20)]


def test_without_lanes_the_calls_are_made_here_one_after_another():
    threads = in_lanes(None, lambda _: threading.current_thread(), range(3))
    assert threads == [threading.current_thread()] * 3


def test_the_first_failure_in_item_order_is_raised():
    def call(n):
        if n in (3, 7):
            raise LookupError(f"item {n}")
        return n

    with ThreadPoolExecutor(max_workers=4) as pool, pytest.raises(LookupError, match="item 3"):
        in_lanes(pool, call, range(10))


def test_a_cold_cycles_look_up_of_posted_notes_goes_two_at_once_on_two_lanes():
    client = TwoAtOnceClient()
    assert posted_refs(client, [f"{number:032d}" for number in range(200)], lanes=2) == {}
    assert len(client.asked) == 2


class ChecklistThenUpdateClient:
    """The first create waits (up to 10 s) until the update to another record has started: one
    lane kept busy with a checklist while the other stays idle would make the update come late."""

    def __init__(self) -> None:
        self.update_started = threading.Event()
        self.calls: list[str] = []

    def create(self, table, payload):
        self.calls.append(payload["short_description"])
        if len(self.calls) == 1:
            self.update_started.wait(timeout=10)
        return {"sys_id": f"{len(self.calls):032d}", "number": f"TASK{len(self.calls)}", **payload}

    def update(self, table, sys_id, payload):
        self.calls.append(f"update {sys_id}")
        self.update_started.set()
        return {"sys_id": sys_id, **payload}


def test_a_free_lane_takes_a_later_record_while_a_long_checklist_holds_the_other(tmp_path):
    creates = [Write(rule="checklist", engagement="E1", kind="create_record", table="task", sys_id="", number="", target="task",
                     fields={"short_description": f"step {number}"}) for number in range(40)]
    update = Write(rule="close", engagement="E2", kind="set_state", table="task", sys_id="s2", number="TASK0",
                   target="task", fields={"state": "3"})
    client = ChecklistThenUpdateClient()
    with Journal.open(tmp_path) as journal:
        outcomes = Sending(client, journal, "run1", lambda: None, parallel=2).run(batch([*creates, update]))
    assert client.calls.index("update s2") == 1
    assert [call for call in client.calls if call.startswith("step")] == [f"step {n}" for n in range(40)]
    assert [outcome.status for outcome in outcomes] == ["sent"] * 41  # verified by the caller


class Cache:
    """The record cache's one method the freshness check calls: the rows that moved go in."""

    def __init__(self) -> None:
        self.stored: list[dict] = []

    def store(self, table, rows):
        self.stored += rows


def test_the_freshness_checks_of_two_hundred_records_go_two_at_once_on_two_lanes():
    client = TwoAtOnceClient()
    writes = [Write(rule="close", engagement="E1", kind="set_state", table="u_etiu_ticket", sys_id=f"{n:032d}",
                    number=f"TICKET{n}", target="ticket", fields={"state": "3"}) for n in range(200)]
    assert fresh_writes(client, Cache(), writes, {}, lanes=2) == writes
    assert len(client.asked) == 2


def test_a_first_sights_history_of_two_hundred_records_is_read_two_at_once_on_two_lanes():
    client = TwoAtOnceClient()
    with ThreadPoolExecutor(max_workers=2) as pool:
        found = read_field_history(client, "u_etiu_ticket", [f"{n:032d}" for n in range(200)], "short_description",
                                   partial(in_lanes, pool))
    assert found is not None and len(client.asked) == 2
