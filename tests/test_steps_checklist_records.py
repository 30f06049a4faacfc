"""A checklist's steps (a [steps.*] group with items) read their records by step id, as
conditions see them in the engine: each step's state, start, done time and order come from the
record of its group's role whose step field holds its id; a step without one is missing."""

from __future__ import annotations

from datetime import datetime, timezone

import generic_helpers as g
from etiu_worker.engagement.workdays import BusinessCalendar
from etiu_worker.playbook.durations import TimeFrame
from etiu_worker.playbook.step_context import engagement_steps
from zoneinfo import ZoneInfo

NOW = datetime(2026, 11, 16, 12, 0, tzinfo=timezone.utc)
ACTIONS = '[[rule.actions]]\ntype = "work_note"\ntarget = "change"\ntemplate = "note.j2"\n'


def steps_for(tmp_path, *tasks):
    playbook = g.pack_with(tmp_path, ACTIONS)
    built = g.engagement(playbook, tasks=tasks)
    frame = TimeFrame(BusinessCalendar(), ZoneInfo("Europe/London"))
    return engagement_steps(playbook.steps, playbook.declarations, built, playbook.env, {}, frame, NOW)


def test_each_step_of_a_checklist_has_the_state_its_own_record_means(tmp_path):
    steps = steps_for(tmp_path, g.task("P2", "3"), g.task("P3", "1"), g.task("P4", "7"))
    items = steps.prelaunch.items

    assert [(items[i].state, items[i].done) for i in ("P1", "P2", "P3", "P4")] == [
        ("missing", False), ("done", True), ("open", False), ("skipped", False)]


def test_a_step_is_ready_once_its_predecessors_records_are_closed_and_started_when_its_record_went_in_progress(tmp_path):
    closed = [g.task(step, "3", sys_updated_on="2026-11-13 10:00:00") for step in ("P2", "P3", "P4")]
    steps = steps_for(tmp_path, *closed, g.task("L1", "1", work_start="2026-11-16 09:00:00"))
    launch = steps.launch.items

    assert launch.L1.ready and launch.L1.started
    assert launch.L1.started_at == datetime(2026, 11, 16, 9, 0, tzinfo=timezone.utc)
    assert launch.L2.blocked_by == ("launch.L1",)


def test_a_checklist_step_closed_before_the_one_before_it_is_out_of_order(tmp_path):
    closed = [g.task(step, "3") for step in ("P2", "P3", "P4")]
    steps = steps_for(tmp_path, *closed, g.task("L1", "1"), g.task("L3", "3", sys_updated_on="2026-11-14 10:00:00"))

    assert steps.launch.items.L3.out_of_order and steps.launch.out_of_order
    assert steps.launch.items.L3.why == "done out of order, before L2"  # its predecessor, itself waiting for L1
