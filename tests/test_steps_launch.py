"""Seed 000's launch list as steps: a stage gate, optional steps, order, the QA period, a rollback."""

from __future__ import annotations

import tomllib
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from jinja2 import StrictUndefined
from jinja2.sandbox import ImmutableSandboxedEnvironment

from etiu_worker.playbook.names import names_of
from etiu_worker.playbook.durations import TimeFrame
from etiu_worker.playbook.step_states import StepFacts, StepRecord
from etiu_worker.playbook.step_status import derive_steps
from etiu_worker.playbook.steps import load_steps
from etiu_worker.engagement.workdays import BusinessCalendar

NEW_YORK = ZoneInfo("America/New_York")
FRAME = TimeFrame(BusinessCalendar(holidays={date(2026, 11, 26), date(2026, 11, 27)}), NEW_YORK)
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=NEW_YORK)

PACK = tomllib.loads('''
[steps.prelaunch]
role = "ctask"
items = [
  {id = "P1", title = "Customer QA passed on non-production", owner = "customer", optional = true},
  {id = "P2", title = "Upgrade report provided", owner = "vip"},
  {id = "P3", title = "Upgrade owner determined", owner = "customer"},
  {id = "P4", title = "Launch date and time agreed", owner = "customer"},
]

[steps.launch]
role = "ctask"
ordered = true
after = ["prelaunch.P2", "prelaunch.P3", "prelaunch.P4"]
items = [
  {id = "L1", title = "Customer confirms we are ready to begin", owner = "customer"},
  {id = "L2", title = "Merge pre-update pull requests", owner = "upgrade_owner", optional = true},
  {id = "L3", title = "Initiate the upgrade from the VIP Dashboard", owner = "upgrade_owner"},
  {id = "L4", title = "Merge post-update pull requests", owner = "upgrade_owner", optional = true},
  {id = "L5", title = "Customer begins full QA", owner = "customer"},
  {id = "L6", title = "QA period concludes", duration = "{{ change.u_qa_period_bd }}bd"},
]

[steps.rollback]
role = "rollback_task"
mirror = {of = "launch", items = ["L2", "L3", "L4"], reverse = true, only = "done"}
title = "Revert: {{ step.title }}"
owner = "upgrade_owner"
''')["steps"]
PLAN = load_steps(PACK)
GATE_CLOSED = {key: "done" for key in ("prelaunch.P2", "prelaunch.P3", "prelaunch.P4")}


def at(hour: int, day: int = 24) -> datetime:
    return datetime(2026, 11, day, hour, 0, tzinfo=NEW_YORK)


def derive(meanings: dict[str, str], done_at: dict[str, datetime] | None = None, **extra: StepFacts):
    """The launch list's states, each step's record meaning as given (done at 09:00 unless told)."""
    facts = {key: StepFacts(StepRecord(meaning, done_at=(done_at or {}).get(key, at(9)) if meaning == "done" else None))
             for key, meaning in meanings.items()}
    return derive_steps(PLAN, {**facts, **{key.replace("__", "."): value for key, value in extra.items()}}, FRAME, NOW)


def test_no_launch_step_is_ready_until_the_gate_steps_are_done():
    steps = derive({"prelaunch.P2": "done", "prelaunch.P3": "open", "prelaunch.P4": "pending", "launch.L1": "pending"})

    assert not steps.launch.items.L1.ready
    assert steps.launch.items.L1.blocked_by == ("prelaunch.P3", "prelaunch.P4")
    assert steps.launch.items.L1.why == "blocked by prelaunch.P3, prelaunch.P4"
    assert steps.launch.items.L3.why == "blocked by prelaunch.P3, prelaunch.P4, L2"
    assert steps.launch.next == ()


def test_the_first_launch_step_is_next_once_the_gate_is_done_whatever_the_optional_qa_step():
    steps = derive({**GATE_CLOSED, "prelaunch.P1": "pending"})

    assert [step.id for step in steps.launch.next] == ["L1"]
    assert steps.launch.why == "next: L1"
    assert steps.prelaunch.items.P1.ready and not steps.prelaunch.done


def test_a_skipped_optional_step_lets_the_next_one_go_on():
    steps = derive({**GATE_CLOSED, "launch.L1": "done", "launch.L2": "skipped"})

    assert steps.launch.items.L2.skipped and steps.launch.items.L2.optional
    assert steps.launch.items.L3.ready


def test_a_canceled_step_holds_the_steps_after_it():
    steps = derive({**GATE_CLOSED, "launch.L1": "done", "launch.L2": "canceled"})

    assert not steps.launch.items.L2.ready and not steps.launch.items.L2.blocked
    assert steps.launch.items.L3.blocked_by == ("launch.L2",)


def test_a_step_done_while_its_predecessor_is_pending_is_out_of_order():
    steps = derive({**GATE_CLOSED, "launch.L1": "done", "launch.L2": "pending", "launch.L3": "done"})

    assert steps.launch.items.L3.out_of_order
    assert steps.launch.items.L3.why == "done out of order, before L2"
    assert steps.launch.out_of_order
    assert not steps.launch.items.L1.out_of_order


