"""Raw records grouped into engagements by the roles of seed 003 (a release change shared by
every customer, found from each customer's task) and seed 000 (tasks named by a step field)."""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest
from jinja2 import StrictUndefined
from jinja2.sandbox import ImmutableSandboxedEnvironment

from etiu_worker.engagement.grouping import build_engagements
from etiu_worker.playbook.names import names_of
from roles_helpers import RELEASE_PACK, STEPS_PACK, declarations

UPDATED = "2026-11-20 10:00:00"


def case(number, customer, zone=""):
    return {"sys_id": f"s-{number}", "number": number, "state": "10", "u_customer": customer,
            "u_client_timezone": zone, "u_opt_out_at": "", "u_next_cycle": "2027-01-12", "sys_updated_on": UPDATED}


def task(number, case_number, release="CHG1", state="-5", **fields):
    return {"sys_id": f"k-{number}", "number": number, "state": state, "u_customer_case": {"value": f"s-{case_number}"},
            "change_request": f"c-{release}", "planned_start_date": "2026-12-10 08:00:00", "sys_updated_on": UPDATED, **fields}


def release(number, state="-2"):
    return {"sys_id": f"c-{number}", "number": number, "state": state, "start_date": "2026-12-07 00:00:00",
            "sys_updated_on": UPDATED}


def monthly(pack=RELEASE_PACK, **extra):
    tables = {
        "sn_customerservice_case": [case("CS1", "Acme", "Europe/Berlin"), case("CS2", "Beta")],
        "change_task": [task("CT1", "CS1"), task("CT2", "CS2"), task("CT3", "CS9")],
        "change_request": [release("CHG1"), release("CHG2")],
        **extra,
    }
    return {engagement.key: engagement for engagement in build_engagements(declarations(pack), tables, "America/New_York")}


def test_every_customer_finds_the_one_shared_release_change_through_its_task():
    engagements = monthly()
    assert sorted(engagements) == ["CS1", "CS2"]
    assert {key: engagement.one("release").number for key, engagement in engagements.items()} == {"CS1": "CHG1", "CS2": "CHG1"}
    assert {key: engagement.one("upgrade").number for key, engagement in engagements.items()} == {"CS1": "CT1", "CS2": "CT2"}
    assert all(not engagement.problems for engagement in engagements.values())


def test_the_zone_and_name_come_from_the_case_with_the_pack_default_zone():
    engagements = monthly()
    assert [(e.name, e.zone.key) for e in engagements.values()] == [("Acme", "Europe/Berlin"), ("Beta", "Europe/London")]


def test_a_release_change_two_customers_find_is_a_problem_unless_declared_shared():
    engagements = monthly(RELEASE_PACK.replace(", shared = true", ""))
    assert {key: [p.key for p in e.problems] for key, e in engagements.items()} == {"CS1": ["claimed:CHG1"], "CS2": ["claimed:CHG1"]}
    assert engagements["CS1"].problems[0].message == (
        "CHG1 (release) is found by the engagements CS1, CS2: set link.shared = true on records.release if one "
        "record serves many")


def test_the_typed_fields_of_a_case_read_as_dates_and_references():
    engagement = monthly()["CS1"]
    assert engagement.one("case").next_cycle.isoformat() == "2027-01-12"
    assert engagement.one("case").opt_out_at is None
    assert engagement.one("upgrade").release == "c-CHG1"
    assert engagement.one("upgrade").slot_start == datetime(2026, 12, 10, 8, tzinfo=timezone.utc)


def change(key="E1", zone="America/Chicago", **fields):
    return {"sys_id": f"c-{key}", "number": f"CHG-{key}", "correlation_id": key, "state": "-2", "u_client_timezone": zone,
            "u_launch_local": "2026-12-05 09:00", "u_qa_period_bd": "5", "u_rollback_decided": "false",
            "sys_updated_on": UPDATED, **fields}


def step(number, step_id, state="-5", key="E1"):
    return {"sys_id": f"k-{number}", "number": number, "change_request": f"c-{key}", "u_step": step_id,
            "state": state, "assigned_to": "", "sys_updated_on": UPDATED}


def launch(changes, tasks):
    tables = {"change_request": changes, "change_task": tasks}
    return build_engagements(declarations(STEPS_PACK), tables, "America/New_York")


