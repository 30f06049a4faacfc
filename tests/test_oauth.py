"""OAuth 2.0: the password and client-credentials grants, refresh on expiry and on a 401.

The client's own rules are unit-tested with ``responses`` and a fake monotonic clock; the rest
runs the real client, and the worker as a subprocess, against the sandbox's token endpoint.
"""

from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import parse_qsl

import pytest
import responses

from etiu_worker.config import ServiceNowSettings
from etiu_worker.errors import AuthenticationError, TokenRefusedError
from etiu_worker.sandbox import Faults
from etiu_worker.servicenow.client import ServiceNowClient
from integration_helpers import PASSWORD, TICKETS, describe, etiu, output, sandbox, worker_env  # noqa: F401

BASE = "https://acme.service-now.com"
TOKEN_URL = f"{BASE}/oauth_token.do"
RECORD_URL = f"{BASE}/api/now/table/change_request/0123456789abcdef0123456789abcdef"
SYS_ID = "0123456789abcdef0123456789abcdef"
CLIENT_ID = "etiu-integration"
CLIENT_SECRET = "Kq2-client-SECRET-never-shown-77"


def oauth_settings(url: str = BASE, auth: str = "oauth_password", **overrides) -> ServiceNowSettings:
    values = dict(url=url, auth=auth, user="etiu", password=PASSWORD, client_id=CLIENT_ID,
                  client_secret=CLIENT_SECRET, max_attempts=3, max_backoff=1.0, timeout=10.0)
    values.update(overrides)
    return ServiceNowSettings(**values)


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def token(access: str, refresh: str | None = "refresh-1", expires_in: int = 1799) -> dict:
    answer = {"access_token": access, "scope": "useraccount", "token_type": "Bearer", "expires_in": expires_in}
    return {**answer, "refresh_token": refresh} if refresh else answer


def form(call) -> dict[str, str]:
    return dict(parse_qsl(call.request.body))


def api_calls(server) -> list:
    return [call for call in server.calls if "/api/now/" in call.request.url]


def bearer(call) -> str:
    return call.request.headers["Authorization"]


@pytest.fixture
def server():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def clock():
    return FakeMonotonic()


def ok(server, times: int = 1, status: int = 200) -> None:
    for _ in range(times):
        server.add(responses.GET, RECORD_URL, status=status, json={"result": {"sys_id": SYS_ID}})


# --- the client's rules, unit-tested -----------------------------------------------------------


def test_the_password_grant_is_form_encoded_and_its_token_is_sent_as_bearer(server, clock):
    server.add(responses.POST, TOKEN_URL, json=token("A1"))
    ok(server, times=3)
    with ServiceNowClient(oauth_settings(), monotonic=clock) as client:
        for _ in range(3):
            client.get("change_request", SYS_ID)
    token_call = server.calls[0]
    assert token_call.request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert form(token_call) == {"grant_type": "password", "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
                                "username": "etiu", "password": PASSWORD}
    assert [bearer(call) for call in api_calls(server)] == ["Bearer A1"] * 3  # one token for all three


def test_the_client_credentials_grant_sends_no_user_or_password(server, clock):
    server.add(responses.POST, TOKEN_URL, json=token("C1", refresh=None))
    ok(server)
    settings = oauth_settings(auth="oauth_client_credentials", user=None, password=None)
    with ServiceNowClient(settings, monotonic=clock) as client:
        client.get("change_request", SYS_ID)
    assert form(server.calls[0]) == {"grant_type": "client_credentials", "client_id": CLIENT_ID,
                                     "client_secret": CLIENT_SECRET}
    assert bearer(server.calls[1]) == "Bearer C1"


def test_a_token_is_refreshed_a_little_before_it_expires(server, clock):
    server.add(responses.POST, TOKEN_URL, json=token("A1", expires_in=100))
    server.add(responses.POST, TOKEN_URL, json=token("A2", expires_in=100))
    ok(server, times=3)
    with ServiceNowClient(oauth_settings(), monotonic=clock) as client:
        client.get("change_request", SYS_ID)
        clock.now += 89  # a tenth of its life early: still good
        client.get("change_request", SYS_ID)
        clock.now += 2
        client.get("change_request", SYS_ID)
    assert [bearer(call) for call in api_calls(server)] == ["Bearer A1", "Bearer A1", "Bearer A2"]
    assert form(server.calls[3]) == {"grant_type": "refresh_token", "client_id": CLIENT_ID,
                                     "client_secret": CLIENT_SECRET, "refresh_token": "refresh-1"}


