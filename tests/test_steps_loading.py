"""Loading ``[steps.<group>]`` tables: the shapes a pack can write, and every mistake caught at load."""

from __future__ import annotations

import tomllib
from dataclasses import fields

import pytest

from etiu_worker.errors import RulesError
from etiu_worker.playbook.durations import Duration
from etiu_worker.playbook.step_reference import step_reference
from etiu_worker.playbook.step_states import GroupState, StepsState, StepState
from etiu_worker.playbook.steps import load_steps

LAUNCH = {"role": "ctask", "ordered": True, "items": [{"id": "L1"}, {"id": "L2"}, {"id": "L3"}]}


def test_a_group_without_items_is_its_one_step_named_after_the_group():
    plan = load_steps(tomllib.loads('[steps.review]\nrole = "task"\nduration = "2bd"\nstart_from = "task.work_start"')["steps"])

    review = plan.steps["review"]
    assert (review.group, review.id, review.start_from) == ("review", "review", "task.work_start")
    assert review.duration.resolve(None) == Duration(2, "bd")
    assert plan.groups["review"].single


def test_keys_written_on_a_group_are_the_defaults_of_its_items_and_its_after_gates_every_item():
    plan = load_steps({
        "intake": {"items": [{"id": "filed"}]},
        "phases": {"title": "Phases", "owner": "consultant", "warn_at": 0.8, "after": ["intake.filed"],
                   "items": [{"id": "dev", "duration": "12bd"}, {"id": "uat", "owner": "customer", "after": ["dev"]}]},
    })

    dev, uat = plan.steps["phases.dev"], plan.steps["phases.uat"]
    assert (dev.owner, dev.warn_at, uat.owner, uat.warn_at) == ("consultant", 0.8, "customer", 0.8)
    assert (dev.title, plan.groups["phases"].title) == ("dev", "Phases")
    assert dev.after == ("intake.filed",)
    assert uat.after == ("phases.dev", "intake.filed")


def test_an_ordered_group_puts_each_item_after_the_one_before():
    plan = load_steps({"launch": LAUNCH})

    assert [plan.steps[f"launch.L{n}"].after for n in (1, 2, 3)] == [(), ("launch.L1",), ("launch.L2",)]


def test_a_step_can_wait_for_a_one_step_group_by_its_name():
    plan = load_steps({"review": {"duration": "2bd"}, "launch": {**LAUNCH, "after": ["review"]}})

    assert plan.steps["launch.L1"].after == ("review",)
    assert plan.order.index("review") < plan.order.index("launch.L1")


def test_a_duration_can_take_its_amount_from_the_engagement():
    plan = load_steps({"qa": {"duration": "{{ change.u_qa_period_bd }}bd"}})

    duration = plan.steps["qa"].duration
    assert (duration.amount_from, duration.unit, str(duration)) == ("change.u_qa_period_bd", "bd",
                                                                     "{{ change.u_qa_period_bd }}bd")
    assert duration.resolve(4) == Duration(4, "bd")
    assert duration.resolve(None) is None


def test_a_mirror_takes_the_named_items_in_reverse_with_their_titles_rendered():
    plan = load_steps({"launch": {**LAUNCH, "owner": "owner"},
                       "rollback": {"mirror": {"of": "launch", "items": ["L1", "L3"], "reverse": True},
                                    "title": "Revert {{ step.id }}"}})

    rollback = plan.groups["rollback"].steps
    assert [(step.key, step.title, step.owner, step.mirrors) for step in rollback] == [
        ("rollback.L3", "Revert L3", "owner", "launch.L3"), ("rollback.L1", "Revert L1", "owner", "launch.L1")]


def test_a_mirror_names_its_items_from_the_mirrored_ones_so_rollback_tasks_share_the_step_field():
    plan = load_steps({"launch": LAUNCH,
                       "rollback": {"mirror": {"of": "launch", "items": ["L2", "L3"], "reverse": True,
                                               "id": "R{{ step.id[1:] }}"}}})

    rollback = plan.groups["rollback"].steps
    assert [(step.key, step.id, step.mirrors) for step in rollback] == [
        ("rollback.R3", "R3", "launch.L3"), ("rollback.R2", "R2", "launch.L2")]


@pytest.mark.parametrize(("template", "message"), [
    ("R-{{ step.id }}", "steps.rollback.mirror.id: 'R-{{ step.id }}' gives 'R-L1' for L1, which is not an id: "
                        "give each item letters, digits and _ (starting with a letter)"),
    ("R", "steps.rollback.id: 'R' is also the id of items[0]; ids must be unique in a group"),
    ("R{{ step.idd }}", "steps.rollback.mirror.id: 'R{{ step.idd }}' cannot be read: 'etiu_worker.playbook.step_model."
                        "Step object' has no attribute 'idd'; it can use step.id, step.title and step.owner"),
])
def test_a_mirror_id_that_is_no_id_or_names_two_items_alike_is_refused(template, message):
    with pytest.raises(RulesError) as error:
        load_steps({"launch": LAUNCH, "rollback": {"mirror": {"of": "launch", "id": template}}})
    assert str(error.value) == message


def test_an_error_names_the_pack_file_it_was_found_in():
    with pytest.raises(RulesError, match=r"^packs/vip/pack.toml: steps.review.duration: '2' is not a duration"):
        load_steps({"review": {"duration": "2"}}, source="packs/vip/pack.toml")


