"""A step's state compared in a condition or template is checked against the step states
(pending, open, done, skipped, canceled, missing), not the records' states; a state read from a
name the check cannot place (a loop variable) may be either."""

from __future__ import annotations

from types import MappingProxyType

import pytest

from etiu_worker.errors import RulesError
from etiu_worker.playbook.condition_check import StateNames, check_state_names, parse_expression
from etiu_worker.playbook.templates import make_environment

STATES = StateNames(MappingProxyType({"change": ("new", "scheduled", "closed")}))


def check(source: str) -> None:
    env = make_environment()
    check_state_names(parse_expression(env, source), STATES, "rules/x.toml", lambda _: f"condition {source!r}")


@pytest.mark.parametrize("source", [
    "steps.launch.items.L2.state == 'missing'",
    "steps.launch.items.L2.state in ('pending', 'skipped')",
    "steps.groups.launch.items.L2.state != 'done'",
    "step.state == 'missing'",  # a loop variable: a step's or a record's
    "step.state == 'scheduled'",
    "change.state == 'scheduled'",
])
def test_a_step_state_or_a_state_the_check_cannot_place_is_accepted(source):
    check(source)


@pytest.mark.parametrize(("source", "message"), [
    ("steps.launch.items.L2.state == 'closed'",
     "rules/x.toml: condition \"steps.launch.items.L2.state == 'closed'\" compares a step state with 'closed', which is "
     "not a step state: use one of pending, open, done, skipped, canceled, missing"),
    ("steps.launch.items.L2.state == 'mising'",
     "compares a step state with 'mising', which is not a step state (did you mean 'missing'?)"),
    ("change.state == 'missing'", "compares a change state with 'missing', which is not a change state"),
    ("step.state == 'bogus'", "use one of closed, new, scheduled, unknown, pending, open, done, skipped, canceled, missing"),
])
def test_a_state_that_is_no_state_of_what_it_is_read_from_is_refused(source, message):
    with pytest.raises(RulesError) as raised:
        check(source)
    assert message in str(raised.value)
