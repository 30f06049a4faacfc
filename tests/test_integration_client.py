"""The real ServiceNow client (pysnow + requests) against the sandbox instance over loopback HTTP.

Waits between tries go to a list instead of time.sleep, so the retries are both fast and visible.
"""

from __future__ import annotations

import math

import pytest

from etiu_worker.config import ServiceNowSettings
from etiu_worker.errors import AuthenticationError, NotFoundError, RateLimitedError, ServerError, UnreachableError
from etiu_worker.servicenow.query import Query
from etiu_worker.servicenow.client import ServiceNowClient
from integration_helpers import PASSWORD, TICKETS, sandbox  # noqa: F401 - sandbox is a fixture

MAX_ATTEMPTS = 4
MAX_BACKOFF = 30.0
ENGAGEMENT_TICKETS = Query.where("correlation_id", "ISNOTEMPTY")


def settings_for(sb, **overrides) -> ServiceNowSettings:
    values = dict(url=sb.url, user=sb.user, password=sb.password, max_attempts=MAX_ATTEMPTS,
                  max_backoff=MAX_BACKOFF, timeout=10.0)
    values.update(overrides)
    return ServiceNowSettings(**values)


@pytest.fixture
def waits():
    return []


@pytest.fixture
def client(sandbox, waits):
    with ServiceNowClient(settings_for(sandbox), sleep=waits.append) as snow:
        yield snow


def stored_tickets(sandbox) -> list[dict[str, str]]:
    return sandbox.store.query(TICKETS, "correlation_idISNOTEMPTY")


def a_ticket(sandbox) -> dict[str, str]:
    return stored_tickets(sandbox)[0]


# --- reading -----------------------------------------------------------------------------------


@pytest.mark.parametrize("page_size", [3, 7, 1000])
def test_list_reads_every_page_and_returns_exactly_the_stored_records(sandbox, client, page_size):
    expected = stored_tickets(sandbox)
    assert len(expected) > 7 and len(expected) % 7  # several pages, the last one short

    records = client.list(TICKETS, ENGAGEMENT_TICKETS, page_size=page_size)

    assert sorted(record["sys_id"] for record in records) == sorted(record["sys_id"] for record in expected)
    assert len({record["sys_id"] for record in records}) == len(records)  # no row read twice
    by_id = {record["sys_id"]: record for record in records}
    for record in expected:
        assert by_id[record["sys_id"]]["short_description"] == record["short_description"]
    assert sandbox.requests[("GET", TICKETS)] == math.ceil(len(expected) / page_size)


