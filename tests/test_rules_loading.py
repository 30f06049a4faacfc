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
from etiu_worker.rules import load_playbook


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


def test_rule_with_unknown_action_type_is_rejected(playbook_copy):
    rules, templates = playbook_copy
    path = rules / "50_validation_length.toml"
    line = h.edit(path, 'type = "flag"', 'type = "send_email"')
    message = refused(rules, templates)
    assert f"{path}:{line}:" in message
    assert "rule validation_length" in message
    assert "'send_email' is not a known action" in message
    assert "set_state, create_ticket, update_roadmap, work_note, comment, flag" in message


def test_unknown_action_type_in_a_later_action_names_that_actions_line(playbook_copy):
    rules, templates = playbook_copy
    path = rules / "30_prod_upgrade_scheduled.toml"
    line = h.edit(path, 'type = "create_ticket"\ntarget = "support_week"', 'type = "create_tickets"\ntarget = "support_week"')
    message = refused(rules, templates)
    assert f"{path}:{line}:" in message
    assert "'create_tickets' is not a known action" in message


def test_rule_with_unknown_key_is_rejected(playbook_copy):
    rules, templates = playbook_copy
    path = rules / "50_validation_length.toml"
    line = h.edit(path, 'target = "validation"', 'tagret = "validation"')
    message = refused(rules, templates)
    assert f"{path}:{line}:" in message
    assert "rule validation_length" in message
    assert "tagret" in message and "is not a known key" in message


def test_unknown_key_in_the_rule_itself_is_rejected(playbook_copy):
    rules, templates = playbook_copy
    path = rules / "50_validation_length.toml"
    line = h.edit(path, "order = 50", "priority = 50")
    message = refused(rules, templates)
    assert f"{path}:{line}:" in message
    assert "rule validation_length" in message and "rule.priority: is not a known key" in message


def test_unknown_key_in_playbook_toml_is_rejected(playbook_copy):
    rules, templates = playbook_copy
    path = rules / "playbook.toml"
    line = h.edit(path, "planned_window_hours = 3", "planned_window_hour = 3")
    message = refused(rules, templates)
    assert f"{path}:{line}:" in message
    assert "planned_window_hour: is not a known key" in message


def test_condition_that_does_not_compile_is_rejected(playbook_copy):
    rules, templates = playbook_copy
    path = rules / "50_validation_length.toml"
    line = h.edit(path, '"validation.business_days > params.max_business_days"',
                  '"validation.business_days > > params.max_business_days"')
    message = refused(rules, templates)
    assert f"{path}:{line}:" in message
    assert "rule validation_length, when" in message
    assert "'validation.business_days > > params.max_business_days' does not compile" in message


def test_misspelt_name_in_a_condition_fails_against_the_sample_and_is_rejected(playbook_copy):
    rules, templates = playbook_copy
    path = rules / "50_validation_length.toml"
    line = h.edit(path, '"validation.running",', '"validaton.running",')
    message = refused(rules, templates)
    assert f"{path}:{line}:" in message
    assert "rule validation_length" in message
    assert "fails on the sample engagement" in message
    assert "'validaton' is undefined" in message


def test_misspelt_param_in_a_condition_is_rejected(playbook_copy):
    rules, templates = playbook_copy
    path = rules / "50_validation_length.toml"
    line = h.edit(path, "> params.max_business_days", "> params.max_busines_days")
    message = refused(rules, templates)
    assert f"{path}:{line}:" in message
    assert "max_busines_days" in message


def test_misspelt_name_in_an_action_condition_is_rejected(playbook_copy):
    rules, templates = playbook_copy
    path = rules / "70_support_week_ends.toml"
    line = h.edit(path, 'when = ["tickets.best_practices is not none and tickets.best_practices.is_closed"]',
                  'when = ["tickets.best_practice is not none"]')
    message = refused(rules, templates)
    assert f"{path}:{line}:" in message
    assert "rule support_week_ends, actions[0].when" in message
    assert "best_practice" in message


def test_template_name_that_does_not_exist_is_rejected(playbook_copy):
    rules, templates = playbook_copy
    path = rules / "50_validation_length.toml"
    h.edit(path, 'template = "flag_validation_overdue.j2"', 'template = "flag_validation_overdu.j2"')
    message = refused(rules, templates)
    assert f"{path}:{action_type_line(path, 0)}:" in message
    assert "rule validation_length, actions[0] (flag)" in message
    assert "template 'flag_validation_overdu.j2' is not in the templates folder" in message


