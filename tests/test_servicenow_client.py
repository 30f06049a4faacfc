import base64
import json
import logging
from collections import Counter
from datetime import datetime, timezone
from http.client import RemoteDisconnected

import pytest
import requests
import responses
from urllib3.exceptions import (
    ConnectTimeoutError,
    MaxRetryError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
)

from etiu_worker.config import ServiceNowSettings
from etiu_worker.errors import (
    AuthenticationError,
    BadRequestError,
    ConfigError,
    EmptyResponseError,
    ForbiddenError,
    InvalidTableError,
    NotFoundError,
    QueryValueError,
    RateLimitedError,
    ServerError,
    ServiceNowError,
    UnreachableError,
)
from etiu_worker.servicenow.query import Query
from etiu_worker.servicenow.client import ServiceNowClient

BASE = "https://acme.service-now.com"
TABLE = "change_request"
TABLE_URL = f"{BASE}/api/now/table/{TABLE}"
SYS_ID = "0123456789abcdef0123456789abcdef"
RECORD_URL = f"{TABLE_URL}/{SYS_ID}"
PASSWORD = "s3cret-Pa55word"
MAX_ATTEMPTS = 3


def make_settings(**overrides):
    values = dict(url=BASE, user="etiu", password=PASSWORD, timeout=12.5, page_size=2,
                  max_attempts=MAX_ATTEMPTS, max_backoff=10.0)
    values.update(overrides)
    return ServiceNowSettings(**values)


@pytest.fixture
def server():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def sleeps():
    return []


@pytest.fixture
def client(server, sleeps):
    with ServiceNowClient(make_settings(), sleep=sleeps.append) as snow:
        yield snow


def rows(*names):
    return [{"sys_id": name, "number": name.upper()} for name in names]


def page(server, records, total=None, url=TABLE_URL):
    headers = {"X-Total-Count": str(total)} if total is not None else {}
    server.add(responses.GET, url, json={"result": records}, headers=headers)


def sent_params(server, index):
    return server.calls[index].request.params


# Failures as requests raises them from a real socket.

def refused():
    reason = NewConnectionError(None, "Failed to establish a new connection: [Errno 111] Connection refused")
    return requests.ConnectionError(MaxRetryError(None, TABLE_URL, reason=reason))


def connect_timeout():
    return requests.ConnectTimeout(MaxRetryError(None, TABLE_URL, reason=ConnectTimeoutError("timed out")))


def dropped():
    return requests.ConnectionError(
        ProtocolError("Connection aborted.", RemoteDisconnected("Remote end closed connection"))
    )


def read_timeout():
    return requests.ReadTimeout(ReadTimeoutError(None, TABLE_URL, "Read timed out. (read timeout=12.5)"))


def failure(kind):
    """A response registration for ``kind``: an exception or an HTTP status."""
    if callable(kind):
        return dict(body=kind())
    if kind == 202:
        return dict(status=202, body="")
    body = {"error": {"message": f"failed {kind}", "detail": None}, "status": "failure"}
    return dict(status=kind, json=body)


# Paging

def test_client_reads_every_page_of_a_long_list_by_key_after_the_last_sys_id_seen(server, client):
    # With keyset paging X-Total-Count counts the rows from the page asked for on.
    page(server, rows("a", "b"), total=5)
    page(server, rows("c", "d"), total=3)
    page(server, rows("e"), total=1)
    records = client.list(TABLE, "active=true")
    assert [record["sys_id"] for record in records] == ["a", "b", "c", "d", "e"]
    assert len(server.calls) == 3
    assert [sent_params(server, i)["sysparm_query"] for i in range(3)] == [
        "active=true^ORDERBYsys_id", "active=true^sys_id>b^ORDERBYsys_id", "active=true^sys_id>d^ORDERBYsys_id"]
    assert all(sent_params(server, i).get("sysparm_offset", "0") == "0" for i in range(3))  # never an offset
    assert all(sent_params(server, i)["sysparm_limit"] == "2" for i in range(3))


def test_client_stops_after_an_exactly_full_last_page_without_an_extra_request(server, client):
    page(server, rows("a", "b"), total=4)
    page(server, rows("c", "d"), total=2)  # the count from this page on: nothing follows
    page(server, rows("z"), total=1)  # only an extra, needless request would read this
    assert len(client.list(TABLE)) == 4
    assert len(server.calls) == 2


