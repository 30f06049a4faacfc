"""The VIP upgrade pack's story end to end: the sandbox over HTTP on loopback, seeded with the pack's
demo engagements and three more upgrades this test puts in, and the real console script with
ETIU_RULES__PACKS naming packs/vip-upgrade.

The first run creates a new upgrade's checklist, gives a launch step back to the upgrade owner,
says when QA ends, closes an upgrade whose QA period is over, and creates a decided rollback's
steps last first, the first of them open. A second run writes nothing. Then the upgrade owner
closes the rollback's steps one by one: each run opens the next, and the last closes the change
as unsuccessful and flags that the next upgrade date must be set. Every write is read back from
the instance. `report` and `report --html` show the pack's phases and next deadlines.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import pytest

from etiu_worker.sandbox import Sandbox
from etiu_worker.sandbox.demo_packs import seed_packs
from etiu_worker.sandbox.demo_parts import business_days, early, ensure_users, local, stamp
from integration_helpers import PASSWORD, REPO, cycle_rows, describe, etiu, split_notes, worker_env, writes

PACK = REPO / "packs" / "vip-upgrade"
PENDING, OPEN, CLOSED, CANCELED = "-5", "1", "3", "4"
CHANGE_CLOSED = "3"
ZONE = "America/New_York"


def insert_upgrade(store, today: date, users: dict[str, str], client: str, launch_day: int,
                   tasks: dict[str, tuple[str, float]], **change: str) -> dict[str, str]:
    """A VIP upgrade change launched ``launch_day`` business days from today at 10:00 New York, its
    pre-launch steps closed the days before, and ``tasks`` (step: (state, hours after the launch))."""
    launch = local(business_days(today, launch_day), "10:00", ZONE)
    record = store.insert("change_request", {
        "short_description": f"VIP upgrade - {client}", "state": "-1", "u_upgrade_service": "vip_upgrade",
        "u_client_timezone": ZONE, "u_upgrade_owner": users["dana.k"], "u_qa_period_bd": "5",
        "u_rollback_decided": "false", "u_agreed_local": f"{launch:%Y-%m-%d %H:%M}",
        "start_date": stamp(launch), "end_date": stamp(launch + timedelta(hours=4)), **change})
    if tasks:
        for n, step in enumerate(("P1", "P2", "P3", "P4")):
            insert_task(store, record, step, CANCELED if step == "P1" else CLOSED, early(business_days(today, launch_day - 4 + n)))
    for step, (state, hours) in tasks.items():
        insert_task(store, record, step, state, launch + timedelta(hours=hours),
                    users["dana.k"] if step in ("L2", "L3", "L4") else users["pete.s"])
    return record


def insert_task(store, change: dict[str, str], step: str, state: str, at: datetime, assignee: str = "") -> None:
    store.insert("change_task", {"change_request": change["sys_id"], "u_step": step, "short_description": step,
                                 "state": state, "assigned_to": assignee, "sys_updated_on": stamp(at)})


def tasks_of(store, change: dict[str, str]) -> dict[str, dict[str, str]]:
    return {task["u_step"]: task for task in store.query("change_task", f"change_request={change['sys_id']}")}


def notes(store, record: dict[str, str], element: str) -> list[str]:
    return split_notes([entry["value"] for entry in store.journal(sys_id=record["sys_id"], element=element)])


def run(sandbox, env) -> dict:
    sandbox.reset_requests()
    result = etiu(["run", "--once"], env)
    assert result.returncode == 0, describe(result)
    return {"result": result, "rows": cycle_rows(result.stdout), "writes": writes(sandbox)}


def close(store, change: dict[str, str], step: str) -> None:
    """The upgrade owner closes a rollback step."""
    store.update("change_task", tasks_of(store, change)[step]["sys_id"], {"state": CLOSED})


@pytest.fixture(scope="module")
def story(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("vip")
    with Sandbox(password=PASSWORD).start(port=0) as sandbox:
        store = sandbox.store
        today = store.now().astimezone(store.zone).date()
        demo = {item.story: item.key for item in seed_packs(store, today, packs=("vip-upgrade",))["vip-upgrade"]}
        users = ensure_users(store)
        fresh = insert_upgrade(store, today, users, "Hooli Post", 5, {}, state="-4", u_agreed_local="",
                               start_date="", end_date="")
        qa_over = insert_upgrade(store, today, users, "Umbrella Daily", -12, {
            "L1": (CLOSED, 0.25), "L2": (CLOSED, 0.5), "L3": (CLOSED, 1), "L4": (CLOSED, 1.5), "L5": (CLOSED, 3),
            "L6": (OPEN, 3)}, state="0")
        rollback = insert_upgrade(store, today, users, "Soylent Times", -3, {
            "L1": (CLOSED, 0.25), "L2": (CANCELED, 0.5), "L3": (CLOSED, 1), "L4": (CLOSED, 1.5), "L5": (CLOSED, 3),
            "L6": (PENDING, 0)}, u_rollback_decided="true")
        env = worker_env(tmp_path, sandbox, RULES__PACKS=json.dumps([str(PACK)]))
        first = run(sandbox, env)
        read_back = {"fresh": tasks_of(store, fresh), "qa_over": (store.get("change_request", qa_over["sys_id"]),
                                                                   tasks_of(store, qa_over)),
                     "rollback": tasks_of(store, rollback)}
        second = run(sandbox, env)
        close(store, rollback, "R4")
        third = run(sandbox, env)
        after_third = tasks_of(store, rollback)
        close(store, rollback, "R3")
        fourth = run(sandbox, env)
        fifth = run(sandbox, env)
        html = tmp_path / "report" / "vip.html"
        html.parent.mkdir()
        yield {"store": store, "users": users, "demo": demo, "fresh": fresh, "qa_over": qa_over, "rollback": rollback,
               "first": first, "read_back": read_back, "second": second, "third": third, "after_third": after_third,
               "fourth": fourth, "fifth": fifth, "report": etiu(["report"], env),
               "html": (etiu(["report", "--html", str(html)], env), html)}


def done(cycle, number: str) -> list[tuple[str, str, str]]:
    """(record, rule, action) of each write the run did for the engagement ``number``."""
    return [(row["record"], row["rule"], row["action"]) for row in cycle["rows"]
            if row["engagement"] == number and row["outcome"] == "done"]


def test_the_first_run_creates_a_new_upgrades_checklist_pending_with_the_owner_on_l2_to_l4(story):
    created = story["read_back"]["fresh"]
    owner = story["users"]["dana.k"]

    assert list(created) == ["P1", "P2", "P3", "P4", "L1", "L2", "L3", "L4", "L5", "L6"]
    assert {task["state"] for task in created.values()} == {PENDING}
    assert {step: task["assigned_to"] for step, task in created.items() if task["assigned_to"]} == {
        "L2": owner, "L3": owner, "L4": owner}
    assert created["L3"]["short_description"] == "Initiate the upgrade from the VIP Dashboard"
    assert done(story["first"], story["fresh"]["number"]) == [(f"tasks {step}", "create_steps", "create") for step in created]


def test_the_first_run_gives_a_launch_step_assigned_to_someone_else_back_to_the_upgrade_owner(story):
    store = story["store"]
    key = story["demo"]["launch_day"]
    change = store.query("change_request", f"number={key}")[0]

    assert ("tasks L4", "upgrade_owner", "set_field") in done(story["first"], key)
    assert tasks_of(store, change)["L4"]["assigned_to"] == change["u_upgrade_owner"]


def test_the_first_run_tells_the_customer_when_the_qa_period_ends_and_where_later_issues_go(story):
    store = story["store"]
    key = story["demo"]["qa_period"]
    change = store.query("change_request", f"number={key}")[0]
    [comment] = notes(store, change, "comments")

    assert ("change request", "qa_period", "comment") in done(story["first"], key)
    assert "until the QA period ends on " in comment and "(Australia/Sydney)" in comment
    assert "go through Zendesk, the normal support workflow" in comment


def test_an_upgrade_whose_qa_period_is_over_has_l6_and_its_change_closed_successful(story):
    change, tasks = story["read_back"]["qa_over"]

    assert (change["state"], change["close_code"]) == (CHANGE_CLOSED, "successful")
    assert tasks["L6"]["state"] == CLOSED
    assert [row[1:] for row in done(story["first"], change["number"])] == [
        ("window_verified", "work_note"), ("qa_period", "comment"), ("qa_period_over", "set_state"),
        ("qa_period_over", "set_field"), ("qa_period_over", "set_state")]


def test_a_decided_rollback_gets_the_steps_done_at_launch_last_first_the_first_open(story):
    tasks = story["read_back"]["rollback"]
    owner = story["users"]["dana.k"]

    # L2 was cancelled as not needed: there is no R2 to revert it.
    assert [(step, tasks[step]["state"], tasks[step]["assigned_to"]) for step in ("R4", "R3")] == [
        ("R4", OPEN, owner), ("R3", PENDING, owner)]
    assert "R2" not in tasks
    assert tasks["R3"]["short_description"] == "Revert: Initiate the upgrade from the VIP Dashboard"
    assert [row[0] for row in done(story["first"], story["rollback"]["number"]) if row[2] == "create"] == ["tasks R4", "tasks R3"]


def test_a_second_run_writes_nothing(story):
    assert story["second"]["writes"] == {}
    assert "Nothing to do" in story["second"]["result"].stdout


def test_each_rollback_step_is_opened_once_the_one_before_it_is_closed(story):
    assert done(story["third"], story["rollback"]["number"]) == [("tasks R3", "rollback", "set_state")]
    assert story["after_third"]["R3"]["state"] == OPEN


def test_the_rollback_done_closes_the_change_unsuccessful_and_flags_the_next_upgrade_date(story):
    store = story["store"]
    change = store.get("change_request", story["rollback"]["sys_id"])
    [flag] = [note for note in notes(store, change, "work_notes") if note.startswith("[VIP FLAG]")]

    assert done(story["fourth"], change["number"]) == [
        ("change request", "rollback_done", "set_field"), ("change request", "rollback_done", "set_state"),
        ("change request", "rollback_done", "flag")]
    assert (change["state"], change["close_code"]) == (CHANGE_CLOSED, "unsuccessful")
    assert "agree the next upgrade date with the customer" in flag
    assert story["fifth"]["writes"] == {}


def test_the_report_shows_the_packs_phases_and_next_deadlines(story):
    result = story["report"]
    rows = {row[0]: row for row in _rows(result.stdout)}

    assert result.returncode == 0, describe(result)
    phases = {key: row[2] for key, row in rows.items()}
    assert phases[story["demo"]["launch_agreed"]] == "launch agreed"
    assert phases[story["demo"]["qa_period"]] == "qa period"
    assert phases[story["fresh"]["number"]] == "pre launch"
    assert phases[story["qa_over"]["number"]] == "done"
    assert phases[story["rollback"]["number"]] == "rolled back"
    assert "launch " in rows[story["demo"]["launch_agreed"]][-2]
    assert "QA period ends " in rows[story["demo"]["qa_period"]][-2]


def test_the_html_report_is_written_with_the_packs_phases_and_deadlines(story):
    result, page = story["html"]

    assert result.returncode == 0, describe(result)
    text = page.read_text(encoding="utf-8")
    for words in ("VIP upgrades", "qa period", "launch agreed", "rolled back", "QA period ends", "Rollback decided"):
        assert words in text, words


def _rows(text: str) -> list[list[str]]:
    from integration_helpers import table_rows
    return [row for row in table_rows(text) if row and row[0].startswith("CHG")]



def test_beside_the_etiu_pack_each_pack_takes_its_own_engagements_and_a_second_run_writes_nothing(tmp_path):
    with Sandbox(seed_demo=True, password=PASSWORD).start(port=0) as sandbox:
        today = sandbox.store.now().astimezone(sandbox.store.zone).date()
        seed_packs(sandbox.store, today, packs=("vip-upgrade",))
        env = worker_env(tmp_path, sandbox, RULES__PACKS=json.dumps(["etiu", str(PACK)]))
        first = run(sandbox, env)
        second = run(sandbox, env)

    assert "packs: etiu 14 engagements, vip-upgrade 5 engagements" in first["result"].stdout
    assert {row["rule"] for row in first["rows"]} >= {"window_verified", "upgrade_owner", "qa_period"}
    assert second["writes"] == {}
