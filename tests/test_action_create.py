"""``create`` makes a missing record of a role, or one record per missing step of a checklist,
with its link to the engagement and its identity filled in; planned again once the records
exist, it plans nothing, and a record it created whose link did not save is repaired, not
created twice. A create that does not fit the pack is refused when the pack loads."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

import generic_helpers as g
from etiu_worker.errors import RulesError
from etiu_worker.playbook.durations import TimeFrame
from etiu_worker.playbook.step_states import StepFacts, StepRecord
from etiu_worker.playbook.step_status import derive_steps

CHECKLIST = """
[[rule.actions]]
type = "create"
target = "tasks"
steps = "prelaunch"
title_field = "title"
state = "pending"
template = "created.j2"
"""

NOW = datetime(2026, 11, 16, 15, 0, tzinfo=timezone.utc)

LAUNCH_ASSIGNED = """
[[rule.actions]]
type = "create"
target = "tasks"
steps = "launch"
title_field = "title"
state = "pending"
fields = { assignee = "{{ change.owner if step.id in ('L2', 'L3', 'L4') else '' }}" }
template = "created.j2"
"""

REVIEW = """
[[rule.actions]]
type = "create"
target = "review"
state = "open"
title_field = "title"
title = "Review of {{ engagement.key }}"
template = "created.j2"
"""


def creates(plan):
    return [write for write in plan.writes if write.is_create]


def test_a_missing_record_is_created_with_its_key_code_state_title_and_note(tmp_path):
    playbook = g.pack_with(tmp_path, REVIEW)

    [write] = g.plan_action(playbook, g.engagement(playbook)).writes

    assert (write.kind, write.table, write.sys_id, write.target, write.role) == ("create", "u_review", "", "review", "review")
    assert write.fields == {"u_engagement": "ENG-1", "u_kind": "REVIEW", "state": "1",
                            "short_description": "Review of ENG-1"}
    assert write.note.startswith("Created review.") and f"ref {write.note_ref}" in write.note


def test_a_checklist_creates_one_record_per_step_linked_to_the_change_with_its_step_and_title(tmp_path):
    playbook = g.pack_with(tmp_path, CHECKLIST)

    plan = g.plan_action(playbook, g.engagement(playbook))

    assert [(w.target, w.role) for w in creates(plan)] == [
        ("tasks P1", "tasks:P1"), ("tasks P2", "tasks:P2"), ("tasks P3", "tasks:P3"), ("tasks P4", "tasks:P4")]
    assert creates(plan)[1].fields == {"change_request": g.CHANGE, "u_step": "P2", "state": "-5",
                                       "short_description": "Upgrade report provided"}
    assert creates(plan)[1].note.startswith("Created tasks P2.")
    assert len({write.note_ref for write in creates(plan)}) == 4


def test_a_checklist_creates_only_the_steps_that_have_no_record_yet(tmp_path):
    playbook = g.pack_with(tmp_path, CHECKLIST)
    built = g.engagement(playbook, tasks=[g.task("P1", "3"), g.task("P3")])

    plan = g.plan_action(playbook, built)

    assert [write.fields["u_step"] for write in creates(plan)] == ["P2", "P4"]


def test_a_field_template_that_renders_empty_is_left_out_so_only_some_steps_are_assigned(tmp_path):
    playbook = g.pack_with(tmp_path, LAUNCH_ASSIGNED)

    plan = g.plan_action(playbook, g.engagement(playbook))

    assigned = {write.fields["u_step"]: write.fields.get("assigned_to") for write in creates(plan)}
    assert assigned == {"L1": None, "L2": g.OWNER, "L3": g.OWNER, "L4": g.OWNER}


def test_a_rollback_creates_the_steps_named_by_only_last_first(tmp_path):
    playbook = g.pack_with(tmp_path, CHECKLIST.replace('"prelaunch"', '"launch"').replace(
        'state = "pending"', 'state = "pending"\nonly = ["L2", "L3", "L4"]\norder = "reverse"'))

    plan = g.plan_action(playbook, g.engagement(playbook))

    assert [write.fields["u_step"] for write in creates(plan)] == ["L4", "L3", "L2"]


def test_a_mirror_of_the_steps_done_creates_the_records_of_the_steps_actually_done_in_reverse(tmp_path):
    playbook = g.pack_with(tmp_path, CHECKLIST.replace('"tasks"', '"rollback"').replace('"prelaunch"', '"rollback"'))
    built = g.engagement(playbook, tasks=[g.task("L1", "3"), g.task("L2", "7"), g.task("L3", "3"), g.task("L4", "3")])
    done = {f"launch.{step}": StepFacts(StepRecord("done")) for step in ("L1", "L3", "L4")}
    steps = derive_steps(playbook.steps, done, TimeFrame(playbook.calendar, built.zone), NOW)

    plan = g.plan_action(playbook, built, context={"steps": steps})

    assert [(w.table, w.fields["u_step"], w.fields["short_description"]) for w in creates(plan)] == [
        ("u_rollback_task", "L4", "Revert: Merge post-update pull requests"),
        ("u_rollback_task", "L3", "Revert: Initiate the upgrade from the dashboard")]


def test_a_second_plan_once_the_records_exist_plans_nothing(tmp_path):
    playbook = g.pack_with(tmp_path, CHECKLIST + REVIEW)
    first = g.plan_action(playbook, g.engagement(playbook))
    made = g.created_records(first)
    tasks = [record for record in made if "u_step" in record]
    reviews = [record for record in made if "u_kind" in record]

    second = g.plan_action(playbook, g.engagement(playbook, tasks=tasks, reviews=reviews))

    assert len(creates(first)) == 5
    assert second.writes == [] and second.waiting == []


def test_a_role_of_one_record_that_has_two_gets_no_third(tmp_path):
    playbook = g.pack_with(tmp_path, REVIEW)
    reviews = [{"sys_id": f"{n:032x}", "number": f"REV{n}", "u_engagement": "ENG-1", "u_kind": "REVIEW", "state": "1"}
               for n in (1, 2)]
    built = g.engagement(playbook, reviews=reviews)

    assert built.one("review") is None and built.problems  # the duplicate is flagged by the sanity rule
    assert g.plan_action(playbook, built).writes == []


def test_a_step_created_twice_in_one_cycle_is_planned_once(tmp_path):
    playbook = g.pack_with(tmp_path, CHECKLIST + CHECKLIST)

    plan = g.plan_action(playbook, g.engagement(playbook))

    assert len(creates(plan)) == 4


def test_a_created_record_whose_link_did_not_save_is_repaired_not_created_again(tmp_path):
    playbook = g.pack_with(tmp_path, CHECKLIST)
    stray = g.task("P2", "1", number=777, change_request="")  # created last cycle; its link did not save
    built = g.engagement(playbook, tasks=[g.task("P1"), g.task("P3"), g.task("P4"), stray])

    plan = g.plan_action(playbook, built, created_earlier={"tasks:P2": stray["sys_id"]})

    [write] = plan.writes
    assert (write.kind, write.sys_id, write.role, write.note) == ("create", stray["sys_id"], "tasks:P2", "")
    assert write.fields == {"change_request": g.CHANGE, "u_step": "P2", "state": "-5"}


def test_a_created_record_whose_step_did_not_save_is_repaired_though_it_is_linked(tmp_path):
    playbook = g.pack_with(tmp_path, CHECKLIST.replace('steps = "prelaunch"', 'steps = "prelaunch"\nonly = ["P2"]'))
    stray = g.task("P2", number=778, u_step="")
    built = g.engagement(playbook, tasks=[stray])

    plan = g.plan_action(playbook, built, created_earlier={"tasks:P2": stray["sys_id"]})

    assert [(w.sys_id, w.fields["u_step"]) for w in plan.writes] == [(stray["sys_id"], "P2")]


def test_a_ticket_remembered_by_its_role_alone_is_still_repaired_by_a_one_record_create(tmp_path):
    playbook = g.pack_with(tmp_path, REVIEW)

    plan = g.plan_action(playbook, g.engagement(playbook), created_earlier={"review": "e" * 32})

    assert [(w.sys_id, w.fields) for w in plan.writes] == [("e" * 32, {"u_engagement": "ENG-1", "u_kind": "REVIEW",
                                                                       "state": "1"})]


def test_a_record_linked_to_a_change_the_engagement_lacks_waits_and_says_why(tmp_path):
    playbook = g.pack_with(tmp_path, CHECKLIST.replace('steps = "prelaunch"', 'steps = "prelaunch"\nonly = ["P2"]'))
    # The engagement is found by its review (key field); it has no change yet.
    built = g.engagement(playbook, changes=[], reviews=[{"sys_id": "f" * 32, "number": "REV1", "u_engagement": "ENG-1",
                                                          "u_kind": "REVIEW", "state": "1"}])

    plan = g.plan_action(playbook, built)

    assert plan.writes == []
    assert plan.waiting == [("act", "tasks P2", "not created: its change_request points at the change record, "
                                                "and the engagement has none (yet)")]


def test_a_text_identity_gets_the_title_that_holds_its_words(tmp_path):
    playbook = g.pack_with(tmp_path, """