def test_client_without_a_total_count_stops_at_the_first_short_page(server, client):
    page(server, rows("a", "b"))
    page(server, [])
    assert len(client.list(TABLE)) == 2
    assert len(server.calls) == 2


def test_list_orders_by_sys_id_after_the_callers_query_so_pages_are_stable(server, client):
    page(server, [])
    client.list(TABLE)
    assert sent_params(server, 0)["sysparm_query"] == "ORDERBYsys_id"


@pytest.mark.parametrize("query", [Query.where("active", "=", True).order_by("number"),
                                   "ORDERBYDESCsys_updated_on", "active=true^ORDERBYnumber"], ids=str)
def test_a_query_with_its_own_order_is_refused_before_any_request(server, client, query):
    # The key is the order: another one would make sys_id> skip rows.
    with pytest.raises(ValueError, match="has an ORDERBY: lists are read in sys_id order"):
        client.iter_pages(TABLE, query)
    assert len(server.calls) == 0


def test_each_or_group_of_a_query_gets_the_key_condition(server, client):
    page(server, rows("a", "b"), total=3)
    page(server, rows("c"), total=1)
    client.list(TABLE, "state=1^NQstate=2")
    assert sent_params(server, 1)["sysparm_query"] == "state=1^sys_id>b^NQstate=2^sys_id>b^ORDERBYsys_id"


def test_the_key_is_read_from_display_value_all_rows(server, client):
    page(server, [{"sys_id": {"display_value": "a", "value": "a"}},
                  {"sys_id": {"display_value": "b", "value": "b"}}], total=3)
    page(server, rows("c"), total=1)
    assert len(client.list(TABLE, display_value="all")) == 3
    assert sent_params(server, 1)["sysparm_query"] == "sys_id>b^ORDERBYsys_id"


def test_an_instance_that_ignores_the_key_condition_is_an_error_not_an_endless_read(server, client):
    page(server, rows("a", "b"))
    page(server, rows("a", "b"))
    with pytest.raises(ServerError, match="repeated rows of the previous page"):
        client.list(TABLE)
    assert len(server.calls) == 2


def test_progress_gets_the_rows_read_and_the_expected_total(server, client):
    page(server, rows("a", "b"), total=5)
    page(server, rows("c", "d"), total=4)  # a row was created meanwhile
    page(server, rows("e", "f"), total=2)
    seen = []
    client.list(TABLE, on_page=lambda read, total: seen.append((read, total)))
    assert seen == [(2, 5), (4, 6), (6, 6)]


def test_an_explicit_page_size_overrides_the_setting(server, client):
    page(server, rows("a", "b", "c"), total=3)
    assert len(client.list(TABLE, page_size=500)) == 3
    assert sent_params(server, 0)["sysparm_limit"] == "500"
    assert len(server.calls) == 1


def test_iter_pages_gives_one_list_per_page_for_progress_reporting(server, client):
    page(server, rows("a", "b"), total=3)
    page(server, rows("c"), total=3)
    pages = client.iter_pages(TABLE)
    assert len(server.calls) == 0  # nothing is sent until the first page is asked for
    assert [[r["sys_id"] for r in p] for p in pages] == [["a", "b"], ["c"]]


def test_an_empty_table_gives_an_empty_list_after_one_request(server, client):
    page(server, [], total=0)
    assert client.list(TABLE) == []
    assert len(server.calls) == 1


def test_list_sends_the_fields_and_display_value_asked_for(server, client):
    page(server, [])
    client.list(TABLE, fields=["number", "state"], display_value="all", exclude_reference_link=False)
    params = sent_params(server, 0)
    assert params["sysparm_fields"] == "number,state,sys_id"  # sys_id: the paging key
    assert params["sysparm_display_value"] == "all"
    assert params["sysparm_exclude_reference_link"] == "False"


# Single records and writes

def test_get_reads_one_record_by_its_sys_id(server, client):
    server.add(responses.GET, RECORD_URL, json={"result": {"sys_id": SYS_ID, "number": "CHG1"}})
    assert client.get(TABLE, SYS_ID, fields=["number"]) == {"sys_id": SYS_ID, "number": "CHG1"}
    assert sent_params(server, 0)["sysparm_fields"] == "number"