def test_a_refused_refresh_token_falls_back_to_a_new_password_grant(server, clock):
    server.add(responses.POST, TOKEN_URL, json=token("A1", expires_in=100))
    server.add(responses.POST, TOKEN_URL, status=401, json={"error": "invalid_grant", "error_description": "x"})
    server.add(responses.POST, TOKEN_URL, json=token("A3", refresh="refresh-3"))
    ok(server, times=2)
    with ServiceNowClient(oauth_settings(), monotonic=clock) as client:
        client.get("change_request", SYS_ID)
        clock.now += 1000
        client.get("change_request", SYS_ID)
    grants = [form(call)["grant_type"] for call in server.calls if call.request.url == TOKEN_URL]
    assert grants == ["password", "refresh_token", "password"]
    assert bearer(api_calls(server)[-1]) == "Bearer A3"


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_401_renews_the_token_once_and_sends_the_request_once_more(server, clock, method):
    server.add(responses.POST, TOKEN_URL, json=token("A1"))
    server.add(responses.POST, TOKEN_URL, json=token("A2"))
    url = RECORD_URL if method == "GET" else f"{BASE}/api/now/table/change_request"
    server.add(method, url, status=401, json={"error": {"message": "User Not Authenticated"}})
    server.add(method, url, status=201 if method == "POST" else 200, json={"result": {"sys_id": SYS_ID}})
    with ServiceNowClient(oauth_settings(), monotonic=clock, sleep=lambda _: None) as client:
        if method == "GET":
            client.get("change_request", SYS_ID)
        else:
            client.create("change_request", {"short_description": "x"})  # a 401 is refused before processing
    assert [bearer(call) for call in api_calls(server)] == ["Bearer A1", "Bearer A2"]


def test_a_second_401_is_an_authentication_error_with_exit_4(server, clock):
    server.add(responses.POST, TOKEN_URL, json=token("A1"))
    server.add(responses.POST, TOKEN_URL, json=token("A2"))
    ok(server, times=3, status=401)
    with ServiceNowClient(oauth_settings(), monotonic=clock) as client:
        with pytest.raises(AuthenticationError) as raised:
            client.get("change_request", SYS_ID)
    assert raised.value.exit_code == 4
    assert len(api_calls(server)) == 2


def test_a_failing_token_endpoint_is_retried_like_a_request_never_sent(server, clock):
    server.add(responses.POST, TOKEN_URL, status=503, body="<html>busy</html>")
    server.add(responses.POST, TOKEN_URL, json=token("A1"))
    server.add(responses.POST, f"{BASE}/api/now/table/change_request", status=201, json={"result": {"sys_id": SYS_ID}})
    with ServiceNowClient(oauth_settings(), monotonic=clock, sleep=lambda _: None) as client:
        client.create("change_request", {"short_description": "x"})
    assert len(api_calls(server)) == 1  # the POST itself left once


def test_a_refused_client_secret_says_what_to_check_and_never_shows_a_secret(server, clock, caplog):
    caplog.set_level(logging.DEBUG)
    server.add(responses.POST, TOKEN_URL, status=401,
               json={"error": "invalid_client", "error_description": "access_denied"})
    with ServiceNowClient(oauth_settings(), monotonic=clock) as client:
        with pytest.raises(TokenRefusedError) as raised:
            client.get("change_request", SYS_ID)
    assert str(raised.value) == (
        "POST oauth_token.do, HTTP 401: ServiceNow refused the OAuth password grant (invalid_client: access_denied) "
        "(check servicenow.client_id, servicenow.client_secret, servicenow.user and servicenow.password)"
    )
    assert raised.value.exit_code == 4
    assert api_calls(server) == [] and len(server.calls) == 1  # not asked again, nothing else sent
    shown = str(raised.value) + repr(raised.value) + caplog.text
    assert CLIENT_SECRET not in shown and PASSWORD not in shown


# --- against the sandbox over HTTP -------------------------------------------------------------


@pytest.fixture
def oauth_sandbox(sandbox):
    sandbox.oauth.clients[CLIENT_ID] = CLIENT_SECRET
    return sandbox


@pytest.mark.parametrize("auth", ["oauth_password", "oauth_client_credentials"])
def test_each_grant_reads_records_from_the_sandbox(oauth_sandbox, auth):
    settings = oauth_settings(oauth_sandbox.url, auth=auth, user=oauth_sandbox.user)
    with ServiceNowClient(settings) as client:
        records = client.list(TICKETS, "correlation_idISNOTEMPTY")
    assert len(records) == len(oauth_sandbox.store.query(TICKETS, "correlation_idISNOTEMPTY")) > 0
    assert oauth_sandbox.oauth.grants == [auth.removeprefix("oauth_")]


