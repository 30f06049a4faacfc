"""Reads that hold while a person edits: keyset paging and the instance's clock, over HTTP.

A ``Faults`` subclass acts on the sandbox's store just before a chosen request is served, as a
person deleting or creating records between two pages of the worker's read would.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone

import pytest

from etiu_worker.sandbox import Faults
from etiu_worker.servicenow.client import ServiceNowClient
from integration_helpers import TICKETS, sandbox  # noqa: F401 - sandbox is a fixture
from test_integration_client import ENGAGEMENT_TICKETS, settings_for, stored_tickets

PAGE = 5
BEFORE_ALL = "00000000000000000000000000000000"
AFTER_ALL = "ffffffffffffffffffffffffffff"


class BeforeEachGet(Faults):
    """Calls ``act(n)`` just before the n-th GET (1-based) is served."""

    def __init__(self, act: Callable[[int], object]) -> None:
        super().__init__()
        self._act = act
        self.gets = 0

    def next_fault(self, method: str):  # type: ignore[override]
        if method.upper() == "GET":
            self.gets += 1
            self._act(self.gets)
        return super().next_fault(method)


def ids_in_key_order(sb) -> list[str]:
    return sorted(record["sys_id"] for record in stored_tickets(sb))


def a_ticket_with_id(sb, sys_id: str) -> None:
    sb.store.insert(TICKETS, {"sys_id": sys_id, "correlation_id": "ENG-PAGING", "short_description": "new"})


def read_all(sb) -> list[str]:
    with ServiceNowClient(settings_for(sb), sleep=lambda _: None) as client:
        return [record["sys_id"] for record in client.list(TICKETS, ENGAGEMENT_TICKETS, page_size=PAGE)]


def test_rows_deleted_behind_the_read_hide_no_other_row(sandbox):
    original = ids_in_key_order(sandbox)
    assert len(original) > 3 * PAGE

    def delete_rows_already_read(get: int) -> None:
        if get in (2, 3):  # a person deletes three rows of the page just read
            for sys_id in original[(get - 2) * PAGE:(get - 2) * PAGE + 3]:
                sandbox.store.delete(TICKETS, sys_id)

    sandbox.faults = BeforeEachGet(delete_rows_already_read)

    read = read_all(sandbox)

    assert read == original  # every row read once; offset paging skipped 3 rows per deletion


def test_rows_created_behind_the_read_repeat_no_row_and_rows_created_ahead_are_read(sandbox):
    original = ids_in_key_order(sandbox)
    behind = [f"{BEFORE_ALL[:-1]}{digit}" for digit in "123"]
    ahead = [f"{AFTER_ALL}{digit:04d}" for digit in range(3)]

    def create_rows_between_pages(get: int) -> None:
        if get == 2:
            for sys_id in behind + ahead:
                a_ticket_with_id(sandbox, sys_id)

    sandbox.faults = BeforeEachGet(create_rows_between_pages)

    read = read_all(sandbox)

    assert len(read) == len(set(read))  # offset paging read the last rows of page 1 again
    assert read == original + ahead  # the ones behind the key come with the next read


def test_a_row_deleted_ahead_of_the_read_is_not_read_and_no_other_is_lost(sandbox):
    original = ids_in_key_order(sandbox)
    gone = original[2 * PAGE + 1]

    sandbox.faults = BeforeEachGet(lambda get: get == 2 and sandbox.store.delete(TICKETS, gone))

    assert read_all(sandbox) == [sys_id for sys_id in original if sys_id != gone]


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 50.0

    def __call__(self) -> float:
        return self.now


def test_instance_now_follows_the_sandbox_date_header_and_runs_on(sandbox):
    clock = FakeMonotonic()
    with ServiceNowClient(settings_for(sandbox), monotonic=clock) as client:
        assert client.instance_now() is None
        before = datetime.now(timezone.utc).replace(microsecond=0)
        client.list(TICKETS, ENGAGEMENT_TICKETS)
        after = datetime.now(timezone.utc)
        stamped = client.instance_now()
        clock.now += 3600

        assert stamped is not None and stamped.tzinfo is not None
        assert before <= stamped <= after  # the Date header has whole seconds
        assert client.instance_now() == stamped + timedelta(hours=1)


@pytest.mark.parametrize("deleted_on_get", [2, 3])
def test_a_deletion_on_any_page_boundary_costs_no_extra_request(sandbox, deleted_on_get):
    original = ids_in_key_order(sandbox)
    sandbox.faults = BeforeEachGet(
        lambda get: get == deleted_on_get and sandbox.store.delete(TICKETS, original[0]))
    read_all(sandbox)
    pages = -(-len(original) // PAGE)
    assert sandbox.requests[("GET", TICKETS)] <= pages  # the count from each page on says when to stop
