"""A rules folder with a defect is refused when it is loaded, before any request.

Each test copies the shipped rules and templates to a temporary folder, breaks one thing, and
checks the RulesError names the file, the line where it can be found, the rule, and what to fix.
"""

from __future__ import annotations

import re
import shutil

import pytest

import playbook_helpers as h
from etiu_worker.errors import EXIT_INVALID_CONFIG, RulesError
from etiu_worker.actions.loading import load_playbook


def refused(rules, templates) -> str:
    with pytest.raises(RulesError) as caught:
        load_playbook(rules, templates, h.settings().schema)
    assert caught.value.exit_code == EXIT_INVALID_CONFIG
    return str(caught.value)


def action_type_line(path, index: int) -> int:
    """The line of the `type =` key of the index-th [[rule.actions]] of a rules file."""
    seen = -1
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if line.startswith("[[rule.actions]]"):
            seen += 1
        elif seen == index and line.startswith("type"):
            return number
    raise AssertionError(f"no actions[{index}] in {path}")


@pytest.fixture
def playbook_copy(tmp_path):
    return h.copy_playbook(tmp_path)


def test_the_shipped_rules_and_templates_load(playbook_copy):
    assert len(load_playbook(*playbook_copy, h.settings().schema).rules) == 8


EDITED = "the edited line"


def action(index: int) -> tuple[str, int]:
    """The error names the line of the index-th action's ``type =`` key."""
    return ("action", index)


# (what is broken, file, text replaced, replacement, where the error points, what it must say)
DEFECTS = [
    ("unknown action type", "50_validation_length.toml", 'type = "flag"', 'type = "send_email"', EDITED,
     ["rule validation_length", "'send_email' is not a known action",
      "set_state, create_ticket, update_roadmap, work_note, comment, flag"]),
    ("unknown action type in a later action", "30_prod_upgrade_scheduled.toml",
     'type = "create_ticket"\ntarget = "support_week"', 'type = "create_tickets"\ntarget = "support_week"', EDITED,
     ["'create_tickets' is not a known action"]),
    ("unknown key in an action", "50_validation_length.toml", 'target = "validation"', 'tagret = "validation"', EDITED,
     ["rule validation_length", "tagret", "is not a known key"]),
    ("unknown key in the rule itself", "50_validation_length.toml", "order = 50", "priority = 50", EDITED,
     ["rule validation_length", "rule.priority: is not a known key"]),
    ("unknown key in playbook.toml", "playbook.toml", "hours = 3", "planned_window_hour = 3", EDITED,
     ["planned_window_hour: is not a known key"]),
    ("condition that does not compile", "50_validation_length.toml",
     '"steps.validation.overdue",', '"steps.validation.overdue > > 1",',
     EDITED, ["rule validation_length, when", "'steps.validation.overdue > > 1' does not compile"]),
    ("misspelt name in a condition", "50_validation_length.toml", '"steps.validation.overdue",', '"validaton.overdue",',
     EDITED, ["rule validation_length", "fails on the sample engagement", "'validaton' is undefined"]),
    ("misspelt step in a condition", "50_validation_length.toml", "steps.validation.overdue",
     "steps.validaton.overdue", EDITED, ["validaton", "did you mean 'validation'?"]),
    ("misspelt name in an action condition", "70_support_week_ends.toml",
     'when = ["tickets.best_practices is not none and tickets.best_practices.is_closed"]',
     'when = ["tickets.best_practice is not none"]', EDITED, ["rule support_week_ends, actions[0].when", "best_practice"]),
    ("template name that does not exist", "50_validation_length.toml", 'template = "flag_validation_overdue.j2"',
     'template = "flag_validation_overdu.j2"', action(0),
     ["rule validation_length, actions[0] (flag)", "template 'flag_validation_overdu.j2' is not in the templates folder"]),
    ("misspelt name in a title template", "30_prod_upgrade_scheduled.toml", 'title = "Support week - {{ client }}"',
     'title = "Support week - {{ clint }}"', action(3),
     ["rule prod_upgrade_scheduled, actions[3] (create_ticket)", "'clint' is undefined"]),
    ("key template that does not compile", "50_validation_length.toml", 'key = "overdue|{{ tickets.validation.work_start }}"',
     'key = "overdue|{{ tickets.validation.work_start }"', action(0), ["key template does not compile"]),
    # The third set_state of the file: the error names that action's line, not the first's.
    ("state name that does not exist", "30_prod_upgrade_scheduled.toml",
     'state = "open"\ntemplate = "scheduled_support_week_opened.j2"',
     'state = "opened"\ntemplate = "scheduled_support_week_opened.j2"', action(4),
     ["rule prod_upgrade_scheduled, actions[4] (set_state)",
      "state 'opened' is not one of pending, open, work_in_progress, closed_complete"]),
    ("target that does not exist", "50_validation_length.toml", 'target = "validation"', 'target = "etiu03"', action(0),
     ["target 'etiu03' is not one of kickoff, dev_upgrade, validation"]),
    ("rule name that is not lower snake case", "50_validation_length.toml", 'name = "validation_length"',
     'name = "Validation Length"', EDITED, ["rule.name"]),
    ("weekend day that is not a weekday", "playbook.toml", 'weekend = ["saturday", "sunday"]',
     'weekend = ["saturday", "sundae"]', EDITED, ["'sundae' is not a weekday name"]),
]


