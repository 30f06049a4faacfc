"""Time arithmetic in a rule is checked when the pack loads (a duration or a time of day written
wrongly fails on every engagement), and a condition that compares with a date that is not set
says, in the match explanation, what to write instead."""

from __future__ import annotations

from datetime import datetime, timezone
from types import SimpleNamespace

import pytest

import playbook_helpers as h
from etiu_worker.actions.loading import load_playbook
from etiu_worker.errors import RulesError
from etiu_worker.playbook.evaluate import evaluate_rule
from etiu_worker.playbook.rules import Condition, Rule
from etiu_worker.playbook.templates import make_environment

REMINDER = "40_validation_reminder.toml"
FIRST_CONDITION = '"tickets.validation is not none",'

# (a time literal that cannot work, what the message says); each sits in a branch the sample
# engagement does not reach, so only the load-time check can find it.
BAD_LITERALS = [
    ("now | minus('48 hours') < now", "'48 hours'"),
    ("now | plus(2, 'fortnights') > now", "'fortnights' is not a unit of duration"),
    ("(now | at('1pm')) > now", "'1pm'"),
    ("now in bd_range(now, 0)", "bd_range: 0 is not a number of days"),
    ("now | plus > now", "plus is given the wrong arguments: write x | plus('2bd')"),
]


@pytest.mark.parametrize("literal, says", BAD_LITERALS, ids=[row[0] for row in BAD_LITERALS])
def test_a_time_literal_that_cannot_work_is_refused_at_load_naming_the_rule_and_condition(tmp_path, literal, says):
    condition = f"false and ({literal})"
    rules, templates = h.copy_playbook(tmp_path)
    path = rules / REMINDER
    line = h.edit(path, FIRST_CONDITION, f'{FIRST_CONDITION}\n    "{condition}",')
    with pytest.raises(RulesError) as caught:
        load_playbook(rules, templates, h.settings().schema)
    message = str(caught.value)
    assert f"{path}:{line + 1}: rule validation_reminder, when: condition {condition!r}" in message
    assert says in message


def test_a_condition_comparing_with_a_date_that_is_not_set_says_what_to_write_instead(tmp_path):
    env = make_environment(tmp_path)
    source = "now >= dates.cutoff"
    condition = Condition(source, "test", env.compile_expression(source, undefined_to_none=False))
    rule = Rule("cutoff_passed", "d", 1, False, (condition,), {}, (), tmp_path / "r.toml")
    context = {"now": datetime(2026, 11, 24, tzinfo=timezone.utc), "dates": {"cutoff": None}}

    result = evaluate_rule(SimpleNamespace(env=env), rule, "ENG-1", False, context)

    assert result.why() == (
        "not matched: 'now >= dates.cutoff' could not be evaluated: '>=' compares with none (a date or value "
        "that is not set): test it first, e.g. `x is not none and now >= x`")
