"""One ServiceNowClient called from several threads: sessions, the shared pacing gate, the kept environment.

Unit tests with ``responses``, a fake monotonic clock and a sleep that records instead of sleeping.
Each thread's part runs to its end before the next starts (``in_thread``), so the order is the
test's, not the scheduler's; the sandbox test of truly concurrent calls is in
test_integration_client_threads.py.
"""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
import responses

from etiu_worker.config import ServiceNowSettings
from etiu_worker.errors import ServerError
from etiu_worker.servicenow import sessions
from etiu_worker.servicenow.client import ServiceNowClient
from etiu_worker.servicenow.oauth import OAuthBearer
from etiu_worker.servicenow.pacing import PacingGate

BASE = "https://acme.service-now.com"
TABLE = "change_request"
TABLE_URL = f"{BASE}/api/now/table/{TABLE}"
SYS_ID = "0123456789abcdef0123456789abcdef"
RECORD_URL = f"{TABLE_URL}/{SYS_ID}"
TOKEN_URL = f"{BASE}/oauth_token.do"


def make_settings(**overrides):
    values = dict(url=BASE, user="etiu", password="s3cret-Pa55word", max_attempts=3, max_backoff=10.0)
    values.update(overrides)
    return ServiceNowSettings(**values)


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Sleeps:
    """A sleep that sleeps not at all and notes which thread asked for how long."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, float]] = []

    def __call__(self, seconds: float) -> None:
        self.asked.append((threading.current_thread().name, seconds))

    def of(self, thread: str) -> list[float]:
        return [seconds for name, seconds in self.asked if name == thread]


def in_thread(name: str, work):
    """Run ``work`` to its end in a new thread called ``name``; its result, or its exception raised here."""
    outcome: dict[str, object] = {}

    def run() -> None:
        try:
            outcome["result"] = work()
        except BaseException as exc:  # handed to the test's thread
            outcome["error"] = exc

    thread = threading.Thread(target=run, name=name)
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome.get("result")


@pytest.fixture
def server():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def clock():
    return FakeMonotonic()


@pytest.fixture
def sleeps():
    return Sleeps()


@pytest.fixture
def client(server, clock, sleeps):
    with ServiceNowClient(make_settings(), sleep=sleeps, monotonic=clock) as snow:
        yield snow


def record(server, times: int = 1, **answer) -> None:
    for _ in range(times):
        server.add(responses.GET, RECORD_URL, **(answer or dict(json={"result": {"sys_id": SYS_ID}})))


def failed(status: int, retry_after: str | None = None) -> dict:
    headers = {"Retry-After": retry_after} if retry_after is not None else {}
    return dict(status=status, json={"error": {"message": f"failed {status}"}}, headers=headers)


# --- one session per thread ------------------------------------------------------------------------


def test_each_thread_keeps_its_own_servicenow_session_cookie(server, client):
    # ServiceNow runs one session's requests one at a time: threads sharing a cookie would queue.
    for number in (1, 2):
        server.add(responses.GET, RECORD_URL, json={"result": {"sys_id": SYS_ID}},
                   headers={"Set-Cookie": f"JSESSIONID=thread-{number}; Path=/"})
        server.add(responses.GET, RECORD_URL, json={"result": {"sys_id": SYS_ID}})
    for name in ("one", "two"):
        in_thread(name, lambda: [client.get(TABLE, SYS_ID) for _ in range(2)])
    cookies = [call.request.headers.get("Cookie") for call in server.calls]
    assert cookies == [None, "JSESSIONID=thread-1", None, "JSESSIONID=thread-2"]


def test_close_closes_the_session_of_every_thread_that_sent(server, monkeypatch):
    closed = []
    monkeypatch.setattr(sessions.ClientSession, "close", lambda session: closed.append(session))
    record(server, times=3)
    with ServiceNowClient(make_settings()) as snow:
        for name in ("one", "two", "three"):
            in_thread(name, lambda: snow.get(TABLE, SYS_ID))
        opened_by_a_thread_that_ended = closed[:]  # the next thread's first request closed those
    assert len(set(map(id, closed))) == 3
    assert len(opened_by_a_thread_that_ended) == 2


def test_every_threads_session_sends_the_same_auth_headers_and_timeout(server):
    record(server, times=2)
    with ServiceNowClient(make_settings(timeout=12.5)) as snow:
        for name in ("one", "two"):
            in_thread(name, lambda: snow.get(TABLE, SYS_ID))
    first, second = (call.request for call in server.calls)
    assert first.headers["Authorization"] == second.headers["Authorization"]
    assert first.headers["User-Agent"] == second.headers["User-Agent"] == "etiu-worker"
    assert first.headers["Accept"] == second.headers["Accept"] == "application/json"
    assert first.req_kwargs["timeout"] == second.req_kwargs["timeout"] == 12.5


def test_the_request_counter_adds_up_the_requests_of_every_thread(server, client):
    record(server, times=3)
    server.add(responses.PATCH, RECORD_URL, json={"result": {"sys_id": SYS_ID}})
    in_thread("one", lambda: client.get(TABLE, SYS_ID))
    in_thread("two", lambda: [client.get(TABLE, SYS_ID), client.get(TABLE, SYS_ID)])
    in_thread("three", lambda: client.update(TABLE, SYS_ID, {"state": "2"}))
    assert client.requests == {("GET", TABLE): 3, ("PATCH", TABLE): 1}


def test_a_write_after_a_read_sends_the_parameters_of_a_write_on_a_new_client(server, client):
    server.add(responses.GET, TABLE_URL, json={"result": []})
    for _ in range(2):
        server.add(responses.PATCH, RECORD_URL, json={"result": {"sys_id": SYS_ID}})
    client.list(TABLE, "active=true", fields=["number"], display_value=True)
    client.update(TABLE, SYS_ID, {"state": "2"})  # through the table's kept resource
    with ServiceNowClient(make_settings()) as fresh:
        fresh.update(TABLE, SYS_ID, {"state": "2"})
    after_a_read, on_a_new_client = (call.request for call in server.calls[1:])
    assert after_a_read.params == on_a_new_client.params
    assert after_a_read.params["sysparm_query"] == "" and "sysparm_fields" not in after_a_read.params


# --- the environment, read once --------------------------------------------------------------------


def test_the_environments_proxies_are_looked_up_once_per_client_not_per_request(server, monkeypatch):
    looked_up = []
    real = sessions.get_environ_proxies

    def counted(url, no_proxy=None):
        looked_up.append(url)
        return real(url, no_proxy)

    monkeypatch.setattr(sessions, "get_environ_proxies", counted)
    record(server, times=4)
    with ServiceNowClient(make_settings()) as snow:
        in_thread("one", lambda: [snow.get(TABLE, SYS_ID) for _ in range(2)])
        in_thread("two", lambda: [snow.get(TABLE, SYS_ID) for _ in range(2)])
    assert len(looked_up) == 1 and looked_up[0].startswith(RECORD_URL)


@pytest.mark.parametrize("no_proxy, expected", [("", "http://proxy.example:3128"), ("acme.service-now.com", None)])
def test_the_proxy_from_the_environment_is_used_unless_no_proxy_names_the_instance(
    server, monkeypatch, no_proxy, expected
):
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", no_proxy)
    record(server)
    with ServiceNowClient(make_settings()) as snow:
        snow.get(TABLE, SYS_ID)
    assert server.calls[0].request.req_kwargs["proxies"].get("https") == expected


# --- the pacing gate ------------------------------------------------------------------------------


def test_a_429_with_retry_after_on_one_thread_delays_the_next_request_of_another(server, client, sleeps):
    record(server, **failed(429, retry_after="3"))
    record(server, times=3)
    in_thread("first", lambda: client.get(TABLE, SYS_ID))
    in_thread("second", lambda: [client.get(TABLE, SYS_ID), client.get(TABLE, SYS_ID)])
    assert sleeps.of("first") == [3.0]  # its own retry's wait, not waited twice
    assert sleeps.of("second") == [3.0]  # before its first request only


def test_a_thread_whose_next_request_comes_after_the_moment_does_not_wait(server, client, clock, sleeps):
    record(server, **failed(429, retry_after="3"))
    record(server, times=2)
    in_thread("first", lambda: client.get(TABLE, SYS_ID))
    clock.now += 1
    in_thread("second", lambda: client.get(TABLE, SYS_ID))
    clock.now += 5
    in_thread("third", lambda: client.get(TABLE, SYS_ID))
    assert sleeps.of("second") == [2.0] and sleeps.of("third") == []


def test_a_429_without_retry_after_holds_the_others_for_the_backoffs_first_step(server, client, sleeps):
    record(server, **failed(429))
    record(server, times=2)
    in_thread("first", lambda: client.get(TABLE, SYS_ID))
    in_thread("second", lambda: client.get(TABLE, SYS_ID))
    assert 1.0 <= sleeps.of("first")[0] <= 2.0  # exponential backoff with jitter
    assert sleeps.of("second") == [1.0]


@pytest.mark.expected_errors  # none logged today; a refused create may be logged some day
def test_a_503_with_retry_after_on_a_create_that_is_not_repeated_still_holds_the_others(server, client, sleeps):
    server.add(responses.POST, TABLE_URL, **failed(503, retry_after="4"))
    record(server)
    with pytest.raises(ServerError):
        in_thread("first", lambda: client.create(TABLE, {"short_description": "x"}))
    in_thread("second", lambda: client.get(TABLE, SYS_ID))
    assert sleeps.of("first") == [] and sleeps.of("second") == [4.0]


def test_a_503_without_retry_after_holds_no_one(server, client, sleeps):
    record(server, **failed(503))
    record(server, times=2)
    in_thread("first", lambda: client.get(TABLE, SYS_ID))
    in_thread("second", lambda: client.get(TABLE, SYS_ID))
    assert len(sleeps.of("first")) == 1 and sleeps.of("second") == []


def test_the_hold_is_at_most_max_backoff(server, client, sleeps):
    record(server, **failed(429, retry_after="3600"))
    record(server, times=2)
    in_thread("first", lambda: client.get(TABLE, SYS_ID))
    in_thread("second", lambda: client.get(TABLE, SYS_ID))
    assert sleeps.of("first") == sleeps.of("second") == [10.0]


def test_a_hold_only_ever_moves_later(clock, sleeps):
    gate = PacingGate(clock, sleeps)
    gate.hold_for(5)
    gate.hold_for(2)
    in_thread("other", gate.wait_turn)
    assert sleeps.of("other") == [5.0]


def test_a_thread_that_paused_past_the_moment_for_its_own_retry_does_not_wait_again(clock, sleeps):
    gate = PacingGate(clock, sleeps)
    gate.hold_for(3)
    gate.pause(4)
    gate.wait_turn()
    assert sleeps.asked == [("MainThread", 4)]


# --- one OAuth token for every thread -------------------------------------------------------------


def token_answer(access: str) -> dict:
    return dict(json={"access_token": access, "refresh_token": "refresh-1", "expires_in": 1799})


def test_threads_share_one_oauth_token(server, clock):
    server.add(responses.POST, TOKEN_URL, **token_answer("A1"))
    record(server, times=2)
    settings = make_settings(auth="oauth_password", client_id="etiu-id", client_secret="etiu-client-secret")
    with ServiceNowClient(settings, monotonic=clock) as snow:
        for name in ("one", "two"):
            in_thread(name, lambda: snow.get(TABLE, SYS_ID))
    api = [call.request for call in server.calls if "/api/now/" in call.request.url]
    assert len(server.calls) - len(api) == 1  # one token grant
    assert [request.headers["Authorization"] for request in api] == ["Bearer A1"] * 2


def test_an_old_token_refused_on_two_threads_is_renewed_once(server, clock):
    server.add(responses.POST, TOKEN_URL, **token_answer("A1"))
    server.add(responses.POST, TOKEN_URL, **token_answer("A2"))
    settings = make_settings(auth="oauth_password", client_id="etiu-id", client_secret="etiu-client-secret")
    bearer = OAuthBearer(settings, sessions.ClientSession(sessions.Environment()), clock=clock)

    def sent_token() -> str:
        return bearer(requests.Request("GET", RECORD_URL).prepare()).headers["Authorization"]

    with ThreadPoolExecutor(1) as one, ThreadPoolExecutor(1) as two:  # one thread each, kept
        both_sent_a1 = [one.submit(sent_token).result(), two.submit(sent_token).result()]
        one.submit(bearer.forget_access_token).result()  # refused (401): "one" renews it
        renewed = one.submit(sent_token).result()
        two.submit(bearer.forget_access_token).result()  # "two" was refused the old one: A2 stays
        two_sends = two.submit(sent_token).result()
    assert both_sent_a1 == ["Bearer A1", "Bearer A1"]
    assert renewed == two_sends == "Bearer A2"
    assert len(server.calls) == 2