def test_create_posts_the_payload_and_returns_the_created_record(server, client):
    created = {"sys_id": SYS_ID, "short_description": "x"}
    server.add(responses.POST, TABLE_URL, status=201, json={"result": created})
    assert client.create(TABLE, {"short_description": "x"}) == created
    assert json.loads(server.calls[0].request.body) == {"short_description": "x"}


def test_update_sends_one_patch_to_the_record_and_no_get(server, client):
    server.add(responses.PATCH, RECORD_URL, json={"result": {"sys_id": SYS_ID, "state": "-1"}})
    assert client.update(TABLE, SYS_ID, {"state": "-1"}) == {"sys_id": SYS_ID, "state": "-1"}
    assert [call.request.method for call in server.calls] == ["PATCH"]
    assert json.loads(server.calls[0].request.body) == {"state": "-1"}


def test_parameters_do_not_leak_from_a_list_into_a_later_get(server, client):
    page(server, [])
    server.add(responses.GET, RECORD_URL, json={"result": {"sys_id": SYS_ID}})
    client.list(TABLE, "active=true", fields=["number"], display_value=True)
    client.get(TABLE, SYS_ID)
    params = sent_params(server, 1)
    assert params.get("sysparm_query", "") == ""
    assert params.get("sysparm_fields", "") == ""
    assert params["sysparm_display_value"] == "False"


# Retries

TRANSIENT_FOR_READS = [refused, connect_timeout, dropped, read_timeout, 429, 500, 502, 503, 504, 202]


@pytest.mark.parametrize("kind", TRANSIENT_FOR_READS, ids=str)
def test_reads_are_retried_after_a_transient_failure_and_then_succeed(server, client, sleeps, kind):
    server.add(responses.GET, RECORD_URL, **failure(kind))
    server.add(responses.GET, RECORD_URL, json={"result": {"sys_id": SYS_ID}})
    assert client.get(TABLE, SYS_ID) == {"sys_id": SYS_ID}
    assert client.requests[("GET", TABLE)] == 2
    assert len(sleeps) == 1


@pytest.mark.parametrize(
    "kind, error",
    [(refused, UnreachableError), (read_timeout, UnreachableError), (dropped, UnreachableError),
     (429, RateLimitedError), (500, ServerError), (503, ServerError), (504, ServerError),
     (202, EmptyResponseError)],
    ids=str,
)
def test_reads_give_up_after_max_attempts_with_the_matching_error(server, client, sleeps, kind, error):
    server.add(responses.GET, RECORD_URL, **failure(kind))
    with pytest.raises(error):
        client.get(TABLE, SYS_ID)
    assert client.requests[("GET", TABLE)] == MAX_ATTEMPTS
    assert len(sleeps) == MAX_ATTEMPTS - 1


def test_a_page_in_the_middle_of_a_list_is_retried_after_the_same_key(server, client):
    page(server, rows("a", "b"), total=3)
    server.add(responses.GET, TABLE_URL, status=503)
    page(server, rows("c"), total=1)
    assert len(client.list(TABLE)) == 3
    assert [sent_params(server, i)["sysparm_query"] for i in range(3)] == [
        "ORDERBYsys_id", "sys_id>b^ORDERBYsys_id", "sys_id>b^ORDERBYsys_id"]


def test_retry_after_is_honoured(server, client, sleeps):
    server.add(responses.GET, RECORD_URL, status=429, headers={"Retry-After": "7"},
               body="Rate limit exceeded")
    server.add(responses.GET, RECORD_URL, json={"result": {"sys_id": SYS_ID}})
    client.get(TABLE, SYS_ID)
    assert sleeps == [7.0]


def test_retry_after_is_capped_by_max_backoff(server, client, sleeps):
    server.add(responses.GET, RECORD_URL, status=429, headers={"Retry-After": "3600"})
    server.add(responses.GET, RECORD_URL, json={"result": {"sys_id": SYS_ID}})
    client.get(TABLE, SYS_ID)
    assert sleeps == [10.0]


def test_without_retry_after_the_waits_grow_exponentially_with_jitter_up_to_max_backoff(server, sleeps):
    server.add(responses.GET, RECORD_URL, status=429)
    with ServiceNowClient(make_settings(max_attempts=5, max_backoff=5.0), sleep=sleeps.append) as snow:
        with pytest.raises(RateLimitedError):
            snow.get(TABLE, SYS_ID)
    assert len(sleeps) == 4
    assert 1 <= sleeps[0] <= 2 and 2 <= sleeps[1] <= 3 and 4 <= sleeps[2] <= 5
    assert sleeps[3] == 5.0  # 8s and more is capped


