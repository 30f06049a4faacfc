"""``set_field`` writes a writable field of a declared role, with a note saying why, and only when
the field does not hold the value yet; a field the pack does not declare writable is refused
when the pack loads."""

from __future__ import annotations

import pytest

import playbook_helpers as h
from etiu_worker.actions.loading import load_playbook
from etiu_worker.cycle.engine import plan_cycle
from etiu_worker.errors import RulesError

FIXTURE = "window_end_not_three_hours"


def rule(field: str = "planned_end", value: str = "2026-11-25 02:00:00", target: str = "change") -> str:
    return f"""
[rule]
name = "window_end_set"
description = "Set the planned end three hours after the planned start."
order = 90

[[rule.actions]]
type = "set_field"
target = "{target}"
field = "{field}"
value = "{value}"
template = "window_end_set.j2"
"""


def playbook_with(tmp_path, text: str):
    rules, templates = h.copy_playbook(tmp_path)
    (rules / "90_window_end_set.toml").write_text(text, encoding="utf-8")
    (templates / "window_end_set.j2").write_text("Planned end set to {{ change.planned_start | plus('3h') | when }}.",
                                                 encoding="utf-8")
    return load_playbook(rules, templates, h.settings().schema)


def planned(playbook, data):
    return plan_cycle(playbook, h.engagements(data), data.get("memory", {}), h.at_of(data),
                      lambda sys_id, ref: False, h.history(data))


def test_a_writable_field_is_written_with_its_value_before_and_a_note(tmp_path):
    data = h.load(FIXTURE)
    [change] = data["change_requests"]

    write = h.one(planned(playbook_with(tmp_path, rule()), data), rule="window_end_set")

    assert (write.kind, write.table, write.sys_id) == ("set_field", "change_request", change["sys_id"])
    assert write.fields == {"end_date": "2026-11-25 02:00:00"}
    assert write.before == {"end_date": change["end_date"]}
    assert write.note.startswith("Planned end set to ") and f"ref {write.note_ref}" in write.note


def test_a_field_that_holds_the_value_already_is_not_written(tmp_path):
    data = h.load(FIXTURE)
    [change] = data["change_requests"]

    cycle = planned(playbook_with(tmp_path, rule(value=change["end_date"])), data)

    assert h.writes(cycle, rule="window_end_set") == []


# (what is wrong, the rule, what the message says)
REFUSED = [
    ("a field the role does not declare writable", rule(field="work_start", target="validation"),
     "field 'work_start' is not a writable field of validation: use one of title"),
    ("a misspelt field", rule(field="planned_ends"),
     "field 'planned_ends' is not a writable field of change (did you mean 'planned_end'?)"),
    ("no value", rule(value=""), "set_field needs value"),
]


@pytest.mark.parametrize("text, says", [row[1:] for row in REFUSED], ids=[row[0] for row in REFUSED])
def test_a_field_the_pack_does_not_let_the_worker_write_is_refused_at_load(tmp_path, text, says):
    with pytest.raises(RulesError) as refused:
        playbook_with(tmp_path, text)
    assert "rule window_end_set, actions[0] (set_field)" in str(refused.value)
    assert says in str(refused.value)