@pytest.mark.parametrize("defect, file, old, new, where, says", DEFECTS, ids=[row[0] for row in DEFECTS])
def test_a_defect_in_a_rules_file_is_rejected_naming_where_and_what(playbook_copy, defect, file, old, new, where, says):
    rules, templates = playbook_copy
    path = rules / file
    line = h.edit(path, old, new)
    message = refused(rules, templates)
    expected_line = line if where == EDITED else action_type_line(path, where[1])
    assert f"{path}:{expected_line}:" in message
    for text in says:
        assert text in message, (defect, text, message)


def test_misspelt_name_in_a_template_is_rejected(playbook_copy):
    rules, templates = playbook_copy
    h.edit(templates / "flag_validation_overdue.j2", "steps.validation.share *", "steps.validation.shar *")
    message = refused(rules, templates)
    assert "rule validation_length" in message
    assert "flag_validation_overdue.j2" in message and "shar" in message


def test_template_with_a_syntax_error_is_rejected(playbook_copy):
    rules, templates = playbook_copy
    h.edit(templates / "flag_validation_overdue.j2", "Check in with the client",
           "{% if validation.running %}Check in with the client")
    message = refused(rules, templates)
    path = rules / "50_validation_length.toml"
    assert f"{path}:{action_type_line(path, 0)}:" in message
    assert "rule validation_length" in message
    assert re.search(r"template flag_validation_overdue\.j2, line \d+: .*endif", message)


def test_severity_that_does_not_exist_is_rejected_naming_the_allowed_ones(playbook_copy):
    rules, templates = playbook_copy
    path = rules / "60_bp_in_support_week.toml"
    line = h.edit(path, 'severity = "warning"', 'severity = "warn"')
    message = refused(rules, templates)
    assert f"{path}:{line}:" in message
    assert "'warn' is not allowed here; use 'warning' or 'problem'" in message
    assert "not a known action" not in message


def test_broken_toml_is_rejected_naming_the_file_and_line(playbook_copy):
    rules, templates = playbook_copy
    path = rules / "50_validation_length.toml"
    line = h.edit(path, "order = 50", "order = ")
    message = refused(rules, templates)
    assert str(path) in message
    assert "not valid TOML" in message
    assert f"line {line}" in message


def test_duplicate_rule_names_are_rejected_naming_both_files(playbook_copy):
    rules, templates = playbook_copy
    shutil.copy(rules / "50_validation_length.toml", rules / "55_validation_length_copy.toml")
    message = refused(rules, templates)
    assert str(rules / "55_validation_length_copy.toml") in message
    assert str(rules / "50_validation_length.toml") in message
    assert "rule name 'validation_length'" in message and "must be unique" in message