def test_template_with_a_syntax_error_is_rejected(playbook_copy):
    rules, templates = playbook_copy
    h.edit(templates / "flag_validation_overdue.j2", "Check in with the client",
           "{% if validation.running %}Check in with the client")
    message = refused(rules, templates)
    path = rules / "50_validation_length.toml"
    assert f"{path}:{action_type_line(path, 0)}:" in message
    assert "rule validation_length" in message
    assert re.search(r"template flag_validation_overdue\.j2, line \d+: .*endif", message)


def test_misspelt_name_in_a_template_is_rejected(playbook_copy):
    rules, templates = playbook_copy
    h.edit(templates / "flag_validation_overdue.j2", "validation.business_days | round", "validation.busines_days | round")
    message = refused(rules, templates)
    assert "rule validation_length" in message
    assert "flag_validation_overdue.j2" in message and "busines_days" in message


def test_misspelt_name_in_a_title_template_names_its_own_action(playbook_copy):
    rules, templates = playbook_copy
    path = rules / "30_prod_upgrade_scheduled.toml"
    h.edit(path, 'title = "Support week - {{ client }}"', 'title = "Support week - {{ clint }}"')
    message = refused(rules, templates)
    assert f"{path}:{action_type_line(path, 3)}:" in message
    assert "rule prod_upgrade_scheduled, actions[3] (create_ticket)" in message
    assert "'clint' is undefined" in message


def test_key_template_that_does_not_compile_is_rejected(playbook_copy):
    rules, templates = playbook_copy
    path = rules / "50_validation_length.toml"
    h.edit(path, 'key = "overdue|{{ validation.started }}"', 'key = "overdue|{{ validation.started }"')
    message = refused(rules, templates)
    assert f"{path}:{action_type_line(path, 0)}:" in message
    assert "key template does not compile" in message


def test_state_name_that_does_not_exist_is_rejected(playbook_copy):
    rules, templates = playbook_copy
    path = rules / "30_prod_upgrade_scheduled.toml"
    # The third set_state of the file: the error names that action's line, not the first's.
    h.edit(path, 'state = "open"\ntemplate = "scheduled_support_week_opened.j2"',
           'state = "opened"\ntemplate = "scheduled_support_week_opened.j2"')
    message = refused(rules, templates)
    assert f"{path}:{action_type_line(path, 4)}:" in message
    assert "rule prod_upgrade_scheduled, actions[4] (set_state)" in message
    assert "state 'opened' is not one of pending, open, work_in_progress, closed_complete" in message


def test_severity_that_does_not_exist_is_rejected_naming_the_allowed_ones(playbook_copy):
    rules, templates = playbook_copy
    path = rules / "60_bp_in_support_week.toml"
    line = h.edit(path, 'severity = "warning"', 'severity = "warn"')
    message = refused(rules, templates)
    assert f"{path}:{line}:" in message
    assert "'warn' is not allowed here; use 'warning' or 'problem'" in message
    assert "not a known action" not in message


def test_target_that_does_not_exist_is_rejected(playbook_copy):
    rules, templates = playbook_copy
    path = rules / "50_validation_length.toml"
    h.edit(path, 'target = "validation"', 'target = "etiu03"')
    message = refused(rules, templates)
    assert f"{path}:{action_type_line(path, 0)}:" in message
    assert "target 'etiu03' is not one of kickoff, dev_upgrade, validation" in message


def test_broken_toml_is_rejected_naming_the_file_and_line(playbook_copy):
    rules, templates = playbook_copy
    path = rules / "50_validation_length.toml"
    line = h.edit(path, "max_business_days = 2", "max_business_days = ")
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


def test_rule_name_that_is_not_lower_snake_case_is_rejected(playbook_copy):
    rules, templates = playbook_copy
    path = rules / "50_validation_length.toml"
    line = h.edit(path, 'name = "validation_length"', 'name = "Validation Length"')
    message = refused(rules, templates)
    assert f"{path}:{line}:" in message
    assert "rule.name" in message


def test_weekend_day_that_is_not_a_weekday_is_rejected(playbook_copy):
    rules, templates = playbook_copy
    path = rules / "playbook.toml"
    line = h.edit(path, 'weekend = ["saturday", "sunday"]', 'weekend = ["saturday", "sundae"]')
    message = refused(rules, templates)
    assert f"{path}:{line}:" in message
    assert "'sundae' is not a weekday name" in message
