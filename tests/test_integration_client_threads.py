"""One real ServiceNowClient called from four threads at once, against the sandbox over loopback.

What parallel writes rely on: every call lands once, the request counter stays exact, and a 429
one thread meets makes the other threads wait too. Waits go to a list instead of time.sleep.
"""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from etiu_worker.servicenow.client import ServiceNowClient
from integration_helpers import TICKETS, sandbox  # noqa: F401 - sandbox is a fixture
from test_integration_client import ENGAGEMENT_TICKETS, settings_for

THREADS = 4


def in_parallel(work, items) -> list:
    """``work(item)`` for every item, on THREADS threads at once; the results in the items' order."""
    with ThreadPoolExecutor(THREADS) as pool:
        return list(pool.map(work, items))


def test_updates_from_four_threads_through_one_client_all_land_and_are_counted_exactly(sandbox):
    tickets = [ticket["sys_id"] for ticket in sandbox.store.query(TICKETS, "correlation_idISNOTEMPTY")]
    notes = [(sys_id, f"parallel note {number} on {sys_id}") for number in range(2) for sys_id in tickets]
    with ServiceNowClient(settings_for(sandbox)) as client:
        in_parallel(lambda sys_id: client.update(TICKETS, sys_id, {"state": "2"}), tickets)
        in_parallel(lambda note: client.update(TICKETS, note[0], {"work_notes": note[1]}), notes)
        counted = client.requests
    stored = Counter((entry["element_id"], entry["value"]) for entry in sandbox.store.journal(TICKETS))
    assert all(stored[note] == 1 for note in notes)  # every note landed, once
    assert all(sandbox.store.get(TICKETS, sys_id)["state"] == "2" for sys_id in tickets)
    assert counted == sandbox.requests == {("PATCH", TICKETS): len(tickets) + len(notes)}


def test_creates_and_reads_from_four_threads_at_once_neither_lose_nor_repeat_anything(sandbox):
    titles = [f"Parallel create {number}" for number in range(40)]
    expected = len(sandbox.store.query(TICKETS, "correlation_idISNOTEMPTY"))

    def create_or_read(title: str) -> int:
        client.create(TICKETS, {"short_description": title})
        return len(client.list(TICKETS, ENGAGEMENT_TICKETS, page_size=7))

    with ServiceNowClient(settings_for(sandbox)) as client:
        read = in_parallel(create_or_read, titles)
        counted = client.requests
    stored = sandbox.store.query(TICKETS, "short_descriptionSTARTSWITHParallel create")
    created = Counter(row["short_description"] for row in stored)
    assert created == Counter(titles)
    assert read == [expected] * len(titles)
    assert counted == sandbox.requests
    assert counted[("POST", TICKETS)] == len(titles)


class FrozenClock:
    """A monotonic clock that stands still, so a hold's end is exactly where the 429 put it."""

    def __call__(self) -> float:
        return 500.0


def test_a_429_one_thread_meets_delays_the_next_request_of_another(sandbox):
    waits: list[tuple[str, float]] = []
    sandbox.faults.retry_after = 2
    sandbox.faults.script = [429]
    sleep = lambda seconds: waits.append((threading.current_thread().name, seconds))  # noqa: E731
    with ServiceNowClient(settings_for(sandbox), sleep=sleep, monotonic=FrozenClock()) as client, \
            ThreadPoolExecutor(1, thread_name_prefix="first") as first, \
            ThreadPoolExecutor(1, thread_name_prefix="second") as second:
        first.submit(client.list, TICKETS, ENGAGEMENT_TICKETS).result()
        second.submit(client.list, TICKETS, ENGAGEMENT_TICKETS).result()
        second.submit(client.list, TICKETS, ENGAGEMENT_TICKETS).result()
    assert waits == [("first_0", 2.0), ("second_0", 2.0)]  # its retry, then the other's first request only
    assert sandbox.requests[("GET", TICKETS)] == 4


def test_writes_reuse_one_kept_pool_and_go_on_through_a_new_one_once_it_was_closed(sandbox):
    tickets = [ticket["sys_id"] for ticket in sandbox.store.query(TICKETS, "correlation_idISNOTEMPTY")][:3]
    with ServiceNowClient(settings_for(sandbox)) as client:
        client.update(TICKETS, tickets[0], {"state": "2"})
        adapter = client._connections.current().session.get_adapter(sandbox.url)
        [kept] = adapter._pools.values()
        client.update(TICKETS, tickets[1], {"state": "2"})
        adapter.poolmanager.clear()
        kept.close()  # a pool its manager dropped, closed (as urllib3 1.x closes one on the way out)
        client.update(TICKETS, tickets[2], {"state": "2"})
        [fresh] = adapter._pools.values()
        counted = client.requests
    assert fresh is not kept
    assert all(sandbox.store.get(TICKETS, sys_id)["state"] == "2" for sys_id in tickets)
    assert counted == sandbox.requests == {("PATCH", TICKETS): 3}