@pytest.mark.parametrize(
    "status, error",
    [(400, BadRequestError), (401, AuthenticationError), (403, ForbiddenError), (404, NotFoundError),
     (409, BadRequestError)],
)
def test_client_errors_are_never_retried(server, client, sleeps, status, error):
    server.add(responses.GET, RECORD_URL, **failure(status))
    with pytest.raises(error) as raised:
        client.get(TABLE, SYS_ID)
    assert raised.value.status == status
    assert len(server.calls) == 1 and sleeps == []


def test_a_certificate_that_does_not_verify_is_not_retried(server, client, sleeps):
    server.add(responses.GET, RECORD_URL, body=requests.exceptions.SSLError("certificate verify failed"))
    with pytest.raises(UnreachableError, match="verify_tls"):
        client.get(TABLE, SYS_ID)
    assert len(server.calls) == 1


@pytest.mark.parametrize(
    "kind, error",
    [(dropped, UnreachableError), (read_timeout, UnreachableError),
     (500, ServerError), (502, ServerError), (503, ServerError), (504, ServerError)],
    ids=str,
)
def test_post_is_not_repeated_when_servicenow_may_have_created_the_record(server, client, kind, error):
    server.add(responses.POST, TABLE_URL, **failure(kind))
    server.add(responses.POST, TABLE_URL, status=201, json={"result": {"sys_id": SYS_ID}})
    with pytest.raises(error) as raised:
        client.create(TABLE, {"short_description": "x"})
    assert client.requests[("POST", TABLE)] == 1
    assert raised.value.maybe_applied is True


@pytest.mark.parametrize("kind", [refused, connect_timeout, 429], ids=str)
def test_post_is_retried_when_the_request_surely_was_not_processed(server, client, kind):
    server.add(responses.POST, TABLE_URL, **failure(kind))
    server.add(responses.POST, TABLE_URL, status=201, json={"result": {"sys_id": SYS_ID}})
    assert client.create(TABLE, {"short_description": "x"}) == {"sys_id": SYS_ID}
    assert client.requests[("POST", TABLE)] == 2


@pytest.mark.parametrize("payload", [{"work_notes": "Kickoff done"}, {"state": "2", "comments": "hi"}])
def test_patch_that_appends_a_journal_entry_is_not_repeated_after_a_server_error(server, client, payload):
    server.add(responses.PATCH, RECORD_URL, status=500)
    server.add(responses.PATCH, RECORD_URL, json={"result": {"sys_id": SYS_ID}})
    with pytest.raises(ServerError):
        client.update(TABLE, SYS_ID, payload)
    assert client.requests[("PATCH", TABLE)] == 1


def test_patch_of_plain_fields_is_retried_after_a_server_error(server, client):
    server.add(responses.PATCH, RECORD_URL, **failure(dropped))
    server.add(responses.PATCH, RECORD_URL, json={"result": {"sys_id": SYS_ID, "state": "2"}})
    assert client.update(TABLE, SYS_ID, {"state": "2"})["state"] == "2"
    assert client.requests[("PATCH", TABLE)] == 2


def test_journal_fields_are_configurable(server, sleeps):
    server.add(responses.PATCH, RECORD_URL, status=502)
    with ServiceNowClient(make_settings(), sleep=sleeps.append, journal_fields=frozenset({"u_log"})) as snow:
        with pytest.raises(ServerError):
            snow.update(TABLE, SYS_ID, {"u_log": "appended"})
    assert len(server.calls) == 1


# Errors

def test_servicenow_error_body_becomes_message_and_detail(server, client):
    body = {"error": {"message": "Operation Failed",
                      "detail": "ACL Exception Update Failed due to security constraints"},
            "status": "failure"}
    server.add(responses.PATCH, RECORD_URL, status=403, json=body)
    with pytest.raises(ForbiddenError) as raised:
        client.update(TABLE, SYS_ID, {"state": "3"})
    error = raised.value
    assert error.message == "Operation Failed"
    assert error.detail == "ACL Exception Update Failed due to security constraints"
    assert (error.status, error.method, error.table) == (403, "PATCH", TABLE)
    assert str(error) == (f"PATCH {TABLE}, HTTP 403: Operation Failed "
                          "(ACL Exception Update Failed due to security constraints)")


