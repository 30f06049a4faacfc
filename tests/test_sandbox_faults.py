"""Fault injection: the sandbox fails the way real instances do, when and as often as a test asks."""

from __future__ import annotations

import base64
import socket
import time
from collections import Counter
from urllib.parse import urlsplit

import pytest
import requests

from etiu_worker.sandbox import Faults, Sandbox


@pytest.fixture
def sb():
    with Sandbox().start() as sandbox:
        yield sandbox


@pytest.fixture
def http(sb):
    with requests.Session() as session:
        session.auth = (sb.user, sb.password)
        yield session


@pytest.fixture
def change(sb):
    return sb.store.insert("change_request", {"short_description": "Upgrade", "start_date": "2026-11-24 23:00:00"})


def url(sb: Sandbox, table: str = "change_request", sys_id: str = "") -> str:
    return f"{sb.url}/api/now/table/{table}" + (f"/{sys_id}" if sys_id else "")


def test_latency_is_added_to_every_request(sb, http):
    sb.faults.latency = 0.2
    started = time.perf_counter()
    assert http.get(url(sb)).status_code == 200
    assert time.perf_counter() - started >= 0.2


def test_a_scripted_429_carries_retry_after_rate_limit_headers_and_the_envelope(sb, http):
    sb.faults.retry_after = 7
    sb.faults.script = [429]
    response = http.get(url(sb))
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "7"
    assert {"X-RateLimit-Limit", "X-RateLimit-Reset", "X-RateLimit-Rule"} <= set(response.headers)
    assert int(response.headers["X-RateLimit-Reset"]) >= int(time.time())
    assert response.json()["error"]["message"] == "Rate limit exceeded"
    assert response.json()["status"] == "failure"


def test_the_next_two_requests_fail_with_503_then_succeed(sb, http):
    sb.faults.script = [503, 503]
    assert [http.get(url(sb)).status_code for _ in range(3)] == [503, 503, 200]
    assert sb.faults.script == []


def test_a_none_in_the_script_serves_that_request_normally(sb, http):
    sb.faults.rate_5xx = 1.0
    sb.faults.script = [None]
    assert http.get(url(sb)).status_code == 200
    assert http.get(url(sb)).status_code in (500, 502, 503, 504)


def test_a_500_has_the_json_envelope_and_gateway_errors_are_html(sb, http):
    sb.faults.script = [500, 502, 504]
    assert http.get(url(sb)).json()["status"] == "failure"
    for status in (502, 504):
        response = http.get(url(sb))
        assert response.status_code == status
        assert response.headers["Content-Type"].startswith("text/html")


def test_random_5xx_use_the_gateway_statuses_too(sb, http):
    sb.faults = Faults(rate_5xx=1.0, seed=3)
    assert {http.get(url(sb)).status_code for _ in range(40)} == {500, 502, 503, 504}


def test_a_dropped_connection_raises_connection_error_and_the_next_request_works(sb, http):
    sb.faults.script = ["drop"]
    with pytest.raises(requests.ConnectionError):
        http.get(url(sb))
    assert http.get(url(sb)).status_code == 200


def test_a_202_has_no_body(sb, http):
    sb.faults.script = ["202"]
    response = http.get(url(sb))
    assert (response.status_code, response.content) == (202, b"")


def test_random_202_only_hits_reads(sb, http, change):
    sb.faults.rate_202 = 1.0
    assert http.patch(url(sb, sys_id=change["sys_id"]), json={"state": "-2"}).status_code == 200
    assert http.get(url(sb)).status_code == 202


def test_a_faulted_write_changes_nothing(sb, http, change):
    sb.faults.script = [503, "drop", 429]
    for _ in range(2):
        try:
            http.patch(url(sb, sys_id=change["sys_id"]), json={"state": "-2", "work_notes": "Scheduled"})
        except requests.ConnectionError:
            pass
    http.post(url(sb), json={"short_description": "Never created"})
    assert sb.store.get("change_request", change["sys_id"])["state"] == "-5"
    assert sb.store.journal() == []
    assert len(sb.store.query("change_request")) == 1


def test_dropped_field_writes_answer_200_but_are_not_stored(sb, http, change):
    sb.faults.drop_write_fields = frozenset({"start_date"})
    response = http.patch(url(sb, sys_id=change["sys_id"]),
                          json={"start_date": "2026-11-25 09:00:00", "state": "-2", "work_notes": "Window set"})
    assert response.status_code == 200
    assert response.json()["result"]["start_date"] == "2026-11-25 09:00:00"  # as if saved
    stored = http.get(url(sb, sys_id=change["sys_id"])).json()["result"]
    assert (stored["start_date"], stored["state"]) == ("2026-11-24 23:00:00", "-2")
    assert [entry["value"] for entry in sb.store.journal(sys_id=change["sys_id"])] == ["Window set"]


