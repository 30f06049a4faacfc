"""``target = "each:<role>"`` makes a note, flag, state or field action act on every record of a
many-role, one write per record, each rendered with ``record``; ``where`` keeps the records it
holds for. Each record's note has its own reference, so a second cycle writes nothing. An each:
target the pack cannot expand is refused when the pack loads."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

import generic_helpers as g
from etiu_worker.errors import RulesError
from etiu_worker.playbook.durations import TimeFrame
from etiu_worker.playbook.step_states import StepFacts, StepRecord
from etiu_worker.playbook.step_status import derive_steps

NOW = datetime(2026, 11, 16, 15, 0, tzinfo=timezone.utc)
LAUNCH = [g.task("L1", "3"), g.task("L2"), g.task("L3"), g.task("L4", assigned_to=g.OWNER)]


def action(kind: str, **keys: str) -> str:
    written = {"type": f'"{kind}"', "target": '"each:tasks"', "template": '"note.j2"', **keys}
    return "\n[[rule.actions]]\n" + "".join(f"{key} = {value}\n" for key, value in written.items() if value)


ASSIGN = action("set_field", field='"assignee"', value='"{{ change.owner }}"',
                where='''"record.step in ('L2', 'L3', 'L4')"''')


def test_a_work_note_on_each_task_is_one_note_per_record_each_about_its_record(tmp_path):
    playbook = g.pack_with(tmp_path, action("work_note"))
    built = g.engagement(playbook, tasks=LAUNCH)

    plan = g.plan_action(playbook, built)

    assert [(w.kind, w.sys_id, w.target) for w in plan.writes] == [
        ("work_note", record.sys_id, f"tasks {record.step}") for record in built.each("tasks")]
    assert plan.writes[1].note.startswith("About CTASK0000122 (L2).")
    assert len({write.note_ref for write in plan.writes}) == 4


def test_where_keeps_the_records_it_holds_for_and_assigns_them_to_the_owner(tmp_path):
    playbook = g.pack_with(tmp_path, ASSIGN)

    plan = g.plan_action(playbook, g.engagement(playbook, tasks=LAUNCH))

    # L4 holds the owner already: it needs nothing.
    assert [(w.number, w.fields, w.before) for w in plan.writes] == [
        ("CTASK0000122", {"assigned_to": g.OWNER}, {"assigned_to": ""}),
        ("CTASK0000123", {"assigned_to": g.OWNER}, {"assigned_to": ""})]


def test_set_state_on_each_pending_task_writes_the_roles_own_state_value(tmp_path):
    playbook = g.pack_with(tmp_path, action("set_state", state='"open"', where='"record.is_pending"'))

    plan = g.plan_action(playbook, g.engagement(playbook, tasks=LAUNCH))

    assert [(w.number, w.fields, w.before) for w in plan.writes] == [
        (f"CTASK000012{n}", {"state": "1"}, {"state": "-5"}) for n in (2, 3, 4)]
    assert plan.states == {"tasks:L2": "open", "tasks:L3": "open", "tasks:L4": "open"}


def test_a_second_cycle_after_the_notes_were_posted_writes_nothing(tmp_path):
    playbook = g.pack_with(tmp_path, action("flag", key='"late"') + action("comment"))
    built = g.engagement(playbook, tasks=LAUNCH)
    first = g.plan_action(playbook, built)
    posted = {(write.sys_id, write.note_ref) for write in first.writes}

    second = g.plan_action(playbook, built, posted=lambda sys_id, ref: (sys_id, ref) in posted)

    assert len(first.writes) == 8 and second.writes == []
    assert second.raised_flags == {("act", f"tasks:{step}:late") for step in ("L1", "L2", "L3", "L4")}


def test_each_records_flag_has_its_own_key_so_one_resolving_leaves_the_others_open(tmp_path):
    playbook = g.pack_with(tmp_path, action("flag", key='"late"', where='"record.is_pending"'))

    plan = g.plan_action(playbook, g.engagement(playbook, tasks=LAUNCH))

    assert [write.flag_key for write in plan.writes] == ["tasks:L2:late", "tasks:L3:late", "tasks:L4:late"]


def test_where_reads_the_steps_and_a_record_it_cannot_evaluate_is_left_out(tmp_path):
    where = '"steps.launch.items[record.step].out_of_order"'
    playbook = g.pack_with(tmp_path, action("flag", key='"order"', where=where))
    # L3 is done while L2 before it is pending: out of order. P2 is no launch step.
    prelaunch = [g.task(step, "3") for step in ("P2", "P3", "P4")]
    built = g.engagement(playbook, tasks=[*prelaunch, g.task("L1", "3"), g.task("L2"), g.task("L3", "3")])
    facts = {f"{'prelaunch' if r.step.startswith('P') else 'launch'}.{r.step}": StepFacts(StepRecord(r.meaning, None, NOW))
             for r in built.each("tasks")}
    steps = derive_steps(playbook.steps, facts, TimeFrame(playbook.calendar, built.zone), NOW)

    plan = g.plan_action(playbook, built, context={"steps": steps})

    assert [write.target for write in plan.writes] == ["tasks L3"]


def test_a_role_with_no_records_yet_writes_nothing(tmp_path):
    playbook = g.pack_with(tmp_path, action("work_note"))

    assert g.plan_action(playbook, g.engagement(playbook)).writes == []


# (what is wrong, the action, what the message says after "actions[0] (<kind>): ")
REFUSED = [
    ("each: of an unknown role", action("work_note", target='"each:taks"'),
     "target 'each:taks': 'taks' is not a declared role (did you mean 'tasks'?); the roles are: change, tasks, "
     "rollback, review, handover, release"),
    ("each: of a role of one record", action("work_note", target='"each:review"'),
     "target 'each:review': review is declared many = \"one\", one record that counts; each: takes a role "
     "declared many = \"each\" (tasks, rollback)"),
    ("where on a role's one record", action("work_note", target='"change"', where='"true"'),
     "where filters the records of an each:<role> target, and this action targets change: write target = "
     "\"each:<role>\" or drop where"),
    ("a state of another role", action("set_state", state='"implement"'),
     "state 'implement' is not one of pending, open, closed, skipped"),
    ("a field the role does not let the worker write", action("set_field", field='"work_start"', value='"x"'),
     "field 'work_start' is not a writable field of tasks: use one of assignee, title"),
    ("a kind that acts on one record", action("create_ticket", state='"open"', title='"x"'),
     "create_ticket does not take an each: target; name the role itself (target = \"tasks\")"),
]


@pytest.mark.parametrize("text, says", [row[1:] for row in REFUSED], ids=[row[0] for row in REFUSED])
def test_an_each_target_the_pack_cannot_expand_is_refused_at_load_saying_what_to_write(tmp_path, text, says):
    with pytest.raises(RulesError) as refused:
        g.pack_with(tmp_path, text)

    message = str(refused.value)
    assert message.startswith(str(tmp_path / "vip" / "rules" / "10_act.toml"))
    assert message.split("): ", 1)[1] == says


def test_a_where_that_does_not_compile_is_refused_at_load_naming_the_key(tmp_path):
    with pytest.raises(RulesError) as refused:
        g.pack_with(tmp_path, action("work_note", where='"record.step in (L2"'))

    message = str(refused.value)
    assert ": rule act, actions[0].where: condition 'record.step in (L2' does not compile: " in message