def test_a_non_json_error_body_is_reported_as_text(server, client):
    server.add(responses.POST, TABLE_URL, status=502,
               body="<html><body><h1>502 Bad Gateway</h1>\n<p>nginx</p></body></html>",
               content_type="text/html")
    with pytest.raises(ServerError) as raised:
        client.create(TABLE, {"short_description": "x"})
    assert raised.value.message == "Bad Gateway"
    assert raised.value.detail == "502 Bad Gateway nginx"


def test_get_of_a_missing_record_raises_not_found_with_servicenows_text(server, client):
    server.add(responses.GET, RECORD_URL, status=404,
               json={"error": {"message": "No Record found",
                               "detail": "Record doesn't exist or ACL restricts the record retrieval"},
                     "status": "failure"})
    with pytest.raises(NotFoundError, match="No Record found"):
        client.get(TABLE, SYS_ID)


def test_a_successful_status_with_a_body_that_is_not_json_raises_server_error(server, client):
    server.add(responses.GET, TABLE_URL, status=200, body="<html>Your instance is hibernating</html>",
               content_type="text/html")
    with pytest.raises(ServerError, match="not a Table API result"):
        client.list(TABLE)


def test_wrong_password_raises_authentication_error_that_never_shows_the_password(server, client, caplog):
    caplog.set_level(logging.DEBUG)
    server.add(responses.GET, TABLE_URL, status=401,
               json={"error": {"message": "User Not Authenticated",
                               "detail": "Required to provide Auth information"}, "status": "failure"})
    with pytest.raises(AuthenticationError) as raised:
        client.list(TABLE)
    assert "User Not Authenticated" in str(raised.value)
    shown = str(raised.value) + repr(raised.value) + caplog.text
    token = base64.b64encode(f"etiu:{PASSWORD}".encode()).decode()
    assert PASSWORD not in shown and token not in shown
    assert len(server.calls) == 1


def test_requests_carry_basic_auth(server, client):
    page(server, [])
    client.list(TABLE)
    token = base64.b64encode(f"etiu:{PASSWORD}".encode()).decode()
    assert server.calls[0].request.headers["Authorization"] == f"Basic {token}"


# Logging

def test_each_request_is_logged_and_each_retry_warns_with_reason_and_wait(server, client, caplog):
    caplog.set_level(logging.DEBUG, logger="etiu_worker.servicenow.client")
    server.add(responses.GET, RECORD_URL, status=429, headers={"Retry-After": "4"})
    server.add(responses.GET, RECORD_URL, json={"result": {"sys_id": SYS_ID}})
    client.get(TABLE, SYS_ID)
    debug = [r.getMessage() for r in caplog.records if r.levelno == logging.DEBUG]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert debug == [f"GET {TABLE}: HTTP 429 (try 1 of 3)", f"GET {TABLE}: HTTP 200 (try 2 of 3)"]
    assert len(warnings) == 1 and "HTTP 429" in warnings[0] and "retrying in 4.0s" in warnings[0]


# The request counter

def test_request_counter_counts_every_request_including_retries(server, client):
    page(server, rows("a", "b"), total=3)
    page(server, rows("c"), total=3)
    server.add(responses.GET, RECORD_URL, status=503)
    server.add(responses.GET, RECORD_URL, json={"result": {"sys_id": SYS_ID}})
    server.add(responses.POST, TABLE_URL, status=201, json={"result": {"sys_id": SYS_ID}})
    client.list(TABLE)
    client.get(TABLE, SYS_ID)
    client.create(TABLE, {"short_description": "x"})
    assert client.requests == Counter({("GET", TABLE): 4, ("POST", TABLE): 1})


# Refusals before anything is sent

@pytest.mark.parametrize(
    "build",
    [lambda: Query.where("correlation_id", "=", "ENG-1^ORsys_id!=x"),
     lambda: Query.where("correlation_id", "=", "ENG-1\n"),
     lambda: Query.where("correlation_id", "=", "ENG-1").and_in("sys_id", ["a", "b,c"])],
    ids=["caret", "newline", "comma-in-IN"],
)
def test_query_values_that_could_widen_a_query_are_refused_before_any_request(server, client, build):
    with pytest.raises(QueryValueError):
        client.list(TABLE, build())
    assert len(server.calls) == 0 and client.requests == Counter()