def test_dropped_field_writes_apply_to_creation_too(sb, http):
    sb.faults.drop_write_fields = frozenset({"end_date"})
    created = http.post(url(sb), json={"end_date": "2026-11-25 12:00:00", "short_description": "Upgrade"})
    assert created.status_code == 201
    assert sb.store.get("change_request", created.json()["result"]["sys_id"])["end_date"] == ""


def test_a_randomly_dropped_write_keeps_only_its_journal_entries(sb, http, change):
    sb.faults = Faults(rate_drop_write=1.0, seed=1)
    response = http.patch(url(sb, sys_id=change["sys_id"]), json={"state": "-2", "work_notes": "Scheduled"})
    assert response.status_code == 200 and response.json()["result"]["state"] == "-2"
    assert sb.store.get("change_request", change["sys_id"])["state"] == "-5"
    assert [entry["value"] for entry in sb.store.journal(sys_id=change["sys_id"])] == ["Scheduled"]
    assert http.get(url(sb)).status_code == 200  # reads are never "dropped writes"


def outcomes(seed: int, count: int = 200) -> list[str]:
    """What a sandbox with Faults.mixed(0.4, seed) does to ``count`` GETs and PATCHes."""
    with Sandbox().start() as sb, requests.Session() as http:
        http.auth = (sb.user, sb.password)
        change = sb.store.insert("change_request", {"state": "-5"})
        sb.faults = Faults.mixed(0.4, seed=seed)
        seen = []
        for n in range(count):
            value = str(n)
            try:
                if n % 2:
                    response = http.get(url(sb))
                    seen.append(str(response.status_code))
                else:
                    response = http.patch(url(sb, sys_id=change["sys_id"]), json={"short_description": value})
                    stored = sb.store.get("change_request", change["sys_id"])["short_description"]
                    seen.append("dropped_write" if response.ok and stored != value else str(response.status_code))
            except requests.ConnectionError:
                seen.append("drop")
        return seen


def test_random_faults_with_a_seed_are_reproducible_and_near_the_rate():
    first, second = outcomes(seed=11), outcomes(seed=11)
    assert first == second
    kinds = Counter(first)
    faulted = len(first) - kinds["200"]
    assert 0.2 * len(first) <= faulted <= 0.6 * len(first)
    assert kinds["429"] and kinds["drop"] and kinds["dropped_write"]
    assert any(status in kinds for status in ("500", "502", "503", "504"))


def test_faults_never_touch_the_store(sb, change):
    sb.faults = Faults(rate_429=0.5, rate_drop_write=0.5, drop_write_fields=frozenset({"state"}))
    sb.store.update("change_request", change["sys_id"], {"state": "3"})
    assert sb.store.get("change_request", change["sys_id"])["state"] == "3"


def test_mixed_splits_the_rate_evenly_among_four_kinds():
    faults = Faults.mixed(0.2, seed=5)
    assert (faults.rate_429, faults.rate_5xx, faults.rate_drop, faults.rate_drop_write) == (0.05, 0.05, 0.05, 0.05)
    assert faults.rate_202 == 0
    with pytest.raises(ValueError):
        Faults.mixed(1.5)


def test_an_unknown_script_item_is_refused():
    with pytest.raises(ValueError, match="unknown fault script item"):
        Faults(script=["explode"])


@pytest.mark.parametrize("sent", [b"", b'{"short_description": "Upg'])
def test_a_write_whose_client_went_away_before_its_whole_body_arrived_changes_nothing(sb, sent):
    # A worker killed between a request's headers and its body (sent apart): an instance acts on no
    # such request, so neither may the sandbox, or a record with none of the fields would exist.
    body = b'{"short_description": "Upgrade"}'
    host, port = urlsplit(sb.url).hostname, urlsplit(sb.url).port
    credentials = base64.b64encode(f"{sb.user}:{sb.password}".encode()).decode()
    with socket.create_connection((host, port), timeout=5) as client:
        client.sendall(f"POST /api/now/table/change_request HTTP/1.1\r\nHost: {host}\r\nAuthorization: Basic {credentials}\r\n"
                       f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode() + sent)
        client.shutdown(socket.SHUT_WR)
        assert client.recv(1024) == b"", "the sandbox answered a request it never received in full"
    assert sb.store.query("change_request") == []
