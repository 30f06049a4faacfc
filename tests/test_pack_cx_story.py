"""The Aurea CX managed upgrade pack's story, end to end: the real worker (``etiu-worker run --once``
as a subprocess, ETIU_RULES__PACKS naming packs/aurea-cx-managed) against the sandbox over HTTP on
loopback, with five requests put in relative to the true time (the worker reads the real clock):

- a new request with two intake items missing: one customer comment lists them, and the delivery
  process is laid out as one pending case task per activity (13 created beside the one there);
- a final playbook delivered two hours ago: the on-call task goes to work in progress and the
  customer is told on-call support lasts a week;
- a final playbook delivered eight days ago: the on-call task is closed and the customer told
  that further help is paid work;
- an upgrade started while the customer's environment is not prepared: flagged on the upgrade
  task, and the customer reminded;
- two tasks for one activity: flagged once, nothing else written.

Each write is read back from the instance; a second run writes nothing; the report (text and
HTML) shows the pack's phases and next deadlines.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from etiu_worker.sandbox import Sandbox
from etiu_worker.sandbox.demo_parts import ensure_users
from etiu_worker.sandbox.store import Store
from integration_helpers import PASSWORD, REPO, describe, etiu, worker_env, writes

PACK = REPO / "packs" / "aurea-cx-managed"
CASES, TASKS = "sn_customerservice_case", "sn_customerservice_task"
CLOSED, PENDING, OPEN, WIP = "3", "-5", "1", "2"
ORDER = ("respond", "acknowledge", "setup", "prepare_upgrade", "prepare_environment", "backup", "upgrade", "test",
         "fix_retest", "create_playbook", "review_playbook", "revise_playbook", "final_playbook", "oncall")
NOW = datetime.now(timezone.utc)


def stamp(hours_ago: float) -> str:
    return (NOW - timedelta(hours=hours_ago)).strftime("%Y-%m-%d %H:%M:%S")


def put_case(store: Store, customer: str, hours_ago: float, **fields: str) -> dict:
    return dict(store.insert(CASES, {
        "short_description": f"{customer} - Platinum Services Request: Managed Upgrade", "state": "10",
        "u_customer": customer, "u_upgrade_service": "cx_managed_upgrade", "u_client_timezone": "America/Chicago",
        "opened_at": stamp(hours_ago), "u_current_version": "CX Process 16.2",
        "u_earliest_start": (NOW - timedelta(days=60)).date().isoformat(),
        "u_ideal_start": (NOW - timedelta(days=50)).date().isoformat(),
        "u_deadline": (NOW + timedelta(days=120)).date().isoformat(),
        "u_deadline_reason": "the current version leaves support", "u_access_ack": "true",
        "sys_created_on": stamp(hours_ago), "sys_updated_on": stamp(hours_ago), **fields}))


def put_tasks(store: Store, case: dict, closed_until: str, hours_ago_last: float, rest: dict[str, str]) -> None:
    """The activities up to ``closed_until`` closed in order, a day apart, the last ``hours_ago_last``
    hours ago; then ``rest`` (step: state) as given, started an hour after that."""
    closed = ORDER[:ORDER.index(closed_until) + 1]
    for index, step in enumerate(closed):
        done = hours_ago_last + 24 * (len(closed) - 1 - index)
        put_task(store, case, step, CLOSED, started=done + 1, updated=done)
    for step, state in rest.items():
        put_task(store, case, step, state, started=hours_ago_last - 1 if state == WIP else None,
                 updated=hours_ago_last - 1)


def put_task(store: Store, case: dict, step: str, state: str, *, started: float | None, updated: float) -> None:
    store.insert(TASKS, {"parent": case["sys_id"], "u_step": step, "state": state, "short_description": step,
                         "work_start": stamp(started) if started is not None else "",
                         "sys_created_on": stamp(updated + 2), "sys_updated_on": stamp(updated)})


def seed(store: Store) -> dict[str, dict]:
    ensure_users(store)
    new = put_case(store, "Initech", 0.05, state="1", u_deadline_reason="", u_access_ack="false")
    put_task(store, new, "respond", OPEN, started=None, updated=0.04)
    opening = put_case(store, "Umbrella Health", 24 * 40)
    put_tasks(store, opening, "final_playbook", 2, {"oncall": PENDING})
    ending = put_case(store, "Cyberdyne Systems", 24 * 40)
    put_tasks(store, ending, "final_playbook", 24 * 8, {"oncall": WIP})
    gated = put_case(store, "Soylent Foods", 24 * 20)
    put_tasks(store, gated, "prepare_upgrade", 24 * 10, {"prepare_environment": OPEN})
    put_task(store, gated, "backup", CLOSED, started=24 * 9 + 1, updated=24 * 9)
    put_task(store, gated, "upgrade", WIP, started=24 * 8, updated=24 * 8)
    duplicated = put_case(store, "Tyrell Corp", 0.5, state="1")
    for _ in range(2):
        put_task(store, duplicated, "respond", OPEN, started=None, updated=0.4)
    return {"new": new, "opening": opening, "ending": ending, "gated": gated, "duplicated": duplicated}


@pytest.fixture(scope="module")
def story(tmp_path_factory):
    """Two runs of the pack on the story's instance, then its report as text and as HTML."""
    tmp_path = tmp_path_factory.mktemp("cx")
    with Sandbox(password=PASSWORD).start(port=0) as sandbox:
        cases = seed(sandbox.store)
        env = worker_env(tmp_path, sandbox, RULES__PACKS=json.dumps([str(PACK)]))
        first = etiu(["run", "--once"], env)
        sandbox.reset_requests()
        second = etiu(["run", "--once"], env)
        html = tmp_path / "cx.html"
        yield {"first": first, "second": second, "second_writes": writes(sandbox), "store": sandbox.store,
               "cases": cases, "report": etiu(["report"], env), "html": etiu(["report", "--html", str(html)], env),
               "page": html, "env": env}


