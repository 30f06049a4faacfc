"""A step's state compared with a name is checked against what a step's record can mean (pending,
open, done, skipped, canceled, missing), not against the roles' record states: `missing` is
accepted, a misspelt step state refused with the step states named."""

from __future__ import annotations

import pytest

from etiu_worker.errors import RulesError
from etiu_worker.playbook.condition_check import StateNames, check_state_names, parse_expression
from etiu_worker.playbook.templates import make_environment

STATES = StateNames({"change": ("new", "implement", "closed"), "tasks": ("pending", "open", "closed")})


def check(source: str) -> None:
    env = make_environment()
    check_state_names(parse_expression(env, source), STATES, "pack.toml: phases[0].when", lambda _: f"condition {source!r}")


@pytest.mark.parametrize("source", [
    "steps.launch.items.L1.state not in ('pending', 'missing')",
    "steps.launch.items['L2'].state == 'skipped'",
    "'done' == steps.prelaunch.items.P4.state",
])
def test_a_step_state_compared_with_a_step_meaning_is_accepted(source):
    check(source)


@pytest.mark.parametrize(("source", "says"), [
    ("steps.launch.items.L1.state == 'closed'",
     "compares a step state with 'closed', which is not a step state: use one of pending, open, done, skipped, canceled, missing"),
    ("steps.launch.items.L1.state in ('pending', 'dne')",
     "compares a step state with 'dne', which is not a step state (did you mean 'done'?): use one of pending, open, done, "
     "skipped, canceled, missing"),
])
def test_a_step_state_compared_with_a_record_state_or_a_typo_is_refused_naming_the_step_states(source, says):
    with pytest.raises(RulesError) as refused:
        check(source)

    assert str(refused.value) == f"pack.toml: phases[0].when: condition {source!r} {says}"


def test_a_records_state_is_still_checked_against_its_roles_states():
    with pytest.raises(RulesError, match="compares a change state with 'missing', which is not a change state"):
        check("change.state == 'missing'")
