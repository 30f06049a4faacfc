"""The sandbox answers the Table API like a real instance: over real HTTP, with requests."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests

from etiu_worker.sandbox import Sandbox


class Clock:
    """A settable clock for ``store.now``: sys_updated_on then says exactly what the test expects."""

    def __init__(self, start: datetime) -> None:
        self.moment = start

    def __call__(self) -> datetime:
        return self.moment

    def advance(self, **delta: float) -> None:
        self.moment += timedelta(**delta)


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
def clock(sb):
    sb.store.now = Clock(datetime(2026, 3, 2, 15, 0, 0, tzinfo=UTC))
    return sb.store.now


def url(sb: Sandbox, table: str, sys_id: str = "", version: str = "") -> str:
    return f"{sb.url}/api/now/{version}table/{table}" + (f"/{sys_id}" if sys_id else "")


def install(sb: Sandbox, table: str) -> None:
    """Make a custom table exist on the instance (ServiceNow answers 400 Invalid table otherwise)."""
    sb.store.insert(table, {})


def create(http, sb, table: str, **fields) -> dict:
    response = http.post(url(sb, table), json=fields)
    assert response.status_code == 201, response.text
    return response.json()["result"]


# ----- authentication, routing and errors -----

def test_missing_credentials_are_refused_with_servicenows_401_envelope(sb):
    response = requests.get(url(sb, "change_request"))
    assert response.status_code == 401
    assert response.json() == {
        "error": {"message": "User Not Authenticated", "detail": "Required to provide Auth information"},
        "status": "failure",
    }


def test_a_wrong_password_is_refused_with_401(sb):
    response = requests.get(url(sb, "change_request"), auth=(sb.user, "not-the-password"))
    assert response.status_code == 401
    assert response.json()["error"]["message"] == "User Not Authenticated"


def test_an_unknown_sys_id_answers_404_no_record_found(sb, http):
    response = http.get(url(sb, "change_request", "0" * 32))
    assert response.status_code == 404
    assert response.json() == {
        "error": {"message": "No Record found",
                  "detail": "Record doesn't exist or ACL restricts the record retrieval"},
        "status": "failure",
    }


@pytest.mark.parametrize("method", ["PATCH", "PUT", "DELETE"])
def test_writing_or_deleting_a_missing_record_answers_404(sb, http, method):
    response = http.request(method, url(sb, "change_request", "f" * 32), json={"state": "3"})
    assert response.status_code == 404
    assert response.json()["error"]["message"] == "No Record found"


def test_an_unknown_path_answers_400_with_the_error_envelope(sb, http):
    response = http.get(f"{sb.url}/api/now/tables/change_request")
    assert response.status_code == 400
    body = response.json()
    assert body["status"] == "failure"
    assert body["error"]["message"].startswith("Requested URI does not represent any resource")


def test_a_body_that_is_not_json_answers_400(sb, http):
    response = http.post(url(sb, "change_request"), data="{not json", headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["error"] == {"message": "Exception while reading request",
                                        "detail": "The payload is not valid JSON."}


@pytest.mark.parametrize("version", ["v1/", "v2/"])
def test_versioned_paths_reach_the_same_table(sb, http, version):
    record = create(http, sb, "change_request", short_description="Versioned")
    response = http.get(url(sb, "change_request", record["sys_id"], version=version))
    assert response.json()["result"]["short_description"] == "Versioned"


# ----- creating, reading, updating, deleting -----

def test_post_answers_201_with_the_location_of_the_new_record(sb, http):
    response = http.post(url(sb, "change_request"), json={"short_description": "Prod upgrade"})
    assert response.status_code == 201
    created = response.json()["result"]
    assert response.headers["Location"] == url(sb, "change_request", created["sys_id"])
    assert http.get(response.headers["Location"]).json()["result"] == created


def test_a_new_record_has_a_sys_id_and_system_fields(sb, http, clock):
    created = create(http, sb, "u_etiu_ticket", u_etiu_code="ETIU01")
    assert len(created["sys_id"]) == 32 and int(created["sys_id"], 16) >= 0
    assert created["sys_created_on"] == created["sys_updated_on"] == "2026-03-02 15:00:00"
    assert created["sys_created_by"] == created["sys_updated_by"] == sb.user
    assert created["sys_mod_count"] == "0"


def test_numbers_are_generated_per_table_when_not_given(sb, http):
    assert create(http, sb, "u_etiu_ticket")["number"] == "ETIU0001001"
    assert create(http, sb, "u_etiu_ticket")["number"] == "ETIU0001002"
    assert create(http, sb, "change_request")["number"] == "CHG0030001"
    assert create(http, sb, "change_task")["number"] == "CTASK0010001"
    assert create(http, sb, "change_task", number="CTASK0010050")["number"] == "CTASK0010050"
    assert create(http, sb, "change_task")["number"] == "CTASK0010051"


def test_every_value_comes_back_as_a_string(sb, http):
    install(sb, "my_custom_table")
    created = create(http, sb, "my_custom_table", count=3, active=True, ratio=1.5, nothing=None)
    assert (created["count"], created["active"], created["ratio"], created["nothing"]) == ("3", "true", "1.5", "")
    ticket = create(http, sb, "u_etiu_ticket", state=2)
    assert ticket["state"] == "2" and ticket["work_start"] == ""


def test_patch_is_a_partial_update(sb, http):
    record = create(http, sb, "change_request", short_description="Upgrade", state="-5")
    response = http.patch(url(sb, "change_request", record["sys_id"]), json={"state": "-2"})
    assert response.status_code == 200
    assert response.json()["result"]["state"] == "-2"
    assert response.json()["result"]["short_description"] == "Upgrade"


def test_put_is_a_partial_update_too(sb, http):
    record = create(http, sb, "change_request", short_description="Upgrade", state="-5")
    response = http.put(url(sb, "change_request", record["sys_id"]), json={"state": "-2"})
    assert response.status_code == 200
    stored = http.get(url(sb, "change_request", record["sys_id"])).json()["result"]
    assert (stored["state"], stored["short_description"]) == ("-2", "Upgrade")


def test_delete_answers_204_without_a_body_and_the_record_is_gone(sb, http):
    record = create(http, sb, "change_task", short_description="Obsolete")
    response = http.delete(url(sb, "change_task", record["sys_id"]))
    assert response.status_code == 204 and response.content == b""
    assert http.get(url(sb, "change_task", record["sys_id"])).status_code == 404


def test_a_list_with_no_match_is_an_empty_result(sb, http):
    response = http.get(url(sb, "change_request"), params={"sysparm_query": "number=CHG9999999"})
    assert response.status_code == 200
    assert response.json() == {"result": []}
    assert response.headers["X-Total-Count"] == "0"


def test_unknown_fields_in_a_write_to_a_known_table_are_ignored_like_servicenow(sb, http):
    record = create(http, sb, "change_request", short_description="Upgrade", u_typo_field="lost")
    assert "u_typo_field" not in record
    patched = http.patch(url(sb, "change_request", record["sys_id"]), json={"u_other_typo": "x"}).json()["result"]
    assert "u_other_typo" not in patched and patched["sys_mod_count"] == "0"


def test_a_schemaless_table_stores_any_field(sb, http):
    install(sb, "u_anything")
    record = create(http, sb, "u_anything", colour="blue")
    assert http.get(url(sb, "u_anything", record["sys_id"])).json()["result"]["colour"] == "blue"


def test_system_fields_in_a_write_are_ignored(sb, http, clock):
    record = create(http, sb, "change_request", sys_created_on="2000-01-01 00:00:00")
    assert record["sys_created_on"] == "2026-03-02 15:00:00"
    patched = http.patch(url(sb, "change_request", record["sys_id"]),
                         json={"sys_mod_count": "40", "sys_updated_on": "2000-01-01 00:00:00"}).json()["result"]
    assert (patched["sys_mod_count"], patched["sys_updated_on"]) == ("0", "2026-03-02 15:00:00")


def test_requests_are_counted_by_method_and_table(sb, http):
    record = create(http, sb, "change_request")
    http.get(url(sb, "change_request"))
    http.get(url(sb, "change_request", record["sys_id"]))
    http.patch(url(sb, "change_request", record["sys_id"]), json={"state": "3"})
    assert sb.requests[("GET", "change_request")] == 2
    assert sb.requests[("POST", "change_request")] == 1
    assert sb.requests[("PATCH", "change_request")] == 1
    sb.reset_requests()
    assert not sb.requests


def test_the_store_bypasses_http_and_counts_no_request(sb, http):
    record = sb.store.insert("change_request", {"short_description": "Seeded"})
    assert sb.store.get("change_request", record["sys_id"])["short_description"] == "Seeded"
    assert not sb.requests
    assert http.get(url(sb, "change_request", record["sys_id"])).json()["result"]["number"] == record["number"]


# ----- references and display values -----

@pytest.fixture
def linked(sb):
    change = sb.store.insert("change_request", {"short_description": "Upgrade", "state": "-2"})
    task = sb.store.insert("change_task", {"change_request": change["sys_id"], "state": "3"})
    return change, task


def test_a_reference_is_a_link_and_a_value_by_default(sb, http, linked):
    change, task = linked
    field = http.get(url(sb, "change_task", task["sys_id"])).json()["result"]["change_request"]
    assert field == {"link": url(sb, "change_request", change["sys_id"]), "value": change["sys_id"]}


@pytest.mark.parametrize("flag", ["true", "True"])  # pysnow sends Python booleans as True/False
def test_exclude_reference_link_gives_the_bare_sys_id(sb, http, linked, flag):
    change, task = linked
    result = http.get(url(sb, "change_task", task["sys_id"]),
                      params={"sysparm_exclude_reference_link": flag}).json()["result"]
    assert result["change_request"] == change["sys_id"]


def test_display_value_true_gives_the_referenced_number_and_link_without_value(sb, http, linked):
    change, task = linked
    result = http.get(url(sb, "change_task", task["sys_id"]), params={"sysparm_display_value": "True"}).json()["result"]
    assert result["change_request"] == {"display_value": change["number"],
                                        "link": url(sb, "change_request", change["sys_id"])}
    assert result["state"] == "Closed"


def test_display_value_all_gives_display_value_value_and_link(sb, http, linked):
    change, task = linked
    result = http.get(url(sb, "change_task", task["sys_id"]), params={"sysparm_display_value": "all"}).json()["result"]
    assert result["change_request"] == {"display_value": change["number"], "value": change["sys_id"],
                                        "link": url(sb, "change_request", change["sys_id"])}
    assert result["state"] == {"display_value": "Closed", "value": "3"}
    assert result["number"] == {"display_value": task["number"], "value": task["number"]}


def test_a_user_reference_displays_the_users_name(sb, http):
    user = sb.store.insert("sys_user", {"user_name": "aja.d", "name": "Aja D."})
    ticket = sb.store.insert("u_etiu_ticket", {"assigned_to": user["sys_id"]})
    result = http.get(url(sb, "u_etiu_ticket", ticket["sys_id"]), params={"sysparm_display_value": "true",
                                                                         "sysparm_exclude_reference_link": "true"})
    assert result.json()["result"]["assigned_to"] == "Aja D."


def test_an_empty_reference_is_an_empty_string(sb, http):
    task = sb.store.insert("change_task", {"short_description": "Orphan"})
    assert http.get(url(sb, "change_task", task["sys_id"])).json()["result"]["change_request"] == ""


@pytest.mark.parametrize(("table", "state", "label"), [
    ("u_etiu_ticket", "3", "Closed Complete"), ("u_etiu_ticket", "2", "Work in Progress"),
    ("change_request", "-2", "Scheduled"), ("change_request", "4", "Canceled"),
    ("change_task", "-5", "Pending"), ("change_task", "2", "In Progress"),
])
def test_display_values_give_each_tables_state_labels(sb, http, table, state, label):
    record = sb.store.insert(table, {"state": state})
    result = http.get(url(sb, table, record["sys_id"]), params={"sysparm_display_value": "true"}).json()["result"]
    assert result["state"] == label


def test_display_values_show_date_times_in_the_users_time_zone():
    with Sandbox(timezone="America/New_York").start() as sb, requests.Session() as http:
        http.auth = (sb.user, sb.password)
        record = sb.store.insert("change_request", {"start_date": "2026-11-24 23:00:00"})
        shown = http.get(url(sb, "change_request", record["sys_id"]), params={"sysparm_display_value": "all"})
        assert shown.json()["result"]["start_date"] == {"display_value": "2026-11-24 18:00:00",
                                                         "value": "2026-11-24 23:00:00"}


def test_input_display_value_reads_written_date_times_in_the_users_time_zone():
    with Sandbox(timezone="Australia/Sydney").start() as sb, requests.Session() as http:
        http.auth = (sb.user, sb.password)
        response = http.post(url(sb, "change_request"), params={"sysparm_input_display_value": "true"},
                             json={"start_date": "2026-11-25 20:00:00"})
        assert response.json()["result"]["start_date"] == "2026-11-25 09:00:00"


def test_sysparm_fields_returns_only_the_fields_asked(sb, http, linked):
    change, task = linked
    result = http.get(url(sb, "change_task"), params={"sysparm_fields": "number, state,u_not_a_field"}).json()
    assert result["result"] == [{"number": task["number"], "state": "3"}]
    with_id = http.get(url(sb, "change_task", task["sys_id"]), params={"sysparm_fields": "sys_id,number"}).json()
    assert with_id["result"] == {"sys_id": task["sys_id"], "number": task["number"]}


def test_sysparm_fields_may_dot_walk_a_reference(sb, http, linked):
    change, task = linked
    result = http.get(url(sb, "change_task", task["sys_id"]), params={"sysparm_fields": "change_request.number"})
    assert result.json()["result"] == {"change_request.number": change["number"]}


def test_an_empty_sysparm_fields_means_every_field(sb, http, linked):
    change, _ = linked
    result = http.get(url(sb, "change_request", change["sys_id"]), params={"sysparm_fields": "", "sysparm_view": ""})
    assert "u_client_timezone" in result.json()["result"]


# ----- paging -----

@pytest.fixture
def seven(sb):
    return [sb.store.insert("change_task", {"short_description": f"Task {n}"})["number"] for n in range(7)]


def page(sb, http, **params) -> requests.Response:
    return http.get(url(sb, "change_task"), params={"sysparm_query": "ORDERBYnumber", **params})


def links(response: requests.Response) -> dict[str, dict[str, str]]:
    return {rel: dict(parse_qsl(urlsplit(link["url"]).query))
            for rel, link in response.links.items()}


def test_limit_and_offset_select_a_page(sb, http, seven):
    response = page(sb, http, sysparm_limit=3, sysparm_offset=3)
    assert [record["number"] for record in response.json()["result"]] == seven[3:6]
    assert response.headers["X-Total-Count"] == "7"


def test_the_link_header_names_first_prev_next_and_last_and_keeps_the_query(sb, http, seven):
    found = links(page(sb, http, sysparm_limit=3, sysparm_offset=3))
    assert {rel: params["sysparm_offset"] for rel, params in found.items()} == {
        "first": "0", "prev": "0", "next": "6", "last": "6"}
    assert all(params["sysparm_query"] == "ORDERBYnumber" and params["sysparm_limit"] == "3"
               for params in found.values())


def test_the_first_page_has_a_prev_link_with_offset_minus_one(sb, http, seven):
    assert links(page(sb, http, sysparm_limit=3))["prev"]["sysparm_offset"] == "-1"


def test_the_last_page_has_no_next_link(sb, http, seven):
    response = page(sb, http, sysparm_limit=3, sysparm_offset=6)
    assert [record["number"] for record in response.json()["result"]] == seven[6:]
    assert "next" not in response.links and "last" in response.links


def test_following_next_links_reads_every_record_once(sb, http, seven):
    numbers, response = [], page(sb, http, sysparm_limit=2)
    while True:
        numbers += [record["number"] for record in response.json()["result"]]
        if "next" not in response.links:
            break
        response = http.get(response.links["next"]["url"])
    assert numbers == seven


def test_the_default_limit_is_ten_thousand(sb, http):
    with sb.store.bulk():
        for _ in range(10001):
            sb.store.insert("u_bulk", {"n": "1"})
    response = http.get(url(sb, "u_bulk"))
    assert len(response.json()["result"]) == 10000
    assert response.headers["X-Total-Count"] == "10001"
    assert links(response)["next"]["sysparm_offset"] == "10000"


# ----- journal fields, sys_mod_count and sys_updated_on -----

@pytest.fixture
def change(sb, clock):
    return sb.store.insert("change_request", {"short_description": "Upgrade"})


def patch(http, sb, record: dict, **fields) -> dict:
    response = http.patch(url(sb, "change_request", record["sys_id"]), json=fields)
    assert response.status_code == 200, response.text
    return response.json()["result"]


def test_a_work_note_is_appended_to_sys_journal_field(sb, http, change, clock):
    patch(http, sb, change, work_notes="Timezone check")
    entries = http.get(url(sb, "sys_journal_field"),
                       params={"sysparm_query": f"element_idIN{change['sys_id']},{'0' * 32}^element=work_notes"})
    [entry] = entries.json()["result"]
    keys = ("element", "element_id", "name", "value", "sys_created_on", "sys_created_by")
    assert {key: entry[key] for key in keys} == {
        "element": "work_notes", "element_id": change["sys_id"], "name": "change_request",
        "value": "Timezone check", "sys_created_on": "2026-03-02 15:00:00", "sys_created_by": sb.user,
    }


def test_a_journal_field_reads_empty_unless_display_values_are_asked(sb, http, change):
    assert patch(http, sb, change, work_notes="Timezone check")["work_notes"] == ""


def test_journal_display_values_list_entries_newest_first(sb, http, change, clock):
    sb.store.insert("sys_user", {"user_name": sb.user, "name": "System Administrator"})
    patch(http, sb, change, work_notes="First")
    clock.advance(minutes=5)
    patch(http, sb, change, work_notes="Second", comments="Hello client")
    result = http.get(url(sb, "change_request", change["sys_id"]), params={"sysparm_display_value": "true"}).json()
    assert result["result"]["work_notes"] == (
        "2026-03-02 15:05:00 - System Administrator (Work notes)\nSecond\n\n"
        "2026-03-02 15:00:00 - System Administrator (Work notes)\nFirst\n\n"
    )
    assert result["result"]["comments"] == (
        "2026-03-02 15:05:00 - System Administrator (Additional comments)\nHello client\n\n")


def test_an_empty_journal_write_adds_nothing(sb, http, change):
    assert patch(http, sb, change, work_notes="")["sys_mod_count"] == "0"
    assert sb.store.journal(sys_id=change["sys_id"]) == []


def test_a_change_bumps_sys_mod_count_and_sys_updated_on(sb, http, change, clock):
    clock.advance(hours=1)
    updated = patch(http, sb, change, state="-2")
    assert (updated["sys_mod_count"], updated["sys_updated_on"], updated["sys_updated_by"]) == (
        "1", "2026-03-02 16:00:00", sb.user)
    clock.advance(hours=1)
    assert patch(http, sb, change, work_notes="Scheduled")["sys_mod_count"] == "2"


def test_a_write_that_changes_nothing_does_not_bump_the_record(sb, http, change, clock):
    clock.advance(hours=1)
    unchanged = patch(http, sb, change, short_description="Upgrade")
    assert (unchanged["sys_mod_count"], unchanged["sys_updated_on"]) == ("0", "2026-03-02 15:00:00")


def test_a_person_editing_through_the_store_moves_the_record_like_the_ui(sb, change, clock):
    clock.advance(minutes=30)
    edited = sb.store.update("change_request", change["sys_id"], {"state": "4", "work_notes": "Client canceled"},
                             user="aja.d")
    assert (edited["state"], edited["sys_mod_count"], edited["sys_updated_on"], edited["sys_updated_by"]) == (
        "4", "1", "2026-03-02 15:30:00", "aja.d")
    [entry] = sb.store.journal("change_request", change["sys_id"], "work_notes")
    assert (entry["value"], entry["sys_created_by"]) == ("Client canceled", "aja.d")


def test_the_store_may_age_a_record_for_a_story(sb, change):
    aged = sb.store.update("change_request", change["sys_id"], {"sys_updated_on": "2026-01-01 08:00:00"})
    assert (aged["sys_updated_on"], aged["sys_mod_count"]) == ("2026-01-01 08:00:00", "0")


def test_concurrent_writers_get_distinct_records_and_numbers(sb):
    def post_many(_: int) -> list[str]:
        with requests.Session() as session:
            session.auth = (sb.user, sb.password)
            return [session.post(url(sb, "u_etiu_ticket"), json={"state": "1"}).json()["result"]["number"]
                    for _ in range(25)]

    with ThreadPoolExecutor(max_workers=8) as pool:
        numbers = [number for batch in pool.map(post_many, range(8)) for number in batch]
    assert len(set(numbers)) == 200
    assert len(sb.store.query("u_etiu_ticket")) == 200