def test_tasks_named_by_a_step_field_are_each_found_with_their_step_id():
    (engagement,) = launch([change()], [step("CT3", "P3", "3"), step("CT1", "P1", "7"), step("CT2", "P2", "1")])
    assert [(r.number, r.step, r.state) for r in engagement.each("tasks")] == [
        ("CT1", "P1", "skipped"), ("CT2", "P2", "open"), ("CT3", "P3", "closed")]
    assert sorted(engagement.by_step("tasks")) == ["P1", "P2", "P3"]
    assert [(r.is_skipped, r.is_open, r.is_done, r.is_closed) for r in engagement.each("tasks")] == [
        (True, False, False, True), (False, True, False, False), (False, False, True, True)]
    assert engagement.problems == ()


def test_two_tasks_for_one_step_are_a_problem():
    (engagement,) = launch([change()], [step("CT1", "L1"), step("CT2", "L1")])
    assert [(p.key, p.message) for p in engagement.problems] == [
        ("duplicate-step:tasks:L1", "2 tasks records are the step L1: CT1, CT2; keep one")]


def test_a_local_launch_time_is_read_on_the_engagement_wall_clock():
    (engagement,) = launch([change()], [])
    launch_time = engagement.one("change").launch
    assert launch_time == datetime(2026, 12, 5, 9, tzinfo=ZoneInfo("America/Chicago"))
    assert launch_time.astimezone(timezone.utc).hour == 15
    assert (engagement.one("change").qa_days, engagement.one("change").rollback) == (5, False)


UNREADABLE = {
    "a local time the clocks skip": (
        {"u_launch_local": "2026-03-08 02:30"},
        ("bad-date:CHG-E1:u_launch_local", "CHG-E1 has u_launch_local = '2026-03-08 02:30', not a time that exists "
                                           "in America/Chicago (the clocks skip this one)")),
    "a local time with an offset": (
        {"u_launch_local": "2026-12-05 09:00+01:00"},
        ("bad-date:CHG-E1:u_launch_local", "CHG-E1 has u_launch_local = '2026-12-05 09:00+01:00', not a local date "
                                           "and time like 2026-11-24 13:00 in America/Chicago, without a UTC offset")),
    "a number in words": (
        {"u_qa_period_bd": "five"},
        ("bad-number:CHG-E1:u_qa_period_bd", "CHG-E1 has u_qa_period_bd = 'five', not a number like 5 or 2.5")),
    "a yes-or-no as a maybe": (
        {"u_rollback_decided": "maybe"},
        ("bad-boolean:CHG-E1:u_rollback_decided", "CHG-E1 has u_rollback_decided = 'maybe', not true or false")),
    "an unknown state": (
        {"state": "-4"},
        ("unknown-state:CHG-E1:-4", "CHG-E1 is in state '-4', which the playbook does not know")),
    "an unknown zone": (
        {"u_client_timezone": "Chicago"},
        ("timezone:Chicago", "the client time zone 'Chicago' is not an IANA zone such as America/New_York "
                             "(read from change_request.u_client_timezone)")),
}


@pytest.mark.parametrize(("fields", "problem"), UNREADABLE.values(), ids=UNREADABLE.keys())
def test_an_unreadable_value_is_a_problem_on_its_record_not_an_error(fields, problem):
    (engagement,) = launch([change(**fields)], [])
    assert [(p.key, p.message) for p in engagement.problems] == [problem]
    assert engagement.problems[0].number == "CHG-E1"


def test_a_record_reads_by_alias_in_a_sandboxed_template():
    (engagement,) = launch([change()], [step("CT1", "P4", "3")])
    env = ImmutableSandboxedEnvironment(undefined=StrictUndefined)
    text = env.from_string("{{ change.launch.strftime('%H:%M') }} {{ task.step }} {{ task.is_done }}").render(
        change=engagement.one("change"), task=engagement.one("tasks"))
    assert text == "09:00 P4 True"


def test_a_misspelt_alias_or_role_says_what_was_meant():
    (engagement,) = launch([change()], [])
    with pytest.raises(AttributeError, match=r"change has no field 'lanch' \(did you mean 'launch'\?\)"):
        engagement.one("change").lanch
    with pytest.raises(KeyError, match=r"'task' is not a role of this pack \(did you mean 'tasks'\?\)"):
        engagement.one("task")


def test_the_names_a_condition_can_read_on_a_record_include_its_aliases():
    (engagement,) = launch([change()], [])
    assert {"launch", "qa_days", "rollback", "state", "is_done", "number"} <= set(names_of(engagement.one("change")))


def test_records_are_frozen_and_compare_by_value():
    first, second = (launch([change()], [])[0].one("change") for _ in range(2))
    assert first == second and hash(first) == hash(second)
    with pytest.raises(AttributeError):
        first.state = "closed"
