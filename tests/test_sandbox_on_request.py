"""A person acting during a cycle (``Sandbox.on_request``), and keyset paging that survives them."""

from __future__ import annotations

import threading

import pytest
import requests

from sandbox_helpers import http, sb, url  # noqa: F401 - fixtures

TASKS = "change_task"


@pytest.fixture
def twelve(sb):
    """Twelve CTASKs, in sys_id order."""
    created = [sb.store.insert(TASKS, {"short_description": f"Task {n}"}) for n in range(12)]
    return sorted(record["sys_id"] for record in created)


def ids(response: requests.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [record["sys_id"] for record in response.json()["result"]]


def read_by_offset(sb, http, limit: int) -> list[str]:
    seen, offset = [], 0
    while True:
        page = ids(http.get(url(sb, TASKS), params={"sysparm_query": "ORDERBYsys_id", "sysparm_limit": limit,
                                                    "sysparm_offset": offset}))
        seen += page
        if len(page) < limit:
            return seen
        offset += limit


def read_by_key(sb, http, limit: int) -> list[str]:
    seen: list[str] = []
    while True:
        after = f"sys_id>{seen[-1]}^" if seen else ""
        page = ids(http.get(url(sb, TASKS), params={"sysparm_query": f"{after}ORDERBYsys_id", "sysparm_limit": limit}))
        seen += page
        if len(page) < limit:
            return seen


def test_the_hook_sees_every_request_with_its_method_table_and_parameters(sb, http, twelve):
    calls = []
    sb.on_request = lambda method, table, params: calls.append((method, table, params))
    http.get(url(sb, TASKS), params={"sysparm_query": "state=1", "sysparm_limit": "5"})
    http.patch(url(sb, TASKS, twelve[0]), json={"state": "3"})
    requests.get(url(sb, TASKS))  # refused (no credentials), still seen
    http.get(f"{sb.url}/not/the/table/api")
    assert calls == [
        ("GET", TASKS, {"sysparm_query": "state=1", "sysparm_limit": "5"}),
        ("PATCH", TASKS, {}),
        ("GET", TASKS, {}),
        ("GET", "", {}),
    ]


def test_the_hook_runs_before_the_request_is_served_so_its_edit_is_in_the_answer(sb, http, twelve):
    def person_closes_the_task(method, table, params):
        if method == "GET":
            sb.store.update(TASKS, twelve[0], {"state": "3"}, user="aja.d")

    sb.on_request = person_closes_the_task
    answer = http.get(url(sb, TASKS, twelve[0])).json()["result"]
    assert (answer["state"], answer["sys_updated_by"]) == ("3", "aja.d")


def test_a_person_editing_between_the_read_and_the_write_is_overwritten_by_a_blind_write(sb, http, twelve):
    read = http.get(url(sb, TASKS, twelve[0])).json()["result"]
    sb.on_request = lambda method, table, params: (
        sb.store.update(TASKS, twelve[0], {"short_description": "Typed by a person"}) if method == "PATCH" else None)
    written = http.patch(url(sb, TASKS, twelve[0]), json={"short_description": "Stale plan"}).json()["result"]
    assert written["short_description"] == "Stale plan"
    assert int(written["sys_mod_count"]) == int(read["sys_mod_count"]) + 2  # what a freshness check would see


def test_the_hook_runs_outside_the_store_lock(sb, http, twelve):
    finished = []

    def another_thread_writes(method, table, params):
        writer = threading.Thread(target=lambda: finished.append(sb.store.update(TASKS, twelve[1], {"state": "2"})))
        writer.start()
        writer.join(timeout=5)  # would time out if the handler held the store lock here

    sb.on_request = another_thread_writes
    assert http.get(url(sb, TASKS, twelve[1])).json()["result"]["state"] == "2"
    assert len(finished) == 1


def test_a_hook_that_raises_gives_a_500_and_the_next_request_is_served(sb, http, twelve, capsys):
    def broken(method, table, params):
        raise RuntimeError("a bug in the test's hook")

    sb.on_request = broken
    response = http.get(url(sb, TASKS))
    assert (response.status_code, response.json()["status"]) == (500, "failure")
    assert "a bug in the test's hook" in capsys.readouterr().err
    sb.on_request = None
    assert http.get(url(sb, TASKS)).status_code == 200


def test_keyset_paging_reads_every_record_once_in_sys_id_order(sb, http, twelve):
    assert read_by_key(sb, http, limit=5) == twelve


def test_keyset_paging_sends_no_offset_and_compares_sys_ids_as_text(sb, http):
    for sys_id in ("9", "10", "a1", "0b"):
        sb.store.insert(TASKS, {"sys_id": sys_id})
    assert ids(http.get(url(sb, TASKS), params={"sysparm_query": "sys_id>9^ORDERBYsys_id"})) == ["a1"]
    assert ids(http.get(url(sb, TASKS), params={"sysparm_query": "ORDERBYsys_id"})) == ["0b", "10", "9", "a1"]


def deletes_after_first_page(sb, victims: list[str]):
    """A person deleting ``victims`` once the first page of the read has been answered."""
    requests_seen = []

    def hook(method, table, params):
        requests_seen.append(params)
        if len(requests_seen) == 2:
            for sys_id in victims:
                sb.store.delete(TASKS, sys_id)

    return hook


def test_a_delete_between_pages_hides_surviving_rows_from_an_offset_read(sb, http, twelve):
    sb.on_request = deletes_after_first_page(sb, twelve[:2])
    assert read_by_offset(sb, http, limit=4) == twelve[:4] + twelve[6:]  # twelve[4:6] never seen


def test_a_delete_between_pages_hides_nothing_from_a_keyset_read(sb, http, twelve):
    sb.on_request = deletes_after_first_page(sb, twelve[:2])
    assert read_by_key(sb, http, limit=4) == twelve  # the first page was read before the delete