def tasks_of(story, name: str) -> dict[str, list[dict]]:
    found: dict[str, list[dict]] = {}
    for task in story["store"].query(TASKS, f"parent={story['cases'][name]['sys_id']}"):
        found.setdefault(task["u_step"], []).append(dict(task))
    return found


def notes(story, table: str, sys_id: str, element: str) -> list[str]:
    return [entry["value"] for entry in story["store"].journal(table, sys_id) if entry["element"] == element]


def case_comments(story, name: str) -> list[str]:
    return notes(story, CASES, story["cases"][name]["sys_id"], "comments")


def test_the_first_run_acts_on_every_request_and_exits_0(story):
    assert story["first"].returncode == 0, describe(story["first"])
    assert "5 engagements" in story["first"].stdout


def test_a_new_request_gets_one_comment_listing_the_missing_intake_and_its_whole_checklist(story):
    tasks = tasks_of(story, "new")
    [comment] = case_comments(story, "new")

    assert sorted(tasks) == sorted(ORDER) and all(len(same) == 1 for same in tasks.values())
    assert {task["state"] for step, [task] in tasks.items() if step != "respond"} == {PENDING}
    assert tasks["setup"][0]["short_description"] == "Set up the project framework"
    assert "the reason for the deadline; the acknowledgement that access" in comment
    assert "the current CX Process version" not in comment


def test_a_final_playbook_delivered_opens_on_call_support_and_tells_the_customer_for_how_long(story):
    [oncall] = tasks_of(story, "opening")["oncall"]
    [comment] = case_comments(story, "opening")

    assert oncall["state"] == WIP
    assert "On-call support of the Playbook by the Platinum Upgrade Group is open until" in comment
    assert any("on-call support of the playbook is open until" in note
               for note in notes(story, TASKS, oncall["sys_id"], "work_notes"))


def test_on_call_support_a_week_old_is_closed_and_the_customer_told_further_help_is_paid(story):
    [oncall] = tasks_of(story, "ending")["oncall"]
    [comment] = case_comments(story, "ending")

    assert oncall["state"] == CLOSED
    assert "is a paid engagement" in comment


def test_an_upgrade_started_before_the_customers_environment_is_flagged_and_the_customer_reminded(story):
    [upgrade] = tasks_of(story, "gated")["upgrade"]
    [flag] = notes(story, TASKS, upgrade["sys_id"], "work_notes")
    [reminder] = case_comments(story, "gated")

    assert flag.startswith("[PLATINUM FLAG] The upgrade of the development or staging environment was started")
    assert "the environment is not prepared" in flag and "rule gate_held" in flag
    assert "waits for the most recent CX Process software" in reminder


def test_two_tasks_for_one_activity_are_flagged_once_and_nothing_else_is_written(story):
    tasks = tasks_of(story, "duplicated")
    flags = [note for task in tasks["respond"] for note in notes(story, TASKS, task["sys_id"], "work_notes")]

    assert list(tasks) == ["respond"] and len(tasks["respond"]) == 2
    assert len(flags) == 1 and "2 tasks records are the step respond" in flags[0]
    assert case_comments(story, "duplicated") == []


def test_a_second_run_writes_nothing(story):
    assert story["second"].returncode == 0, describe(story["second"])
    assert story["second_writes"] == {}
    assert "Nothing to do" in story["second"].stdout


def test_the_report_shows_each_request_in_its_phase_with_its_next_deadline(story):
    result = story["report"]
    rows = {line.split("│")[2].strip(): line for line in result.stdout.splitlines() if line.count("│") > 5}

    assert result.returncode == 0, describe(result)
    assert "5 of 5 engagements" in result.stdout
    assert "initiation" in rows["Initech"] and "response due" in rows["Initech"]
    assert "on call" in rows["Umbrella Health"] and "on-call support ends" in rows["Umbrella Health"]
    assert "execution" in rows["Soylent Foods"] and "prepare_environment" in rows["Soylent Foods"]
    assert "done" in rows["Cyberdyne Systems"]
    assert "needs attention" in rows["Tyrell Corp"]


def test_the_html_report_is_written_with_a_timeline_per_request(story):
    result = story["html"]
    page = Path(story["page"]).read_text(encoding="utf-8")

    assert result.returncode == 0, describe(result)
    assert page.count('<svg class="timeline"') == 5
    assert "Umbrella Health" in page and "on call" in page and "on-call support ends" in page


def test_the_packs_own_fixtures_pass_and_its_rules_check(story):
    for command in (["rules", "check", "--pack", str(PACK)], ["rules", "test", "--pack", str(PACK)]):
        result = etiu(command, story["env"])
        assert result.returncode == 0, describe(result)