@pytest.mark.parametrize(("steps", "message"), [
    ({"g": {"items": [{"id": "p4"}, {"id": "qa"}, {"id": "go", "after": ["p5"]}]}},
     "steps.g.items[2].after: 'p5' is not a step; did you mean 'p4'?"),
    ({"g": {"items": [{"id": "p4"}, {"id": "zzz9", "after": ["nothing"]}]}},
     "steps.g.items[1].after: 'nothing' is not a step; use one of: p4, zzz9"),
    ({"pre": {"items": [{"id": "P2"}]}, "launch": {**LAUNCH, "after": ["pre.P9"]}},
     "steps.launch.after: 'pre.P9' is not a step; did you mean 'pre.P2'?"),
    ({"g": {"items": [{"id": "a", "after": ["c"]}, {"id": "b", "after": ["a"]}, {"id": "c", "after": ["b"]}]}},
     "steps.g.items[1].after: g.b, which waits for g.a, which waits for g.c, which waits for g.b: "
     "a step cannot wait for itself; remove one of these predecessors"),
    ({"review": {"after": ["review"]}},
     "steps.review.after: review waits for itself; remove it from its own after"),
    ({"g": {"items": [{"id": "a"}, {"id": "a"}]}},
     "steps.g.items[1].id: 'a' is also the id of items[0]; ids must be unique in a group"),
    ({"respond": {"duration": "1bd", "warn_at": 1.5}},
     "steps.respond.warn_at: 1.5 is not a share of the duration: write a number from 0 to 1, e.g. 0.75 for 75%"),
    ({"g": {"warn_at": -0.1, "items": [{"id": "a"}]}},
     "steps.g.items[0].warn_at: -0.1 is not a share of the duration: write a number from 0 to 1, e.g. 0.75 for 75%"),
    ({"respond": {"duration": "2 days"}},
     "steps.respond.duration: '2 days' is not a duration: write a number and a unit, e.g. 2bd (business days), "
     "48h (hours), 3d (calendar days), 1w (weeks), 30m (minutes)"),
    ({"g": {"items": [{"id": "a", "duration": "{{ change. }}bd"}]}},
     "steps.g.items[0].duration: 'change.' is not an expression Jinja can read: expected name or number"),
    ({"g": {"duration": "1bd", "paused_when": "case.x =="}},
     "steps.g.paused_when: 'case.x ==' is not an expression Jinja can read: unexpected 'end of template'"),
    ({"launch": LAUNCH, "rollback": {"mirror": {"of": "lunch"}}},
     "steps.rollback.mirror.of: 'lunch' is not a group; did you mean 'launch'?"),
    ({"launch": LAUNCH, "rollback": {"mirror": {"of": "launch", "items": ["L2", "L33"]}}},
     "steps.rollback.mirror.items[1]: 'L33' is not a step of launch; did you mean 'L3'?"),
    ({"launch": LAUNCH, "rollback": {"mirror": {"of": "launch", "items": ["L2", "L2"]}}},
     "steps.rollback.mirror.items[1]: 'L2' is named twice; name each step once"),
    ({"launch": LAUNCH, "rollback": {"mirror": {"of": "launch"}}, "again": {"mirror": {"of": "rollback"}}},
     "steps.again.mirror.of: 'rollback' is a mirror itself; mirror the group it mirrors"),
    ({"launch": LAUNCH, "rollback": {"mirror": {"of": "launch", "only": "open"}}},
     "steps.rollback.mirror.only: 'open' is not allowed here; use 'done', or leave it out to mirror every item"),
    ({"launch": LAUNCH, "rollback": {"mirror": {"of": "launch"}, "title": "Revert {{ step.title"}},
     "steps.rollback.title: 'Revert {{ step.title' cannot be read: unexpected end of template, expected "
     "'end of print statement'; it can use step.id, step.title and step.owner"),
    ({"launch": {**LAUNCH, "mirror": {"of": "launch"}}},
     "steps.launch: a group has either items or a mirror, not both"),
    ({"g": {"items": [{"id": "a", "titel": "x"}]}},
     "steps.g.items[0].titel: 'titel' is not a known key; did you mean 'title'?"),
    ({"g": {"item": [{"id": "a"}]}},
     "steps.g.item: 'item' is not a known key; did you mean 'items'?"),
    ({"g": {"items": [{"id": "L-1"}]}},
     "steps.g.items[0].id: 'L-1' is not an id: use letters, digits and _ (start with a letter)"),
    ({"g": {"items": [{"id": "keys"}]}},
     "steps.g.items[0].id: 'keys' is a name conditions read on a group's items; call the step otherwise"),
    ({"next": {"duration": "1bd"}},
     "steps.next: 'next' is a name conditions read on steps; call the group otherwise"),
    ({"g": ["a"]},
     "steps.g: write the group as a table, [steps.g]"),
    ({"g": {"duration": "1bd", "start_from": "afer"}},
     "steps.g.start_from: 'afer' is not where a clock starts; did you mean 'after'? write after (when the "
     "predecessors finished), started (when the record went in progress) or a date or field such as case.opened_at"),
])
def test_a_bad_declaration_is_rejected_at_load_saying_where_and_how_to_fix_it(steps, message):
    with pytest.raises(RulesError) as error:
        load_steps(steps)

    assert str(error.value) == message


def test_every_name_a_condition_reads_on_steps_has_a_meaning_in_the_reference():
    lines = step_reference()

    assert "- `steps.projected_finish`: The latest projected finish of all steps: compare it with a deadline." in lines
    assert any(line.startswith("- `steps.<group>.items.<id>.overdue`: ") for line in lines)
    assert len(lines) == 1 + len(fields(StepsState)) + len(fields(GroupState)) + len(fields(StepState))
