"""The instance's clock (``Sandbox.clock_offset``, the Date header) and the API user's time zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import pytest
import requests

from etiu_worker.sandbox import Sandbox
from sandbox_helpers import http, sb, url  # noqa: F401 - fixtures

CHANGES = "change_request"
STAMP = "%Y-%m-%d %H:%M:%S"
BEHIND = timedelta(minutes=-15)


def stamped(text: str) -> datetime:
    return datetime.strptime(text, STAMP).replace(tzinfo=UTC)


def date_header(response: requests.Response) -> datetime:
    return parsedate_to_datetime(response.headers["Date"])


def test_every_answer_carries_a_date_header_from_the_instance_clock(sb, http):
    before = datetime.now(UTC).replace(microsecond=0)
    responses = [http.get(url(sb, CHANGES)), http.get(url(sb, CHANGES, "missing")), requests.get(url(sb, CHANGES))]
    after = datetime.now(UTC)
    assert [response.status_code for response in responses] == [200, 404, 401]
    for response in responses:
        assert response.headers["Date"].endswith(" GMT")
        assert before <= date_header(response) <= after


def test_a_clock_fifteen_minutes_behind_shows_in_the_date_header_and_in_every_stamp(sb, http):
    sb.clock_offset = BEHIND
    true_time = datetime.now(UTC)
    response = http.post(url(sb, CHANGES), json={"short_description": "Upgrade", "work_notes": "Planned"})
    created = response.json()["result"]
    entry, = sb.store.journal(sys_id=created["sys_id"])
    for moment in (date_header(response), stamped(created["sys_created_on"]), stamped(created["sys_updated_on"]),
                   stamped(entry["sys_created_on"])):
        assert abs(moment - (true_time + BEHIND)) < timedelta(seconds=5)


def test_the_offset_applies_to_a_test_clock_and_to_the_stores_own_writes(sb, http):
    sb.store.now = lambda: datetime(2026, 10, 14, 15, 0, 0, tzinfo=UTC)
    sb.clock_offset = BEHIND
    record = sb.store.insert(CHANGES, {"short_description": "By a person"})
    assert record["sys_updated_on"] == "2026-10-14 14:45:00"
    response = http.get(url(sb, CHANGES, record["sys_id"]))
    assert response.headers["Date"] == "Wed, 14 Oct 2026 14:45:00 GMT"


def test_the_default_clock_has_no_offset(sb):
    assert sb.clock_offset == timedelta(0)


@pytest.fixture
def new_york():
    with Sandbox(timezone="America/New_York").start() as sandbox, requests.Session() as session:
        session.auth = (sandbox.user, sandbox.password)
        yield sandbox, session


def test_display_value_all_gives_system_stamps_in_utc_and_in_the_users_zone(new_york):
    sb, http = new_york
    sb.store.now = lambda: datetime(2026, 10, 14, 19, 0, 0, tzinfo=UTC)
    record = sb.store.insert(CHANGES, {"start_date": "2026-10-20 23:00:00"})
    shown = http.get(url(sb, CHANGES, record["sys_id"]), params={"sysparm_display_value": "all"}).json()["result"]
    assert shown["sys_updated_on"] == {"value": "2026-10-14 19:00:00", "display_value": "2026-10-14 15:00:00"}
    assert shown["start_date"] == {"value": "2026-10-20 23:00:00", "display_value": "2026-10-20 19:00:00"}


def test_a_delta_query_in_utc_misses_a_recent_update_for_a_user_in_new_york(new_york):
    sb, http = new_york
    sb.store.now = lambda: datetime(2026, 10, 14, 15, 30, 0, tzinfo=UTC)  # 11:30 in New York
    record = sb.store.insert(CHANGES, {"short_description": "Edited at 15:30 UTC"})

    def since(moment: str) -> list[str]:
        params = {"sysparm_query": f"sys_updated_on>={moment}"}
        return [row["sys_id"] for row in http.get(url(sb, CHANGES), params=params).json()["result"]]

    assert since("2026-10-14 15:00:00") == []  # read as 15:00 New York, 19:00 UTC
    assert since("2026-10-14 11:00:00") == [record["sys_id"]]  # 11:00 New York
    assert sb.store.query(CHANGES, "sys_created_on>=2026-10-14 11:00:00")[0]["sys_id"] == record["sys_id"]


def test_a_utc_user_reads_the_same_query_in_utc(sb, http):
    sb.store.now = lambda: datetime(2026, 10, 14, 15, 30, 0, tzinfo=UTC)
    record = sb.store.insert(CHANGES, {})
    params = {"sysparm_query": "sys_updated_on>=2026-10-14 15:00:00"}
    assert [row["sys_id"] for row in http.get(url(sb, CHANGES), params=params).json()["result"]] == [record["sys_id"]]