def test_the_sandbox_refuses_an_expired_token_and_a_json_token_request(oauth_sandbox):
    import requests

    answer = requests.post(f"{oauth_sandbox.url}/oauth_token.do", timeout=10, data={
        "grant_type": "client_credentials", "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}).json()
    table = f"{oauth_sandbox.url}/api/now/table/{TICKETS}?sysparm_limit=1"
    headers = {"Authorization": f"Bearer {answer['access_token']}"}
    assert requests.get(table, headers=headers, timeout=10).status_code == 200
    oauth_sandbox.expire_tokens()
    assert requests.get(table, headers=headers, timeout=10).status_code == 401
    as_json = requests.post(f"{oauth_sandbox.url}/oauth_token.do", timeout=10, json={"grant_type": "password"})
    assert as_json.status_code == 400


class ExpireTokensAtFirstWrite(Faults):
    """Ends every access token when the first write arrives, so the next request meets a 401."""

    def __init__(self, sb, *, revoke_refresh: bool = False) -> None:
        super().__init__()
        self._sandbox, self._revoke, self.done = sb, revoke_refresh, False

    def next_fault(self, method: str):  # type: ignore[override]
        if method.upper() in ("POST", "PATCH") and not self.done:
            self.done = True
            self._sandbox.expire_tokens()
            if self._revoke:
                self._sandbox.oauth.revoke_refresh_tokens()
        return super().next_fault(method)


def oauth_env(tmp_path: Path, sb, secret: str = CLIENT_SECRET, **settings: str) -> dict[str, str]:
    return worker_env(tmp_path, sb, SERVICENOW__AUTH="oauth_password", SERVICENOW__CLIENT_ID=CLIENT_ID,
                      SERVICENOW__CLIENT_SECRET=secret, **settings)


@pytest.mark.parametrize("revoke_refresh, grants", [
    (False, ["password", "refresh_token"]),
    (True, ["password", "refresh_token", "password"]),
])
def test_a_token_that_expires_mid_run_is_renewed_and_no_action_fails(tmp_path, oauth_sandbox, revoke_refresh, grants):
    expiry = oauth_sandbox.faults = ExpireTokensAtFirstWrite(oauth_sandbox, revoke_refresh=revoke_refresh)

    result = etiu(["run", "--once"], oauth_env(tmp_path, oauth_sandbox))

    assert result.returncode == 0, describe(result)  # exit 1 would mean a failed action
    assert expiry.done and oauth_sandbox.oauth.grants == grants
    assert " ERROR " not in result.stderr
    assert CLIENT_SECRET not in output(result) and PASSWORD not in output(result)


def test_a_wrong_client_secret_exits_4_with_one_clear_line_and_no_secret_anywhere(tmp_path, oauth_sandbox):
    wrong = "Wrong-secret-Zz9-never-shown"

    result = etiu(["run", "--once"], oauth_env(tmp_path, oauth_sandbox, secret=wrong))

    assert result.returncode == 4, describe(result)
    failures = [line for line in result.stderr.splitlines() if line.startswith("etiu-worker:")]
    assert failures == [
        "etiu-worker: TokenRefusedError: POST oauth_token.do, HTTP 401: ServiceNow refused the OAuth password "
        "grant (invalid_client: access_denied) (check servicenow.client_id, servicenow.client_secret, "
        "servicenow.user and servicenow.password)"
    ], describe(result)
    assert "ETIU_SERVICENOW__PASSWORD" not in result.stderr  # the advice names the OAuth settings
    assert oauth_sandbox.requests == {}  # no Table API request was sent without a token
    written = b"".join(path.read_bytes() for path in (tmp_path / "state").rglob("*") if path.is_file())
    for secret in (wrong, CLIENT_SECRET, PASSWORD):
        assert secret not in output(result) and secret.encode() not in written


def test_a_token_is_renewed_before_the_lifetime_the_sandbox_gave_it_runs_out(oauth_sandbox):
    oauth_sandbox.token_lifetime = 60
    clock = FakeMonotonic()
    settings = oauth_settings(oauth_sandbox.url, user=oauth_sandbox.user)
    with ServiceNowClient(settings, monotonic=clock) as client:
        client.list(TICKETS, "correlation_idISNOTEMPTY")
        clock.now += 55  # within the last tenth of its life
        client.list(TICKETS, "correlation_idISNOTEMPTY")
    assert oauth_sandbox.oauth.grants == ["password", "refresh_token"]
    assert oauth_sandbox.requests[("GET", TICKETS)] == 2  # renewed ahead: no request met a 401
