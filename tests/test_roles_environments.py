"""Seed 004's shape from declarations alone: an intake case, a change request per environment
told apart by a code, and each change's tasks named by a step field; and seed 002's intake case
with its project and the project's tasks."""

from __future__ import annotations

import tomllib

from etiu_worker.engagement.grouping import build_engagements
from etiu_worker.engagement.role_loading import load_roles

STATES = """states = { pending = "-5", open = "1", closed = "3" }
meaning = { pending = "pending", open = "open", closed = "done" }"""


def _environment(name: str) -> str:
    return f"""
[records.{name}_change]
table = "change_request"
link = {{ ref = "parent", of = "intake" }}
identity = {{ field = "u_environment", value = "{name}" }}
{STATES}

[records.{name}_tasks]
table = "change_task"
link = {{ ref = "change_request", of = "{name}_change" }}
identity = {{ field = "u_step" }}
many = "each"
{STATES}
"""


CLOUD_PACK = """
[engagement]
key = { role = "intake", field = "number" }
name = { role = "intake", field = "short_description", after_last = " - " }

[records.intake]
table = "sn_customerservice_case"
fields = { deadline = { field = "u_deadline", type = "date" } }
""" + "".join(_environment(name) for name in ("dev", "uat", "prod"))

MANAGED_PACK = f"""
[engagement]
key = {{ role = "intake", field = "number" }}

[records.intake]
table = "sn_customerservice_case"
fields = {{ access_acknowledged = {{ field = "u_access_ack", type = "boolean" }} }}

[records.project]
table = "pm_project"
link = {{ ref = "u_case", of = "intake" }}
{STATES}

[records.activities]
table = "pm_project_task"
link = {{ ref = "parent", of = "project" }}
identity = {{ field = "u_step" }}
many = "each"
{STATES}
fields = {{ planned_days = {{ field = "planned_duration", type = "number" }} }}
"""


def _build(pack: str, tables: dict) -> list:
    return build_engagements(load_roles(tomllib.loads(pack)), tables, "Europe/Berlin")


def _record(number, state="1", **fields):
    return {"sys_id": f"id-{number}", "number": number, "state": state, "sys_updated_on": "2026-11-20 10:00:00", **fields}


def test_each_environment_has_its_own_change_and_tasks():
    tables = {
        "sn_customerservice_case": [_record("CS1", short_description="Acme - Platinum Services Request: Managed Upgrade",
                                            u_deadline="2027-02-01")],
        "change_request": [_record(f"CHG-{env}", parent="id-CS1", u_environment=env) for env in ("dev", "uat", "prod")],
        "change_task": [_record(f"CT-{env}-{step}", change_request=f"id-CHG-{env}", u_step=step)
                        for env in ("dev", "uat") for step in ("upgrade", "sanity_test")],
    }
    (engagement,) = _build(CLOUD_PACK, tables)
    assert [engagement.one(f"{env}_change").number for env in ("dev", "uat", "prod")] == ["CHG-dev", "CHG-uat", "CHG-prod"]
    assert [r.number for r in engagement.each("uat_tasks")] == ["CT-uat-sanity_test", "CT-uat-upgrade"]
    assert engagement.each("prod_tasks") == ()
    assert (engagement.name, engagement.zone.key, engagement.problems) == ("Platinum Services Request: Managed Upgrade",
                                                                           "Europe/Berlin", ())
    assert engagement.one("intake").deadline.isoformat() == "2027-02-01"


def test_a_change_for_an_environment_no_role_declares_is_a_problem():
    tables = {
        "sn_customerservice_case": [_record("CS1")],
        "change_request": [_record("CHG1", parent="id-CS1", u_environment="dev"),
                           _record("CHG2", parent="id-CS1", u_environment="staging")],
    }
    (engagement,) = _build(CLOUD_PACK, tables)
    assert [(p.key, p.message, p.table) for p in engagement.problems] == [(
        "unknown-code:CHG2",
        "CHG2 has the unknown code 'staging' in u_environment: no role of this pack has it (known: dev, prod, uat)",
        "change_request",
    )]


def test_an_intake_case_finds_its_project_and_the_project_its_activities():
    tables = {
        "sn_customerservice_case": [_record("CS1", u_access_ack="false"), _record("CS2", u_access_ack="true")],
        "pm_project": [_record("PRJ1", u_case="id-CS1")],
        "pm_project_task": [_record("PTK1", parent="id-PRJ1", u_step="prepare_environment", planned_duration="2"),
                            _record("PTK2", parent="id-PRJ1", u_step="upgrade_dev", state="-5", planned_duration="5")],
    }
    first, second = _build(MANAGED_PACK, tables)
    assert first.one("intake").access_acknowledged is False
    assert {step: (r.planned_days, r.is_open) for step, r in first.by_step("activities").items()} == {
        "prepare_environment": (2, True), "upgrade_dev": (5, False)}
    assert (second.key, second.one("project"), second.each("activities")) == ("CS2", None, ())


def test_two_changes_for_one_environment_are_a_problem_and_neither_counts():
    tables = {
        "sn_customerservice_case": [_record("CS1")],
        "change_request": [_record("CHG2", parent="id-CS1", u_environment="uat"),
                           _record("CHG1", parent="id-CS1", u_environment="uat")],
    }
    (engagement,) = _build(CLOUD_PACK, tables)
    assert [(p.key, p.message, p.number) for p in engagement.problems] == [
        ("duplicate-code:uat", "2 records carry the code uat: CHG1, CHG2; keep one and close the others", "CHG1")]
    assert engagement.one("uat_change") is None