def test_a_step_done_before_its_predecessor_was_done_is_out_of_order():
    done_at = {"launch.L1": at(8), "launch.L2": at(11), "launch.L3": at(10)}
    steps = derive({**GATE_CLOSED, "launch.L1": "done", "launch.L2": "done", "launch.L3": "done"}, done_at)

    assert steps.launch.items.L3.out_of_order
    assert not steps.launch.items.L2.out_of_order


def test_the_qa_period_in_business_days_runs_from_when_qa_began_and_skips_thanksgiving():
    began = datetime(2026, 11, 25, 15, 0, tzinfo=NEW_YORK)  # the Wednesday before Thanksgiving
    done = {key: "done" for key in ("launch.L1", "launch.L2", "launch.L3", "launch.L4", "launch.L5")}
    steps = derive({**GATE_CLOSED, **done}, {"launch.L5": began}, launch__L6=StepFacts(amount=3))

    qa_end = steps.launch.items.L6
    assert qa_end.start == began
    assert qa_end.due == datetime(2026, 12, 2, 15, 0, tzinfo=NEW_YORK)
    assert str(qa_end.duration) == "3bd"
    assert steps.launch.projected_finish == qa_end.due


@pytest.mark.parametrize("amount", [None, "", "n/a", -1])
def test_a_qa_period_without_a_readable_amount_has_no_due_time_and_says_why(amount):
    done = {key: "done" for key in ("launch.L1", "launch.L2", "launch.L3", "launch.L4", "launch.L5")}
    steps = derive({**GATE_CLOSED, **done}, launch__L6=StepFacts(amount=amount))

    qa_end = steps.launch.items.L6
    assert qa_end.due is None and not qa_end.overdue
    assert qa_end.why == "ready; no due time: change.u_qa_period_bd gave no amount of bd"


def test_the_rollback_reverts_the_done_launch_steps_last_first():
    steps = derive({**GATE_CLOSED, "launch.L1": "done", "launch.L2": "skipped", "launch.L3": "done",
                    "launch.L4": "done"})

    rollback = steps.rollback
    assert list(rollback.items) == ["L4", "L3"]
    assert [step.title for step in rollback.items.values()] == [
        "Revert: Merge post-update pull requests", "Revert: Initiate the upgrade from the VIP Dashboard"]
    assert {step.owner for step in rollback.items.values()} == {"upgrade_owner"}
    assert [step.id for step in rollback.next] == ["L4"]
    assert rollback.items.L3.blocked_by == ("rollback.L4",)


def test_each_rollback_step_opens_after_the_previous_one_and_one_done_first_is_out_of_order():
    done = {"launch.L3": "done", "launch.L4": "done"}

    after_first = derive({**done, "rollback.L4": "done"})
    out_of_order = derive({**done, "rollback.L4": "pending", "rollback.L3": "done"})

    assert after_first.rollback.items.L3.ready
    assert out_of_order.rollback.items.L3.out_of_order
    assert out_of_order.rollback.items.L3.why == "done out of order, before L4"


def test_a_rollback_of_nothing_done_has_no_steps():
    steps = derive({**GATE_CLOSED, "launch.L1": "open"})

    assert dict(steps.rollback.items) == {}


def test_conditions_read_the_steps_in_the_sandbox():
    env = ImmutableSandboxedEnvironment(undefined=StrictUndefined)
    steps = derive({**GATE_CLOSED, "launch.L1": "done", "launch.L2": "done", "launch.L3": "done",
                    "launch.L4": "pending"})

    def holds(condition: str) -> bool:
        return env.compile_expression(condition)(steps=steps)

    assert holds("steps.launch.items.L3.done and steps.launch.items.L4.ready")
    assert holds("steps.rollback.next | map(attribute='id') | list == ['L3']")
    assert holds("not steps.done and steps.prelaunch.items.P1.state == 'missing'")
    with pytest.raises(Exception, match="lunch"):
        holds("steps.lunch.done")


def test_a_step_after_a_rollback_step_not_kept_waits_only_for_the_kept_ones():
    plan = load_steps({**PACK, "restored": {"after": ["rollback.L2", "rollback.L3"]}})
    facts = {"launch.L3": StepFacts(StepRecord("done", done_at=at(9))), "rollback.L3": StepFacts(StepRecord("open"))}

    steps = derive_steps(plan, facts, FRAME, NOW)

    assert list(steps.rollback.items) == ["L3"]
    assert steps.restored.blocked_by == ("rollback.L3",)


def test_a_misspelt_group_or_step_is_answered_with_the_names_there_are():
    steps = derive({**GATE_CLOSED})

    assert {"launch", "prelaunch", "rollback", "next", "done"} <= set(names_of(steps))
    assert names_of(steps.launch.items) == ["L1", "L2", "L3", "L4", "L5", "L6"]
    with pytest.raises(AttributeError, match="steps has no group 'lunch' \\(did you mean 'launch'\\?\\)"):
        steps.lunch
    with pytest.raises(AttributeError, match="no step 'L7' here; the steps are L1, L2, L3, L4, L5, L6"):
        steps.launch.items.L7