[[rule.actions]]
type = "create"
target = "handover"
state = "open"
fields = { title = "Sign the hand-over of {{ engagement.key }}" }
template = "created.j2"
""")

    [write] = g.plan_action(playbook, g.engagement(playbook)).writes

    assert write.fields == {"change_request": g.CHANGE, "short_description": "Sign the hand-over of ENG-1", "state": "1"}


def test_a_text_identity_whose_title_lacks_its_words_is_not_created_and_says_why(tmp_path):
    playbook = g.pack_with(tmp_path, """
[[rule.actions]]
type = "create"
target = "handover"
state = "open"
fields = { title = "Sign off {{ engagement.key }}" }
template = "created.j2"
""")

    plan = g.plan_action(playbook, g.engagement(playbook))

    assert plan.writes == []
    assert plan.waiting == [("act", "handover", "not created: its short_description 'Sign off ENG-1' does not "
                                                "contain 'hand-over', by which the record is found again")]


def action(**keys: str) -> str:
    written = {"type": '"create"', "target": '"tasks"', "steps": '"prelaunch"', "state": '"pending"',
               "template": '"created.j2"', **keys}
    return "\n[[rule.actions]]\n" + "".join(f"{key} = {value}\n" for key, value in written.items() if value)


# (what is wrong, the action, what the message says after "actions[0] (create): ")
REFUSED = [
    ("an unknown role", action(target='"taks"'),
     "target 'taks' is not one of change, tasks, rollback, review, handover, release, problems (did you mean 'tasks'?)"),
    ("a target that is no role", action(target='"problems"'),
     "create makes records of a declared role; 'problems' is not a [records.*] role: use one of change, tasks, "
     "rollback, review, handover, release"),
    ("a role found from the records that point at it", action(target='"release"', steps="", state=""),
     "create cannot join a new release record to its engagement: release is found from the review record that "
     "points at it (link.referenced_by), and create writes only the new record"),
    ("two roles", action(target='["tasks", "review"]'), "create makes the records of one role: give one target"),
    ("each: of a role", action(target='"each:tasks"'),
     "create does not take an each: target; name the role itself (target = \"tasks\")"),
    ("a state the role does not have", action(state='"opened"'),
     "state 'opened' is not a state of tasks (did you mean 'open'?): use one of pending, open, closed, skipped"),
    ("no state", action(state=""), "create needs state, the state of the new tasks record: one of pending, open, closed, skipped"),
    ("a field the role does not let the worker write", action(fields='{ work_start = "x" }'),
     "fields.work_start: 'work_start' is not a writable field of tasks: use one of assignee, title"),
    ("a misspelt field", action(fields='{ asignee = "x" }'),
     "fields.asignee: 'asignee' is not a writable field of tasks (did you mean 'assignee'?): use one of assignee, title"),
    ("the step field, which create fills", action(fields='{ step_id = "P9" }'),
     "fields.step_id: step_id is tasks's identity field, which create fills itself: drop it"),
    ("the link field, which create fills", action(fields='{ parent = "x" }'),
     "fields.parent: parent is tasks's link field, which create fills itself: drop it"),
    ("a title field that is not writable", action(title_field='"work_start"'),
     "title_field: 'work_start' is not a writable field of tasks: use one of assignee, title"),
    ("a title with nowhere to go", action(title='"x"'),
     "title needs title_field, the writable field of the new record the title goes into"),
    ("an unknown group", action(steps='"prelanch"'),
     "steps: 'prelanch' is not a [steps.*] group (did you mean 'prelaunch'?): use one of prelaunch, launch, rollback"),
    ("a group of another role", action(steps='"rollback"'),
     "steps: the steps of rollback are rollback records, not tasks: set target = \"rollback\""),
    ("a step the group does not have", action(only='["P2", "P5"]'),
     "only: 'P5' is not a step of prelaunch: the steps are P1, P2, P3, P4"),
    ("steps of a role with no step identity", action(target='"review"', state='"open"'),
     "steps: the steps of prelaunch are tasks records, not review: set target = \"tasks\""),
    ("a step role without steps", action(steps=""),
     "tasks records are told apart by their step (u_step): give steps, the [steps.*] group to create them from"),
    ("only without steps", action(target='"review"', steps="", state='"open"', only='["P1"]'),
     "only and order choose among the steps of a checklist: give steps, the group to create from"),
]


@pytest.mark.parametrize("text, says", [row[1:] for row in REFUSED], ids=[row[0] for row in REFUSED])
def test_a_create_that_does_not_fit_the_pack_is_refused_at_load_saying_what_to_write(tmp_path, text, says):
    with pytest.raises(RulesError) as refused:
        g.pack_with(tmp_path, text)

    message = str(refused.value)
    assert message.startswith(str(tmp_path / "vip" / "rules" / "10_act.toml"))
    assert message.split("actions[0] (create): ", 1)[1] == says
