"""A step's state compared with a name, in a condition or a template, is checked against what a
step's record can mean (pending, open, done, skipped, canceled, missing), not against the roles'
record states: `missing` is accepted, a misspelt step state refused with the step states named. A
state read from a name the check cannot place (a loop variable) may be either."""

from __future__ import annotations

from types import MappingProxyType

import pytest

from etiu_worker.errors import RulesError
from etiu_worker.playbook.condition_check import StateNames, check_state_names, parse_expression
from etiu_worker.playbook.templates import make_environment

STATES = StateNames(MappingProxyType({"change": ("new", "scheduled", "closed")}))
WHERE = "pack.toml: phases[0].when"


def check(source: str) -> None:
    env = make_environment()
    check_state_names(parse_expression(env, source), STATES, WHERE, lambda _: f"condition {source!r}")


@pytest.mark.parametrize("source", [
    "steps.launch.items.L1.state not in ('pending', 'missing')",
    "steps.launch.items['L2'].state == 'skipped'",
    "'done' == steps.prelaunch.items.P4.state",
    "steps.launch.items.L2.state in ('pending', 'skipped')",
    "steps.groups.launch.items.L2.state != 'done'",
    "step.state == 'missing'",  # a loop variable: a step's or a record's
    "step.state == 'scheduled'",
    "change.state == 'scheduled'",
])
def test_a_step_state_or_a_state_the_check_cannot_place_is_accepted(source):
    check(source)


@pytest.mark.parametrize(("source", "says"), [
    ("steps.launch.items.L1.state == 'closed'",
     "compares a step state with 'closed', which is not a step state: use one of pending, open, done, skipped, canceled, missing"),
    ("steps.launch.items.L1.state in ('pending', 'dne')",
     "compares a step state with 'dne', which is not a step state (did you mean 'done'?): use one of pending, open, done, "
     "skipped, canceled, missing"),
    ("steps.launch.items.L2.state == 'mising'",
     "compares a step state with 'mising', which is not a step state (did you mean 'missing'?): use one of pending, open, "
     "done, skipped, canceled, missing"),
])
def test_a_step_state_compared_with_a_record_state_or_a_typo_is_refused_naming_the_step_states(source, says):
    with pytest.raises(RulesError) as refused:
        check(source)

    assert str(refused.value) == f"{WHERE}: condition {source!r} {says}"


@pytest.mark.parametrize(("source", "message"), [
    ("change.state == 'missing'", "compares a change state with 'missing', which is not a change state"),
    ("step.state == 'bogus'", "use one of closed, new, scheduled, unknown, pending, open, done, skipped, canceled, missing"),
])
def test_a_state_that_is_no_state_of_what_it_is_read_from_is_refused(source, message):
    with pytest.raises(RulesError) as raised:
        check(source)

    assert message in str(raised.value)
