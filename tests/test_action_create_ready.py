"""``create`` with ``ready_state``: a checklist's record is created in ``ready_state`` when its
step is ready (every predecessor done or skipped), in ``state`` otherwise: the first step of a
rollback is opened as it is created, the steps after it wait. A ``ready_state`` that does not fit
is refused when the pack loads."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

import generic_helpers as g
from etiu_worker.errors import RulesError
from etiu_worker.playbook.durations import TimeFrame
from etiu_worker.playbook.step_states import StepFacts, StepRecord
from etiu_worker.playbook.step_status import derive_steps

NOW = datetime(2026, 11, 16, 12, 0, tzinfo=timezone.utc)


def create(steps: str = '"rollback"', target: str = '"rollback"', ready_state: str = '"open"', state: str = '"pending"') -> str:
    lines = ['[[rule.actions]]', 'type = "create"', f"target = {target}", f"state = {state}", 'template = "created.j2"']
    lines += [f"steps = {steps}"] if steps else []
    lines += [f"ready_state = {ready_state}"] if ready_state else []
    return "\n".join(lines) + "\n"


def planned_states(tmp_path, done: tuple[str, ...], action: str) -> list[tuple[str, str]]:
    playbook = g.pack_with(tmp_path, action)
    built = g.engagement(playbook)
    facts = {f"launch.{step}": StepFacts(StepRecord("done")) for step in done}
    steps = derive_steps(playbook.steps, facts, TimeFrame(playbook.calendar, built.zone), NOW)
    plan = g.plan_action(playbook, built, context={"steps": steps})
    return [(write.fields["u_step"], write.fields["state"]) for write in plan.writes if write.is_create]


def test_the_first_rollback_step_is_created_open_and_the_ones_after_it_pending(tmp_path):
    assert planned_states(tmp_path, ("L1", "L2", "L3", "L4"), create()) == [("L4", "1"), ("L3", "-5"), ("L2", "-5")]


def test_without_ready_state_every_record_gets_state(tmp_path):
    assert planned_states(tmp_path, ("L1", "L3", "L4"), create(ready_state="")) == [("L4", "-5"), ("L3", "-5")]


def test_a_checklist_whose_steps_wait_for_others_is_created_in_state_alone(tmp_path):
    # The launch steps wait for P2-P4, none of which is done: L1 is not ready either.
    action = create(steps='"launch"', target='"tasks"')

    assert {state for _, state in planned_states(tmp_path, (), action)} == {"-5"}


REFUSED = [
    ("a ready_state the role does not have", create(ready_state='"opened"'),
     "ready_state 'opened' is not a state of rollback (did you mean 'open'?): use one of pending, open, closed"),
    ("a ready_state without a checklist", create(steps="", target='"review"', state='"open"', ready_state='"closed"'),
     "ready_state is the state of a ready step's record: give steps, the checklist to create from, or drop ready_state"),
]


@pytest.mark.parametrize("text, says", [row[1:] for row in REFUSED], ids=[row[0] for row in REFUSED])
def test_a_ready_state_that_does_not_fit_is_refused_at_load_saying_what_to_write(tmp_path, text, says):
    with pytest.raises(RulesError) as refused:
        g.pack_with(tmp_path, text)

    assert str(refused.value).split("actions[0] (create): ", 1)[1] == says
