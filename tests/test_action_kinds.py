"""Each action kind declares the keys it takes: a rules file is read against the kinds the worker
has, listed once (etiu_worker.actions.KINDS), so a key of another kind is refused where it is
written and the message names every kind there is."""

from __future__ import annotations

import pytest

import playbook_helpers as h
from etiu_worker.actions import KINDS
from etiu_worker.actions.loading import load_playbook
from etiu_worker.errors import RulesError


def refused(rules, templates) -> str:
    with pytest.raises(RulesError) as caught:
        load_playbook(rules, templates, h.settings().schema)
    return str(caught.value)


def test_the_kinds_are_the_six_a_rules_file_has_always_taken_then_set_field_and_create():
    assert list(KINDS) == ["set_state", "create_ticket", "update_roadmap", "work_note", "comment", "flag", "set_field",
                           "create"]


def test_an_unknown_action_names_every_kind_the_worker_has(tmp_path):
    rules, templates = h.copy_playbook(tmp_path)
    h.edit(rules / "50_validation_length.toml", 'type = "flag"', 'type = "send_email"')
    assert f"'send_email' is not a known action; use one of {', '.join(KINDS)}" in refused(rules, templates)


# (file, the action's key line it follows, a key another kind takes)
FOREIGN_KEYS = [
    ("50_validation_length.toml", 'type = "flag"', 'overflow_template = "flag_roadmap_overflow.j2"'),
    ("40_validation_reminder.toml", 'type = "comment"', 'severity = "warning"'),
    ("70_support_week_ends.toml", 'type = "set_state"', 'title = "Support week"'),
    ("10_roadmap_in_sync.toml", 'type = "update_roadmap"', 'state = "open"'),
]


@pytest.mark.parametrize("file, after, foreign", FOREIGN_KEYS, ids=[row[2].split(" ")[0] for row in FOREIGN_KEYS])
def test_a_key_of_another_kind_is_refused_on_its_line(tmp_path, file, after, foreign):
    rules, templates = h.copy_playbook(tmp_path)
    path = rules / file
    h.edit(path, after, f"{after}\n{foreign}")
    message = refused(rules, templates)
    line = next(number for number, text in enumerate(path.read_text().splitlines(), start=1) if text == foreign)
    key = foreign.split(" ")[0]
    assert f"{path}:{line}:" in message
    assert f".{key}: is not a known key" in message


def test_a_note_that_checks_the_clock_needs_the_flag_it_posts(tmp_path):
    rules, templates = h.copy_playbook(tmp_path)
    h.edit(rules / "20_planned_window.toml", 'clock_flag_template = "flag_clock_gap.j2"', "")
    assert "check_clock_minutes needs clock_flag_template" in refused(rules, templates)