@pytest.mark.parametrize("table, sys_id", [("change_request/../sys_user", SYS_ID), (TABLE, "../sys_user"),
                                            (TABLE, "abc?sysparm_query=active=true")])
def test_table_names_and_sys_ids_that_would_change_the_url_are_refused(server, client, table, sys_id):
    with pytest.raises(QueryValueError):
        client.get(table, sys_id)
    with pytest.raises(QueryValueError):
        client.update(table, sys_id, {"state": "3"})
    assert len(server.calls) == 0


def test_field_names_that_are_not_identifiers_are_refused_before_any_request(server, client):
    with pytest.raises(QueryValueError):
        client.iter_pages(TABLE, fields=["number,sys_id^ORactive=true"])
    assert len(server.calls) == 0


# Settings

def test_a_missing_password_is_refused_before_connecting(server):
    with pytest.raises(ConfigError, match="servicenow.password"):
        ServiceNowClient(make_settings(password=None))
    assert len(server.calls) == 0


@pytest.mark.parametrize("verify_tls", [True, False])
def test_verify_tls_is_passed_through_to_every_request_even_with_a_ca_bundle_in_the_environment(
    server, monkeypatch, verify_tls
):
    # requests lets REQUESTS_CA_BUNDLE override a session's verify=False (psf/requests#3829).
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")
    page(server, [])
    with ServiceNowClient(make_settings(verify_tls=verify_tls)) as snow:
        snow.list(TABLE)
    verify = server.calls[0].request.req_kwargs["verify"]
    if verify_tls:
        assert verify == "/etc/ssl/certs/ca-certificates.crt"  # verification on, with the bundle
    else:
        assert verify is False


def test_every_request_carries_the_configured_timeout(server, client):
    page(server, [])
    server.add(responses.GET, RECORD_URL, json={"result": {"sys_id": SYS_ID}})
    server.add(responses.POST, TABLE_URL, status=201, json={"result": {"sys_id": SYS_ID}})
    server.add(responses.PATCH, RECORD_URL, json={"result": {"sys_id": SYS_ID}})
    client.list(TABLE)
    client.get(TABLE, SYS_ID)
    client.create(TABLE, {"short_description": "x"})
    client.update(TABLE, SYS_ID, {"state": "2"})
    assert [call.request.req_kwargs["timeout"] for call in server.calls] == [12.5] * 4


def test_plain_http_instances_are_reached_over_http(server):
    server.add(responses.GET, "http://127.0.0.1:8080/api/now/table/change_request", json={"result": []})
    with ServiceNowClient(make_settings(url="http://127.0.0.1:8080")) as snow:
        assert snow.list(TABLE) == []


def test_a_session_passed_in_is_used_and_left_open_for_its_owner(server):
    page(server, [])
    session = requests.Session()
    session.headers["X-Trace"] = "run-7"
    with ServiceNowClient(make_settings(), session=session) as snow:
        snow.list(TABLE)
    assert server.calls[0].request.headers["X-Trace"] == "run-7"
    assert session.adapters  # close() would have cleared the adapters


# Whether a failed write may have been carried out

CARRIED_OUT_UNKNOWN = True
CERTAINLY_NOT = False


@pytest.mark.parametrize(
    "send, kinds, maybe_applied",
    [
        ("post", [503], CARRIED_OUT_UNKNOWN),
        ("post", [dropped], CARRIED_OUT_UNKNOWN),
        ("post", [read_timeout], CARRIED_OUT_UNKNOWN),
        ("post", [202], CARRIED_OUT_UNKNOWN),
        ("post", [429] * MAX_ATTEMPTS, CERTAINLY_NOT),
        ("post", [refused] * MAX_ATTEMPTS, CERTAINLY_NOT),
        ("post", [403], CERTAINLY_NOT),
        ("note", [500], CARRIED_OUT_UNKNOWN),
        ("note", [429] * MAX_ATTEMPTS, CERTAINLY_NOT),
        ("plain", [503] * MAX_ATTEMPTS, CARRIED_OUT_UNKNOWN),
        ("plain", [dropped] * MAX_ATTEMPTS, CARRIED_OUT_UNKNOWN),
        ("plain", [500, 429, 429], CARRIED_OUT_UNKNOWN),  # the first try may have landed
        ("plain", [404], CERTAINLY_NOT),
        ("get", [503] * MAX_ATTEMPTS, CERTAINLY_NOT),
        ("get", [dropped] * MAX_ATTEMPTS, CERTAINLY_NOT),
    ],
    ids=lambda value: getattr(value, "__name__", str(value)),
)
def test_a_failed_request_says_whether_servicenow_may_have_acted_on_it(server, client, send, kinds, maybe_applied):
    method, url = {"post": (responses.POST, TABLE_URL), "get": (responses.GET, RECORD_URL)}.get(
        send, (responses.PATCH, RECORD_URL))
    for kind in kinds:
        server.add(method, url, **failure(kind))
    requests_by_kind = {
        "post": lambda: client.create(TABLE, {"short_description": "x"}),
        "note": lambda: client.update(TABLE, SYS_ID, {"work_notes": "x"}),
        "plain": lambda: client.update(TABLE, SYS_ID, {"state": "2"}),
        "get": lambda: client.get(TABLE, SYS_ID),
    }
    with pytest.raises(ServiceNowError) as raised:
        requests_by_kind[send]()
    assert raised.value.maybe_applied is maybe_applied
    assert len(server.calls) == len(kinds)  # every try listed was made, and no more


