"""Which tables the instance has ("Invalid table" for the rest), and the instance's own identity."""

from __future__ import annotations

import pytest
import requests

from etiu_worker.sandbox import Sandbox
from sandbox_helpers import http, sb, url  # noqa: F401 - fixtures

INVALID = {"error": {"message": "Invalid table u_etiu_tickets", "detail": None}, "status": "failure"}
SOME_ID = "0123456789abcdef0123456789abcdef"


@pytest.mark.parametrize(("method", "with_id"), [
    ("GET", False), ("GET", True), ("POST", False), ("PATCH", True), ("PUT", True), ("DELETE", True),
])
def test_every_method_on_a_table_the_instance_does_not_have_answers_400_invalid_table(sb, http, method, with_id):
    response = http.request(method, url(sb, "u_etiu_tickets", SOME_ID if with_id else ""),
                            json={"short_description": "x"} if method in ("POST", "PATCH", "PUT") else None)
    assert (response.status_code, response.json()) == (400, INVALID)
    assert sb.store.query("u_etiu_tickets") == []  # nothing was created


def test_versioned_paths_name_the_invalid_table_too(sb, http):
    response = http.get(f"{sb.url}/api/now/v2/table/x_acme_etiu")
    assert response.json()["error"]["message"] == "Invalid table x_acme_etiu"


@pytest.mark.parametrize("table", [
    "u_etiu_ticket", "change_request", "change_task", "sys_journal_field", "sys_user", "sys_audit", "sys_properties",
])
def test_declared_and_system_tables_exist_when_empty(sb, http, table):
    assert http.get(url(sb, table), params={"sysparm_query": "sys_id=none"}).json() == {"result": []}


def test_a_custom_table_exists_once_a_record_was_put_in_it_and_after_it_was_emptied(sb, http):
    assert http.get(url(sb, "u_custom")).status_code == 400
    record = sb.store.insert("u_custom", {"colour": "blue"})
    assert http.post(url(sb, "u_custom"), json={"colour": "red"}).status_code == 201
    sb.store.delete("u_custom", record["sys_id"])
    assert http.get(url(sb, "u_custom")).status_code == 200


def test_the_instance_name_is_a_property_readable_over_the_table_api():
    with Sandbox(instance_name="acme-dev").start() as sb:
        response = requests.get(url(sb, "sys_properties"), params={"sysparm_query": "name=instance_name"},
                                auth=(sb.user, sb.password), timeout=5)
        assert [(row["name"], row["value"]) for row in response.json()["result"]] == [("instance_name", "acme-dev")]
        assert sb.instance_name == "acme-dev"


def test_two_sandboxes_get_different_names_and_a_data_file_keeps_its_name(tmp_path):
    first, second = Sandbox(data_path=tmp_path / "one.sqlite3"), Sandbox()
    try:
        assert first.instance_name.startswith("sandbox-") and second.instance_name.startswith("sandbox-")
        assert first.instance_name != second.instance_name
    finally:
        first.stop()
        second.stop()
    reopened = Sandbox(data_path=tmp_path / "one.sqlite3")
    try:
        assert reopened.instance_name == first.instance_name
        assert len(reopened.store.query("sys_properties", "name=instance_name")) == 1
    finally:
        reopened.stop()


def test_a_name_given_when_reopening_renames_the_instance(tmp_path):
    Sandbox(data_path=tmp_path / "data.sqlite3").stop()
    renamed = Sandbox(data_path=tmp_path / "data.sqlite3", instance_name="acme-prod")
    try:
        assert [row["value"] for row in renamed.store.query("sys_properties", "name=instance_name")] == ["acme-prod"]
    finally:
        renamed.stop()


def test_the_demo_is_still_seeded_into_a_data_file_that_only_holds_the_instance_name(tmp_path):
    Sandbox(data_path=tmp_path / "data.sqlite3").stop()
    seeded = Sandbox(data_path=tmp_path / "data.sqlite3", seed_demo=True)
    try:
        assert seeded.store.query("u_etiu_ticket")
    finally:
        seeded.stop()
