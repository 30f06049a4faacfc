"""Field history: every update of a task table leaves sys_audit rows, readable where ACLs allow."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from sandbox_helpers import http, sb, url  # noqa: F401 - fixtures

TICKETS, AUDIT = "u_etiu_ticket", "sys_audit"
ROW_FIELDS = ("tablename", "documentkey", "fieldname", "oldvalue", "newvalue", "user", "reason",
              "record_checkpoint", "sys_created_on")


@pytest.fixture
def ticket(sb):
    sb.store.now = lambda: datetime(2026, 10, 14, 15, 0, 0, tzinfo=UTC)
    return sb.store.insert(TICKETS, {"short_description": "Acme | BP: 2026-12-10", "state": "1"})


def history(sb, http, query: str) -> list[tuple[str, ...]]:
    response = http.get(url(sb, AUDIT), params={"sysparm_query": query})
    assert response.status_code == 200, response.text
    return [tuple(row[name] for name in ROW_FIELDS) for row in response.json()["result"]]


def test_a_patch_leaves_one_row_per_changed_field_and_none_for_the_work_note(sb, http, ticket):
    http.patch(url(sb, TICKETS, ticket["sys_id"]),
               json={"short_description": "Acme | BP: 2026-12-11", "state": "2", "work_notes": "Moved"})
    assert sorted(history(sb, http, f"documentkey={ticket['sys_id']}")) == [
        (TICKETS, ticket["sys_id"], "short_description", "Acme | BP: 2026-12-10", "Acme | BP: 2026-12-11",
         sb.user, "", "1", "2026-10-14 15:00:00"),
        (TICKETS, ticket["sys_id"], "state", "1", "2", sb.user, "", "1", "2026-10-14 15:00:00"),
    ]


def test_a_persons_edit_through_the_store_is_audited_with_their_name_and_the_records_checkpoint(sb, http, ticket):
    sb.store.update(TICKETS, ticket["sys_id"], {"state": "2"}, user="aja.d")
    sb.store.update(TICKETS, ticket["sys_id"], {"short_description": "Acme | BP: 2026-12-12"}, user="jesse.m")
    rows = history(sb, http, f"tablename={TICKETS}^fieldname=short_description^documentkeyIN{ticket['sys_id']},other")
    assert [(row[4], row[5], row[7]) for row in rows] == [("Acme | BP: 2026-12-12", "jesse.m", "2")]


def test_a_back_dated_edit_is_audited_at_the_time_the_record_says(sb, http, ticket):
    sb.store.update(TICKETS, ticket["sys_id"], {"state": "3", "sys_updated_on": "2026-10-14 09:00:00"})
    assert [row[8] for row in history(sb, http, f"documentkey={ticket['sys_id']}")] == ["2026-10-14 09:00:00"]


@pytest.mark.parametrize("table", ["change_request", "change_task"])
def test_change_requests_and_tasks_are_audited_too(sb, http, table):
    record = sb.store.insert(table, {"state": "-5"})
    http.patch(url(sb, table, record["sys_id"]), json={"state": "3"})
    assert [(row[0], row[2], row[3], row[4]) for row in history(sb, http, f"documentkey={record['sys_id']}")] == [
        (table, "state", "-5", "3")]


def test_a_write_that_changes_nothing_and_a_work_note_alone_leave_no_history(sb, http, ticket):
    http.patch(url(sb, TICKETS, ticket["sys_id"]), json={"state": "1"})
    noted = http.patch(url(sb, TICKETS, ticket["sys_id"]), json={"work_notes": "Checked"}).json()["result"]
    assert noted["sys_mod_count"] == "1"  # a note is an update of the record all the same
    assert history(sb, http, f"documentkey={ticket['sys_id']}") == []


def test_every_update_moves_sys_mod_count_by_one_and_names_the_writer(sb, http, ticket):
    counts = []
    for state in ("2", "3", "2"):
        result = http.patch(url(sb, TICKETS, ticket["sys_id"]), json={"state": state}).json()["result"]
        counts.append((result["sys_mod_count"], result["sys_updated_by"]))
    assert counts == [("1", sb.user), ("2", sb.user), ("3", sb.user)]
    assert [row[7] for row in history(sb, http, f"documentkey={ticket['sys_id']}^ORDERBYrecord_checkpoint")] == [
        "1", "2", "3"]


def test_a_write_whose_answer_was_lost_is_in_the_history(sb, http, ticket):
    sb.faults.script = ["applied_504"]
    assert http.patch(url(sb, TICKETS, ticket["sys_id"]), json={"state": "3"}).status_code == 504
    assert [row[4] for row in history(sb, http, f"documentkey={ticket['sys_id']}")] == ["3"]


def test_inserts_are_not_audited_unless_the_instance_audits_inserts(sb, http):
    quiet = http.post(url(sb, TICKETS), json={"short_description": "New"}).json()["result"]
    sb.audit_inserts = True
    loud = http.post(url(sb, TICKETS), json={"short_description": "Newer"}).json()["result"]
    assert history(sb, http, f"documentkey={quiet['sys_id']}") == []
    rows = {row[2]: row for row in history(sb, http, f"documentkey={loud['sys_id']}")}
    assert rows["short_description"][3:5] == ("", "Newer") and rows["short_description"][7] == "0"
    assert set(rows) == {"number", "short_description", "state"}  # the fields given a value


def test_other_tables_are_not_audited(sb, http):
    user = sb.store.insert("sys_user", {"user_name": "aja.d"})
    sb.store.update("sys_user", user["sys_id"], {"name": "Aja D."})
    assert history(sb, http, "") == []


def test_without_the_audit_role_reading_sys_audit_is_refused_with_403(sb, http, ticket):
    sb.audit_readable = False
    for response in (http.get(url(sb, AUDIT)), http.get(url(sb, AUDIT, ticket["sys_id"]))):
        assert response.status_code == 403
        assert response.json() == {"error": {"message": "User Not Authorized",
                                              "detail": "Failed API level ACL Validation"}, "status": "failure"}
    sb.store.update(TICKETS, ticket["sys_id"], {"state": "3"})
    assert len(sb.store.query(AUDIT)) == 1  # still kept, only not readable by this user