# Unknown tables

@pytest.mark.parametrize("method", ["GET", "POST"])
def test_an_unknown_table_raises_invalid_table_error_with_the_table_and_the_configuration_exit_code(
    server, client, sleeps, method
):
    url = f"{BASE}/api/now/table/u_no_such_table"
    server.add(method, url, status=400,
               json={"error": {"message": "Invalid table u_no_such_table", "detail": None}, "status": "failure"})
    with pytest.raises(InvalidTableError) as raised:
        client.list("u_no_such_table") if method == "GET" else client.create("u_no_such_table", {"a": "b"})
    assert raised.value.table == "u_no_such_table"
    assert raised.value.exit_code == 3
    assert str(raised.value) == f"{method} u_no_such_table, HTTP 400: Invalid table u_no_such_table"
    assert len(server.calls) == 1 and sleeps == []


def test_another_bad_request_stays_a_bad_request_error(server, client):
    server.add(responses.GET, TABLE_URL, status=400,
               json={"error": {"message": "Invalid query", "detail": None}, "status": "failure"})
    with pytest.raises(BadRequestError) as raised:
        client.list(TABLE)
    assert not isinstance(raised.value, InvalidTableError)


# The instance's clock

class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_instance_now_is_none_before_any_answer(server):
    with ServiceNowClient(make_settings()) as snow:
        assert snow.instance_now() is None


def test_instance_now_is_the_last_date_header_plus_the_time_elapsed_since_it_arrived(server):
    clock = FakeMonotonic()
    server.add(responses.GET, RECORD_URL, json={"result": {"sys_id": SYS_ID}},
               headers={"Date": "Tue, 01 Dec 2026 19:00:00 GMT"})
    server.add(responses.GET, RECORD_URL, json={"result": {"sys_id": SYS_ID}},
               headers={"Date": "Tue, 01 Dec 2026 18:45:00 GMT"})  # the instance's clock was set back
    with ServiceNowClient(make_settings(), monotonic=clock) as snow:
        snow.get(TABLE, SYS_ID)
        clock.now += 12.5
        assert snow.instance_now() == datetime(2026, 12, 1, 19, 0, 12, 500000, tzinfo=timezone.utc)
        snow.get(TABLE, SYS_ID)
        clock.now += 2
        assert snow.instance_now() == datetime(2026, 12, 1, 18, 45, 2, tzinfo=timezone.utc)


def test_an_error_answer_also_sets_the_instance_clock(server):
    clock = FakeMonotonic()
    server.add(responses.GET, RECORD_URL, status=404, json={"error": {"message": "No Record found"}},
               headers={"Date": "Tue, 01 Dec 2026 19:00:00 GMT"})
    with ServiceNowClient(make_settings(), monotonic=clock) as snow:
        with pytest.raises(NotFoundError):
            snow.get(TABLE, SYS_ID)
        assert snow.instance_now() == datetime(2026, 12, 1, 19, 0, tzinfo=timezone.utc)


def test_an_unreadable_date_header_leaves_the_instance_clock_unknown(server):
    server.add(responses.GET, RECORD_URL, json={"result": {"sys_id": SYS_ID}}, headers={"Date": "yesterday"})
    with ServiceNowClient(make_settings()) as snow:
        snow.get(TABLE, SYS_ID)
        assert snow.instance_now() is None
