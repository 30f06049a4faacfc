"""The engine's steps of a checklist group read each step's own record (by its step field), not
only a one-step group's record: a closed case task is a done step, never an overdue one."""

from __future__ import annotations

from datetime import datetime, timezone

from etiu_worker.playbook.durations import TimeFrame
from etiu_worker.playbook.step_context import engagement_steps
from etiu_worker.sandbox.store import Store
from upgrade_packs_helpers import engagements, load

NOW = datetime(2026, 10, 8, 16, 0, tzinfo=timezone.utc)  # a week after the request


def steps_of(tasks: dict[str, str]):
    pack = load("aurea-crm-cloud")
    store = Store()
    case = store.insert("sn_customerservice_case", {
        "u_upgrade_service": "crm_cloud_upgrade", "u_client_timezone": "America/Chicago",
        "opened_at": "2026-10-01 14:00:00", "state": "10"})
    for step, state in tasks.items():
        store.insert("sn_customerservice_task", {"parent": case["sys_id"], "u_step": step, "state": state,
                                                 "work_start": "2026-10-01 14:00:00", "sys_updated_on": "2026-10-01 20:00:00"})
    (engagement,) = engagements(pack.declarations, store).values()
    return engagement_steps(pack.plan, pack.declarations, engagement, pack.env, {}, TimeFrame(pack.calendar, engagement.zone), NOW)


def test_a_closed_task_of_a_checklist_is_a_done_step_and_not_overdue():
    respond = steps_of({"respond": "3"}).initiation.items.respond

    assert (respond.state, respond.done, respond.overdue) == ("done", True, False)
    assert respond.done_at == datetime(2026, 10, 1, 20, 0, tzinfo=timezone.utc)


def test_an_open_task_of_a_checklist_is_an_open_step_past_its_time_and_a_step_without_a_task_is_missing():
    steps = steps_of({"respond": "2"})

    assert (steps.initiation.items.respond.state, steps.initiation.items.respond.overdue) == ("open", True)
    assert steps.initiation.items.acknowledge.state == "missing"