def test_a_page_size_that_divides_the_rows_costs_no_extra_request(sandbox, client):
    expected = stored_tickets(sandbox)
    page_size = next(size for size in range(2, len(expected)) if len(expected) % size == 0)

    pages = list(client.iter_pages(TICKETS, ENGAGEMENT_TICKETS, page_size=page_size))

    assert [len(page) for page in pages] == [page_size] * (len(expected) // page_size)
    assert sandbox.requests[("GET", TICKETS)] == len(expected) // page_size


def test_a_filtered_list_matches_the_instance_own_query(sandbox, client):
    key = a_ticket(sandbox)["correlation_id"]

    records = client.list(TICKETS, Query.where("correlation_id", "=", key), page_size=2)

    expected = sandbox.store.query(TICKETS, f"correlation_id={key}")
    assert expected and sorted(r["sys_id"] for r in records) == sorted(r["sys_id"] for r in expected)


def test_get_of_an_unknown_sys_id_is_not_found_with_servicenow_message(client):
    with pytest.raises(NotFoundError) as raised:
        client.get(TICKETS, "0" * 32)

    error = raised.value
    assert error.status == 404
    assert error.message == "No Record found"
    assert "Record doesn't exist or ACL restricts the record retrieval" in str(error)


def test_update_of_an_unknown_sys_id_is_not_found_and_creates_nothing(sandbox, client):
    before = len(sandbox.store.query(TICKETS))

    with pytest.raises(NotFoundError):
        client.update(TICKETS, "0" * 32, {"state": "3"})

    assert len(sandbox.store.query(TICKETS)) == before


# --- retries -----------------------------------------------------------------------------------


def test_a_429_waits_the_retry_after_seconds_then_succeeds(sandbox, client, waits):
    sandbox.faults.retry_after = 7
    sandbox.faults.script = [429]

    records = client.list(TICKETS, ENGAGEMENT_TICKETS)

    assert len(records) == len(stored_tickets(sandbox))
    assert waits == [7]
    assert sandbox.requests[("GET", TICKETS)] == 2


def test_retry_after_longer_than_max_backoff_is_capped(sandbox, waits):
    sandbox.faults.retry_after = 600
    sandbox.faults.script = [429]
    with ServiceNowClient(settings_for(sandbox, max_backoff=5.0), sleep=waits.append) as client:
        client.list(TICKETS, ENGAGEMENT_TICKETS)

    assert waits == [5.0]


def test_503_twice_backs_off_then_succeeds(sandbox, client, waits):
    sandbox.faults.script = [503, 503]

    records = client.list(TICKETS, ENGAGEMENT_TICKETS)

    assert len(records) == len(stored_tickets(sandbox))
    assert len(waits) == 2 and all(0 < wait <= MAX_BACKOFF for wait in waits)
    assert sandbox.requests[("GET", TICKETS)] == 3


def test_a_429_then_a_503_on_a_later_page_does_not_lose_or_repeat_rows(sandbox, client, waits):
    sandbox.faults.retry_after = 2
    # First page served, then the second page meets a 429 and a 503.
    sandbox.faults.script = [None, 429, 503]

    records = client.list(TICKETS, ENGAGEMENT_TICKETS, page_size=5)

    expected = stored_tickets(sandbox)
    assert sorted(r["sys_id"] for r in records) == sorted(r["sys_id"] for r in expected)
    assert waits[0] == 2 and len(waits) == 2


def test_rate_limited_for_good_gives_up_after_max_attempts(sandbox, client, waits):
    sandbox.faults.retry_after = 1
    sandbox.faults.script = [429] * MAX_ATTEMPTS

    with pytest.raises(RateLimitedError) as raised:
        client.list(TICKETS, ENGAGEMENT_TICKETS)

    assert raised.value.exit_code == 4
    assert "Rate limit exceeded" in str(raised.value)
    assert waits == [1] * (MAX_ATTEMPTS - 1)
    assert sandbox.requests[("GET", TICKETS)] == MAX_ATTEMPTS


def test_a_dropped_connection_on_a_get_is_retried(sandbox, client, waits):
    sandbox.faults.script = ["drop"]

    records = client.list(TICKETS, ENGAGEMENT_TICKETS)

    assert len(records) == len(stored_tickets(sandbox))
    assert len(waits) == 1
    assert sandbox.requests[("GET", TICKETS)] == 2


def test_a_post_is_not_repeated_after_a_dropped_connection(sandbox, client, waits):
    title = "Support week - dropped connection test"
    sandbox.faults.script = ["drop"]

    with pytest.raises(UnreachableError):
        client.create(TICKETS, {"short_description": title, "u_etiu_code": "SUPPORT_WEEK"})

    assert sandbox.requests[("POST", TICKETS)] == 1
    assert waits == []
    # The instance dropped it before acting, and the worker did not send it again.
    assert sandbox.store.query(TICKETS, f"short_description={title}") == []


def test_a_post_refused_with_429_is_retried_and_creates_one_record(sandbox, client, waits):
    # 503 was retried here before: a 503 may come after the instance committed (see the next test).
    title = "Support week - refused then created"
    sandbox.faults.script = [429]

    created = client.create(TICKETS, {"short_description": title, "u_etiu_code": "SUPPORT_WEEK"})

    [stored] = sandbox.store.query(TICKETS, f"short_description={title}")
    assert stored["sys_id"] == created["sys_id"]
    assert sandbox.requests[("POST", TICKETS)] == 2 and len(waits) == 1


def test_a_post_answered_503_is_not_repeated_and_says_it_may_have_been_applied(sandbox, client, waits):
    sandbox.faults.script = [503]

    with pytest.raises(ServerError) as raised:
        client.create(TICKETS, {"short_description": "Support week - 503", "u_etiu_code": "SUPPORT_WEEK"})

    assert raised.value.maybe_applied is True
    assert sandbox.requests[("POST", TICKETS)] == 1 and waits == []


def test_a_work_note_is_not_repeated_after_a_dropped_connection(sandbox, client, waits):
    ticket = a_ticket(sandbox)
    note = "etiu-worker integration test note, posted at most once"
    sandbox.faults.script = ["drop"]

    with pytest.raises(UnreachableError):
        client.update(TICKETS, ticket["sys_id"], {"work_notes": note})

    entries = [e for e in sandbox.store.journal(TICKETS, ticket["sys_id"], "work_notes") if e["value"] == note]
    assert entries == []  # dropped before the instance acted, and not sent again
    assert sandbox.requests[("PATCH", TICKETS)] == 1 and waits == []


def test_a_plain_field_patch_is_retried_after_a_dropped_connection(sandbox, client, waits):
    ticket = a_ticket(sandbox)
    sandbox.faults.script = ["drop"]

    saved = client.update(TICKETS, ticket["sys_id"], {"short_description": "Kickoff - retried"})

    assert saved["short_description"] == "Kickoff - retried"
    assert sandbox.store.get(TICKETS, ticket["sys_id"])["short_description"] == "Kickoff - retried"
    assert len(waits) == 1


# --- credentials -------------------------------------------------------------------------------


def test_a_wrong_password_is_an_authentication_error_that_does_not_show_it(sandbox, waits):
    wrong = "Wr0ng-pa55word-NOT-TO-SHOW"
    with ServiceNowClient(settings_for(sandbox, password=wrong), sleep=waits.append) as client:
        with pytest.raises(AuthenticationError) as raised:
            client.list(TICKETS, ENGAGEMENT_TICKETS)

    error = raised.value
    assert error.status == 401 and error.exit_code == 4
    text = f"{error} {error!r} {error.detail} {error.message}"
    assert wrong not in text and PASSWORD not in text
    assert waits == []  # refused credentials are not retried
    assert sandbox.requests[("GET", TICKETS)] == 1
