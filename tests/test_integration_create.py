"""A checklist created over HTTP, against the sandbox: the records are created and verified, the
engagement memory learns each by its step, the next cycle reads them back and creates nothing,
and a note on each of them is posted once.

The engine cannot run a pack with generic records yet (it builds the ETIU-shaped engagement), so
the cycle is played here step by step as the engine plays it: read the tables, build the
engagements, plan the rule's actions, send and verify (cycle.verify), record the outcomes
(cycle.engine.record_state), read again.
"""

from __future__ import annotations

from datetime import datetime, timezone

import generic_helpers as g
from etiu_worker.actions import KINDS
from etiu_worker.cycle.engine import CyclePlan, record_state
from etiu_worker.cycle.verify import send_and_verify
from etiu_worker.engagement.grouping import build_engagements
from etiu_worker.sandbox import Sandbox
from etiu_worker.servicenow.client import ServiceNowClient
from etiu_worker.state.journal import Journal
from safety_helpers import in_process_settings

CHECKLIST_THEN_NOTES = """
[[rule.actions]]
type = "create"
target = "tasks"
steps = "prelaunch"
only = ["P2", "P3", "P4"]
title_field = "title"
state = "pending"
template = "created.j2"

[[rule.actions]]
type = "work_note"
target = "each:tasks"
where = "record.step in ('P2', 'P4')"
template = "note.j2"
"""


def test_a_checklist_created_over_http_is_not_created_again_and_each_note_is_posted_once(tmp_path):
    playbook = g.pack_with(tmp_path, CHECKLIST_THEN_NOTES)
    state = tmp_path / "state"
    with Sandbox().start(port=0) as sb, Journal.open(state, action_kinds=KINDS) as journal:
        sb.store.insert("change_request", {k: v for k, v in g.change().items() if k != "u_upgrade_owner"})
        with ServiceNowClient(in_process_settings(sb, state).servicenow) as client:
            cycles = [_cycle(client, journal, playbook) for _ in range(3)]

        tasks = sb.store.query("change_task", f"change_request={g.CHANGE}")

    assert [sorted(write.kind for write in writes) for writes in cycles] == [
        ["create", "create", "create"], ["work_note", "work_note"], []]
    assert sorted((task["u_step"], task["state"], task["short_description"]) for task in tasks) == [
        ("P2", "-5", "Upgrade report provided"), ("P3", "-5", "Upgrade owner determined"),
        ("P4", "-5", "Launch date and time agreed")]
    assert set(journal_memory(state)["created"]) == {"tasks:P2", "tasks:P3", "tasks:P4"}


def _cycle(client, journal, playbook) -> list:
    """One cycle as the engine runs it: read, plan, send, verify, remember."""
    raw = {table: client.list(table) for table in ("change_request", "change_task")}
    [built] = build_engagements(playbook.declarations, raw, "UTC")
    memory = journal.engagement_state(built.key)
    plan = g.plan_action(playbook, built, created_earlier=memory.get("created", {}), posted=journal.note_posted)
    run = journal.start_run()
    since = client.instance_now()  # the read-back's window, on the instance's clock, as the engine takes it
    outcomes = send_and_verify(client, journal, run, plan.writes, since, lambda: datetime.now(timezone.utc))
    assert [outcome.status for outcome in outcomes] == ["done"] * len(plan.writes)
    cycle = CyclePlan([], writes=plan.writes, memories={built.key: dict(memory)})
    record_state(journal, cycle, outcomes)
    journal.finish_run(run, "ok", {"writes": len(outcomes)})
    return plan.writes


def journal_memory(state) -> dict:
    with Journal.open(state, action_kinds=KINDS) as journal:
        return journal.engagement_state("ENG-1")
