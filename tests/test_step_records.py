"""A step of a checklist group reads the record of its role whose step field holds its id: its
state, when it was done, what it waits for. (Before, only a one-step group had a record.)"""

from __future__ import annotations

from datetime import datetime, timezone

import generic_helpers as g
from etiu_worker.playbook.durations import TimeFrame
from etiu_worker.playbook.step_context import engagement_steps

NOW = datetime(2026, 11, 16, 12, 0, tzinfo=timezone.utc)
NOTE = '[[rule.actions]]\ntype = "work_note"\ntarget = "change"\ntemplate = "note.j2"\n'


def steps_of(tmp_path, tasks=(), rollback=()):
    playbook = g.pack_with(tmp_path, NOTE)
    built = g.engagement(playbook, tasks=tasks, rollback=rollback)
    frame = TimeFrame(playbook.calendar, built.zone)
    return engagement_steps(playbook.steps, playbook.declarations, built, playbook.env, {}, frame, NOW)


def test_each_step_of_a_checklist_has_the_state_of_the_record_carrying_its_id(tmp_path):
    steps = steps_of(tmp_path, tasks=[g.task("P2", "3"), g.task("P4", "1"), g.task("L2", "7")])
    prelaunch = steps.prelaunch.items

    assert [(id_, step.state) for id_, step in prelaunch.items()] == [
        ("P1", "missing"), ("P2", "done"), ("P3", "missing"), ("P4", "open")]
    assert steps.launch.items.L2.skipped
    assert steps.launch.items.L1.blocked_by == ("prelaunch.P3", "prelaunch.P4")


def test_a_step_done_reads_its_records_done_time_and_the_next_step_becomes_ready(tmp_path):
    done = [g.task(step, "3", sys_updated_on=f"2026-11-1{n} 10:00:00") for n, step in enumerate(("P2", "P3", "P4"), start=2)]
    steps = steps_of(tmp_path, tasks=done)

    assert steps.prelaunch.items.P4.done_at == datetime(2026, 11, 14, 10, 0, tzinfo=timezone.utc)
    assert [step.id for step in steps.launch.next] == ["L1"]


def test_of_two_records_for_one_step_the_newer_one_counts(tmp_path):
    older = g.task("P2", "1", number=201, sys_updated_on="2026-11-10 10:00:00")
    newer = g.task("P2", "3", number=202, sys_updated_on="2026-11-12 10:00:00")

    assert steps_of(tmp_path, tasks=[older, newer]).prelaunch.items.P2.done


def test_a_mirror_keeps_the_steps_done_and_reads_its_own_roles_records(tmp_path):
    launch = [g.task(step, "3") for step in ("P2", "P3", "P4", "L1", "L3", "L4")]
    rollback = [{**g.task("L4", "3", number=301), "u_change": g.CHANGE}]
    steps = steps_of(tmp_path, tasks=launch, rollback=rollback)

    assert list(steps.rollback.items) == ["L4", "L3"]
    assert steps.rollback.items.L4.done and steps.rollback.items.L3.ready


def test_a_step_done_reads_its_closed_at_when_its_role_declares_it_not_a_later_edit(tmp_path, monkeypatch):
    work_start = 'work_start = { field = "work_start", type = "datetime" } }'
    monkeypatch.setattr(g, "PACK", g.PACK.replace(work_start, work_start[:-2] + ', closed_at = { field = "closed_at", type = "datetime" } }', 1))
    edited = g.task("P2", "3", closed_at="2026-11-12 10:00:00", sys_updated_on="2026-11-14 09:00:00")
    never_stamped = g.task("P3", "3", closed_at="", sys_updated_on="2026-11-13 09:00:00")
    steps = steps_of(tmp_path, tasks=[edited, never_stamped])

    assert steps.prelaunch.items.P2.done_at == datetime(2026, 11, 12, 10, 0, tzinfo=timezone.utc)
    assert steps.prelaunch.items.P3.done_at == datetime(2026, 11, 13, 9, 0, tzinfo=timezone.utc)
