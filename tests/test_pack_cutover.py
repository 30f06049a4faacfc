"""A second pack written as data only, run by the console script against the sandbox over HTTP.

tests/packs/cutover reads change requests and their tasks as a cut-over checklist (a `create` of
a [steps.*] group), flags a go-live with no go/no-go by 13:00 on the client's wall clock (a named
date), flags a checklist task closed out of order (an `each:` target) and remembers the go-live
once the go/no-go is taken (a latch), flagging a later move. Its dates are relative to the real
clock, as the worker runs with it: a go-live two days ahead, one yesterday, one tomorrow.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from etiu_worker.sandbox import Sandbox
from etiu_worker.state.journal import Journal
from integration_helpers import PASSWORD, REPO, describe, etiu, state_dir, worker_env, writes

CUTOVER_PACK = REPO / "tests" / "packs" / "cutover"
STEPS = ("backup", "go_no_go", "cutover", "smoke_test")
CLOSED, PENDING = "3", "-5"


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def _change(sandbox: Sandbox, key: str, client: str, go_live: datetime, zone: str) -> dict:
    return sandbox.store.insert("change_request", {
        "correlation_id": key, "short_description": f"Cut-over - {client}", "state": "-2",
        "start_date": _stamp(go_live), "u_client_timezone": zone})


def _tasks(sandbox: Sandbox, change: dict, states: dict[str, str]) -> None:
    for step in STEPS:
        sandbox.store.insert("change_task", {"change_request": change["sys_id"], "u_step": step,
                                             "short_description": step, "state": states.get(step, PENDING)})


def _task(sandbox: Sandbox, change: dict, step: str) -> dict:
    [task] = sandbox.store.query("change_task", f"change_request={change['sys_id']}^u_step={step}")
    return task


def _notes(sandbox: Sandbox, record: dict) -> list[str]:
    return [row["value"] for row in sandbox.store.query("sys_journal_field", f"element_id={record['sys_id']}")]


@pytest.fixture(scope="module")
def story(tmp_path_factory):
    """Three engagements; a first run; a person's edits; a second run; a third."""
    tmp_path = tmp_path_factory.mktemp("cutover")
    now = datetime.now(UTC)
    with Sandbox(password=PASSWORD).start(port=0) as sandbox:
        new = _change(sandbox, "ENG-HOOLI", "Hooli", now + timedelta(days=2), "Europe/Berlin")
        late = _change(sandbox, "ENG-PIED", "Pied Piper", now - timedelta(days=1), "America/New_York")
        _tasks(sandbox, late, {"backup": CLOSED})
        decided = _change(sandbox, "ENG-AVIATO", "Aviato", now + timedelta(days=1), "Asia/Tokyo")
        _tasks(sandbox, decided, {"backup": CLOSED, "go_no_go": CLOSED})
        env = worker_env(tmp_path, sandbox, RULES__PACKS=json.dumps([str(CUTOVER_PACK)]))
        first = etiu(["run", "--once"], env)
        first_writes = writes(sandbox)
        sandbox.store.update("change_task", _task(sandbox, new, "smoke_test")["sys_id"], {"state": CLOSED})
        moved = now + timedelta(days=2)
        sandbox.store.update("change_request", decided["sys_id"], {"start_date": _stamp(moved)})
        sandbox.reset_requests()
        second = etiu(["run", "--once"], env)
        second_writes = writes(sandbox)
        sandbox.reset_requests()
        third = etiu(["run", "--once"], env)
        yield {
            "first": first, "second": second, "third": third, "first_writes": first_writes,
            "second_writes": second_writes, "third_writes": writes(sandbox), "sandbox": sandbox,
            "new": new, "late": late, "decided": decided, "report": etiu(["report"], env),
            "state": state_dir(tmp_path),
        }


def test_every_run_of_the_cutover_pack_exits_0(story):
    for run in ("first", "second", "third"):
        assert story[run].returncode == 0, describe(story[run])


def test_the_whole_checklist_is_created_once_on_a_change_with_no_tasks(story):
    tasks = story["sandbox"].store.query("change_task", f"change_request={story['new']['sys_id']}")

    assert sorted(task["u_step"] for task in tasks) == sorted(STEPS)
    assert {task["short_description"] for task in tasks} >= {"Back up production", "Go/no-go decision"}
    assert story["first_writes"][("POST", "change_task")] == len(STEPS)


def test_a_go_live_past_its_1300_cutoff_without_a_decision_is_flagged_on_its_change(story):
    notes = _notes(story["sandbox"], story["late"])

    assert [note for note in notes if note.startswith("[CUT-OVER FLAG] No go/no-go decision for Pied Piper by 13:00 E")]


def test_a_go_live_ahead_of_its_cutoff_is_not_flagged(story):
    assert not [note for note in _notes(story["sandbox"], story["new"]) if "No go/no-go" in note]


def test_a_task_closed_before_the_one_it_follows_is_flagged_on_that_task(story):
    smoke = _task(story["sandbox"], story["new"], "smoke_test")

    assert [note for note in _notes(story["sandbox"], smoke) if "was closed out of order" in note]


def test_a_go_live_moved_after_the_decision_is_flagged_once(story):
    notes = [note for note in _notes(story["sandbox"], story["decided"]) if "The go-live moved" in note]

    assert len(notes) == 1


def test_the_latch_remembers_the_go_live_the_decision_was_taken_for(story):
    with Journal.open_read_only(story["state"]) as journal:
        memory = journal.engagement_state("ENG-AVIATO")

    assert memory["latches"]["agreed_go_live"]["set"] is True
    assert memory["latches"]["agreed_go_live"]["value"]["value"].startswith(story["decided"]["start_date"][:10])


def test_a_third_run_on_an_unchanged_instance_writes_nothing(story):
    assert story["second_writes"], "the person's edits should have needed writes"
    assert story["third_writes"] == {}


def test_the_report_shows_each_engagement_in_the_packs_phases(story):
    assert story["report"].returncode == 0, describe(story["report"])
    assert "preparing" in story["report"].stdout and "cutting over" in story["report"].stdout
