"""Starting, stopping and restarting the sandbox, and keeping its data in a file across restarts."""

from __future__ import annotations

import threading

import pytest
import requests

from etiu_worker.sandbox import Sandbox


def get(sb: Sandbox, path: str, **params) -> requests.Response:
    return requests.get(f"{sb.url}/api/now/table/{path}", params=params, auth=(sb.user, sb.password), timeout=5)


def test_records_and_journal_survive_a_restart_on_the_same_data_file(tmp_path):
    data = tmp_path / "sandbox.sqlite3"
    with Sandbox(data_path=data).start() as sb:
        created = requests.post(f"{sb.url}/api/now/table/change_request", auth=(sb.user, sb.password),
                                json={"short_description": "Upgrade", "work_notes": "Kept"}, timeout=5).json()["result"]
    with Sandbox(data_path=data).start() as sb:
        again = get(sb, f"change_request/{created['sys_id']}").json()["result"]
        assert again == created
        assert [entry["value"] for entry in sb.store.journal(sys_id=created["sys_id"])] == ["Kept"]


def test_numbers_continue_after_a_restart(tmp_path):
    data = tmp_path / "sandbox.sqlite3"
    with Sandbox(data_path=data) as sb:
        assert sb.store.insert("u_etiu_ticket", {})["number"] == "ETIU0001001"
    with Sandbox(data_path=data) as sb:
        assert sb.store.insert("u_etiu_ticket", {})["number"] == "ETIU0001002"


def test_updates_and_deletes_are_persisted_too(tmp_path):
    data = tmp_path / "sandbox.sqlite3"
    with Sandbox(data_path=data) as sb:
        kept = sb.store.insert("change_task", {"state": "1"})
        gone = sb.store.insert("change_task", {"state": "1"})
        sb.store.update("change_task", kept["sys_id"], {"state": "3"})
        sb.store.delete("change_task", gone["sys_id"])
    with Sandbox(data_path=data) as sb:
        assert [(task["sys_id"], task["state"]) for task in sb.store.query("change_task")] == [(kept["sys_id"], "3")]


def test_the_demo_is_seeded_only_into_an_empty_data_file(tmp_path):
    data = tmp_path / "sandbox.sqlite3"
    with Sandbox(data_path=data, seed_demo=True) as sb:
        count = len(sb.store.query("u_etiu_ticket"))
    with Sandbox(data_path=data, seed_demo=True) as sb:
        assert len(sb.store.query("u_etiu_ticket")) == count > 0


def test_without_a_data_path_nothing_is_kept():
    with Sandbox() as sb:
        sb.store.insert("change_request", {})
    with Sandbox() as sb:
        assert sb.store.query("change_request") == []


def test_the_context_manager_starts_and_stops_the_server():
    with Sandbox() as sb:
        url = sb.url
        assert get(sb, "change_request").status_code == 200
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{url}/api/now/table/change_request", timeout=5)


def test_stop_may_be_called_twice_and_the_store_stays_readable():
    sb = Sandbox().start()
    record = sb.store.insert("change_request", {"short_description": "Still here"})
    sb.stop()
    sb.stop()
    assert sb.store.get("change_request", record["sys_id"])["short_description"] == "Still here"
    with pytest.raises(RuntimeError):
        sb.store.insert("change_request", {})


def test_stop_ends_idle_keep_alive_connections():
    sb = Sandbox().start()
    with requests.Session() as session:
        session.auth = (sb.user, sb.password)
        assert session.get(f"{sb.url}/api/now/table/change_request", timeout=5).status_code == 200
        sb.stop()  # would wait on the idle connection's thread if it were left open
        with pytest.raises(requests.ConnectionError):
            session.get(f"{sb.url}/api/now/table/change_request", timeout=5)


def test_serve_forever_serves_until_stopped_from_another_thread():
    sb = Sandbox()
    ready = threading.Event()
    server = threading.Thread(target=sb.serve_forever, kwargs={"on_ready": lambda _: ready.set()}, daemon=True)
    server.start()
    assert ready.wait(5)
    assert get(sb, "change_request").status_code == 200
    sb.stop()
    server.join(5)
    assert not server.is_alive()


def test_the_url_is_unknown_before_start():
    with pytest.raises(RuntimeError, match="start"):
        Sandbox().url


def test_starting_twice_is_refused():
    with Sandbox() as sb, pytest.raises(RuntimeError, match="already serving"):
        sb.start()
