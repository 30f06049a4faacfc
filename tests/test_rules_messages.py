"""What an admin reads when a copy of the shipped playbook is broken in one place.

One table of (the edit, the exact message): each row copies the shipped rules and templates,
makes one edit, loads the folder as `etiu-worker rules check` does and compares the whole
message. In the messages, {rules} and {templates} are the copied folders, {line} the line of the
edit, {type_line} the line of the edited action's `type =`.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

import playbook_helpers as h
from etiu_worker.errors import EXIT_INVALID_CONFIG, RulesError
from etiu_worker.actions.loading import load_playbook
from etiu_worker.cycle.rule_tester import run_fixture

TICKET_STATES = "pending, open, work_in_progress, closed_complete, closed_incomplete, closed_skipped, unknown"
CHANGE_STATES = "new, assess, authorize, scheduled, implement, review, closed, canceled, unknown"
TICKETS = "best_practices, dev_upgrade, kickoff, support_week, validation"
CONDITION_NAMES = (
    "best_practices, calendar, change, client, codes, contacts, ctask, dates, dev_upgrade, engagement, found, key, "
    "kickoff, latches, now, numbers, params, planned_dates, problems, prod_upgrade_local, prod_upgrade_utc, records, roadmap, "
    "rule, steps, support_week, sync, tickets, today, validation, window, zone"
)
RULE_NAMES = (
    "engagement_sanity, roadmap_in_sync, planned_window_verified, prod_upgrade_scheduled, validation_reminder, "
    "validation_length, bp_in_support_week, support_week_ends"
)


@dataclass(frozen=True)
class Broken:
    file: str  # in the copied rules folder, or templates/NAME
    old: str
    new: str
    message: str
    action: int = 0  # which [[rule.actions]] {type_line} is about
    rule_file: str = ""  # the rules file of {type_line}, when the edit is to a template


BROKEN = {
    "a missing playbook.toml": Broken(
        "playbook.toml", "", "",
        "{rules}/playbook.toml is missing: the rules folder needs playbook.toml, which holds the numbers all "
        "rules share ([playbook]), the names notes use ([contacts]) and the business calendar ([calendar]: "
        "weekend and holidays); copy it from the shipped " + str(h.SHIPPED_PACK / "pack.toml")
        + " and adapt it",
    ),
    "an unknown ticket state in a tuple": Broken(
        "30_prod_upgrade_scheduled.toml", "state in ('pending', 'open')", "state in ('pending', 'opened')",
        "{rules}/30_prod_upgrade_scheduled.toml:{line}: rule prod_upgrade_scheduled, actions[2].when: condition "
        "\"tickets.best_practices is none or tickets.best_practices.state in ('pending', 'opened')\" compares a "
        "ticket state with 'opened', which is not a ticket state (did you mean 'open'?): use one of "
        + TICKET_STATES,
    ),
    "an unknown ticket state compared with ==": Broken(
        "40_validation_reminder.toml", "state == 'work_in_progress'", "state == 'in_progress'",
        "{rules}/40_validation_reminder.toml:{line}: rule validation_reminder, when: condition "
        "\"tickets.validation.state == 'in_progress'\" compares a ticket state with 'in_progress', which is not "
        "a ticket state (did you mean 'work_in_progress'?): use one of " + TICKET_STATES,
    ),
    "an unknown change state spelt the British way": Broken(
        "20_planned_window.toml", "change.state != 'canceled'", "change.state != 'cancelled'",
        "{rules}/20_planned_window.toml:{line}: rule planned_window_verified, when: condition "
        "\"change.state != 'cancelled'\" compares a change state with 'cancelled', which is not a change state "
        "(did you mean 'canceled'?): use one of " + CHANGE_STATES,
    ),
    "an unknown state written first, nothing close to it": Broken(
        "30_prod_upgrade_scheduled.toml", "tickets.support_week.state == 'pending'",
        "'waiting' == tickets.support_week.state",
        "{rules}/30_prod_upgrade_scheduled.toml:{line}: rule prod_upgrade_scheduled, actions[4].when: condition "
        "\"tickets.support_week is none or 'waiting' == tickets.support_week.state\" compares a ticket state with "
        "'waiting', which is not a ticket state: use one of " + TICKET_STATES,
    ),
    "a misspelt ticket role": Broken(
        "40_validation_reminder.toml", '"tickets.validation is not none",', '"tickets.validaton is not none",',
        "{rules}/40_validation_reminder.toml:{line}: rule validation_reminder, when: condition "
        "'tickets.validaton is not none' fails on the sample engagement: tickets has no 'validaton' "
        "(did you mean 'validation'?); tickets has: " + TICKETS,
    ),
    "a misspelt fact": Broken(
        "40_validation_reminder.toml", '"not sync.conflicts",', '"not sync.conflict",',
        "{rules}/40_validation_reminder.toml:{line}: rule validation_reminder, when: condition 'not sync.conflict' "
        "fails on the sample engagement: sync has no 'conflict' (did you mean 'conflicts'?); "
        "sync has: agreed, carried, conflicts, consistent, stale",
    ),
    "a misspelt name at the top": Broken(
        "40_validation_reminder.toml", '"roadmap.prod_upgrade is not none",', '"roadmp.prod_upgrade is not none",',
        "{rules}/40_validation_reminder.toml:{line}: rule validation_reminder, when: condition "
        "'roadmp.prod_upgrade is not none' fails on the sample engagement: 'roadmp' is undefined "
        "(did you mean 'roadmap'?); the names are: " + CONDITION_NAMES,
    ),
    "a misspelt roadmap date": Broken(
        "40_validation_reminder.toml", '"roadmap.prod_upgrade is not none",', '"roadmap.prod_upgrad is not none",',
        "{rules}/40_validation_reminder.toml:{line}: rule validation_reminder, when: condition "
        "'roadmap.prod_upgrad is not none' fails on the sample engagement: roadmap has no 'prod_upgrad' "
        "(did you mean 'prod_upgrade'?); roadmap has: bp, changes, dev_upgrade, items, kickoff, labels, merged, "
        "prod_upgrade, replace, support_week, values",
    ),
    "a misspelt name in a branch the sample engagement does not reach": Broken(
        "40_validation_reminder.toml", '"not sync.conflicts",', '"not sync.conflicts or sync.stal",',
        "{rules}/40_validation_reminder.toml:{line}: rule validation_reminder, when: condition "
        "'not sync.conflicts or sync.stal' reads a name that does not exist: sync has no 'stal' "
        "(did you mean 'stale'?); sync has: agreed, carried, conflicts, consistent, stale",
    ),
    "a misspelt name in a template branch the sample engagement does not reach": Broken(
        "templates/flag_window.j2", "The planned end of {{ change.number }} is empty",
        "The planned end of {{ change.nubmer }} is empty",
        "{rules}/20_planned_window.toml:{type_line}: rule planned_window_verified, actions[0] (flag): template "
        "flag_window.j2 reads a name that does not exist: change has no 'nubmer' (did you mean 'number'?); "
        "change has: code, is_canceled, is_closed, is_done, is_open, is_pending, is_skipped, meaning, number, "
        "planned_end, planned_start, raw, role, state, state_value, step, sys_id, table, updated_on, values",
        rule_file="20_planned_window.toml",
    ),
    "a misspelt step": Broken(
        "50_validation_length.toml", '"steps.validation.overdue",', '"steps.validaton.overdue",',
        "{rules}/50_validation_length.toml:{line}: rule validation_length, when: condition "
        "'steps.validaton.overdue' fails on the sample engagement: steps has no 'validaton' (did you mean "
        "'validation'?); steps has: done, groups, next, projected_finish, validation",
    ),
    "a misspelt filter in a condition": Broken(
        "00_engagement_sanity.toml", "problems | length > 0", "problems | lenght > 0",
        "{rules}/00_engagement_sanity.toml:{line}: rule engagement_sanity, when: condition 'problems | lenght > 0' "
        "does not compile: No filter named 'lenght'. Did you mean 'length'?",
    ),
    "a misspelt filter in a template": Broken(
        "templates/flag_validation_overdue.j2", "steps.validation.duration.amount) | round", "steps.validation.duration.amount) | rond",
        "{rules}/50_validation_length.toml:{type_line}: rule validation_length, actions[0] (flag): template "
        "flag_validation_overdue.j2, line {line}: No filter named 'rond'. Did you mean 'round'?",
        rule_file="50_validation_length.toml",
    ),
    "a misspelt name in a template": Broken(
        "templates/flag_validation_overdue.j2", "steps.validation.share *", "steps.validation.shar *",
        "{rules}/50_validation_length.toml:{type_line}: rule validation_length, actions[0] (flag): fails on the "
        "sample engagement: template flag_validation_overdue.j2: steps.validation has no 'shar' "
        "(did you mean 'share'?); steps.validation has: blocked, blocked_by, canceled, closed, done, done_at, due, "
        "duration, group, id, key, optional, out_of_order, overdue, owner, paused, projected_finish, ready, "
        "settled, share, skipped, start, started, started_at, state, title, warn, why",
        rule_file="50_validation_length.toml",
    ),
    "an unknown state in a template": Broken(
        "templates/flag_support_week_bp_open.j2", 'if tickets.best_practices is none else',
        "if tickets.best_practices.state == 'absent' else",
        "{rules}/70_support_week_ends.toml:{type_line}: rule support_week_ends, actions[1] (flag): template "
        "flag_support_week_bp_open.j2, line {line}, compares a ticket state with 'absent', which is not a ticket "
        "state: use one of " + TICKET_STATES,
        action=1, rule_file="70_support_week_ends.toml",
    ),
    "an unknown state in a title template": Broken(
        "30_prod_upgrade_scheduled.toml", 'title = "Support week - {{ client }}"',
        "title = \"Support week - {{ client }}{{ ' (late)' if change.state == 'sheduled' }}\"",
        "{rules}/30_prod_upgrade_scheduled.toml:{type_line}: rule prod_upgrade_scheduled, actions[3] (create_ticket): "
        "title template \"Support week - {{{{ client }}}}{{{{ ' (late)' if change.state == 'sheduled' }}}}\" "
        "compares a change state with 'sheduled', which is not a change state (did you mean 'scheduled'?): use one "
        "of " + CHANGE_STATES,
        action=3,
    ),
    "a missing template": Broken(
        "50_validation_length.toml", 'template = "flag_validation_overdue.j2"', 'template = "flag_validation_overdu.j2"',
        "{rules}/50_validation_length.toml:{type_line}: rule validation_length, actions[0] (flag): template "
        "'flag_validation_overdu.j2' is not in the templates folder {templates} (did you mean "
        "'flag_validation_overdue.j2'?): fix `template =` on line {line} of the rules file, or add the template "
        "to that folder",
    ),
    "a missing clock flag template": Broken(
        "20_planned_window.toml", 'clock_flag_template = "flag_clock_gap.j2"', 'clock_flag_template = "clock_gap.j2"',
        "{rules}/20_planned_window.toml:{type_line}: rule planned_window_verified, actions[1] (work_note): template "
        "'clock_gap.j2' is not in the templates folder {templates} (did you mean 'flag_clock_gap.j2'?): fix `clock_flag_template =` on line {line} "
        "of the rules file, or add the template to that folder",
        action=1,
    ),
    "a note key on the moment a latch was first seen": Broken(
        "10_roadmap_in_sync.toml", 'key = "cancelled"', 'key = "cancelled|{{ latches.schedule.at }}"',
        "{rules}/10_roadmap_in_sync.toml:{line}: rule roadmap_in_sync, actions[3].key: "
        "'cancelled|{{{{ latches.schedule.at }}}}' reads latches.schedule.at, the moment the worker first saw the "
        "latch hold: it would post again after a lost state folder: key it on the records' data (a field, a date "
        "of a record, the fields still missing), which the worker reads again from the instance",
    ),
}


def action_type_line(path, index: int) -> int:
    seen = -1
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.startswith("[[rule.actions]]"):
            seen += 1
        elif seen == index and line.startswith("type"):
            return number
    raise AssertionError(f"no actions[{index}] in {path}")


def break_copy(tmp_path, broken: Broken) -> tuple:
    rules, templates = h.copy_playbook(tmp_path)
    path = templates / broken.file.removeprefix("templates/") if broken.file.startswith("templates/") else rules / broken.file
    if not broken.old:
        path.unlink()
        return rules, templates, 0
    return rules, templates, h.edit(path, broken.old, broken.new)


@pytest.mark.parametrize("broken", BROKEN.values(), ids=BROKEN.keys())
def test_a_broken_copy_of_the_playbook_is_refused_saying_where_and_what_to_fix(tmp_path, broken):
    rules, templates, line = break_copy(tmp_path, broken)

    with pytest.raises(RulesError) as refused:
        load_playbook(rules, templates, h.settings().schema)

    assert refused.value.exit_code == EXIT_INVALID_CONFIG
    rules_file = rules / (broken.rule_file or broken.file)
    type_line = action_type_line(rules_file, broken.action) if "{type_line}" in broken.message else 0
    assert str(refused.value) == broken.message.format(rules=rules, templates=templates, line=line, type_line=type_line)


# --- a fixture's [expect] that names no rule ------------------------------------------------------

EXPECT_TYPOS = {
    "a misspelt rule in matched": (
        'matched = ["validation_length"]', 'matched = ["validation_lenght"]',
        "{fixture}:{line}: [expect] matched: there is no rule 'validation_lenght' (did you mean "
        "'validation_length'?); the rules are: " + RULE_NAMES,
    ),
    "a rule that does not exist in not_matched": (
        'not_matched = ["engagement_sanity"]', 'not_matched = ["sanity"]',
        "{fixture}:{line}: [expect] not_matched: there is no rule 'sanity' (did you mean 'engagement_sanity'?); "
        "the rules are: " + RULE_NAMES,
    ),
    "a misspelt key": (
        'not_matched = ["engagement_sanity"]', 'not_match = ["engagement_sanity"]',
        "{fixture}:{line}: [expect] not_match: is not a known key (did you mean 'not_matched'?); "
        "use matched or not_matched",
    ),
    "a rule name instead of a list": (
        'matched = ["validation_length"]', 'matched = "validation_length"',
        '{fixture}:{line}: [expect] matched: must be a list of rule names, such as matched = ["engagement_sanity"]',
    ),
}


@pytest.mark.parametrize(("old", "new", "message"), EXPECT_TYPOS.values(), ids=EXPECT_TYPOS.keys())
def test_a_fixture_expecting_a_rule_that_does_not_exist_is_refused_naming_the_rules(tmp_path, old, new, message):
    fixture = tmp_path / "validation_overdue.toml"
    fixture.write_text(h.fixture_path("validation_overdue").read_text(encoding="utf-8"), encoding="utf-8")
    line = h.edit(fixture, old, new)

    with pytest.raises(RulesError) as refused:
        run_fixture(fixture, h.playbook(), h.settings())

    assert refused.value.exit_code == EXIT_INVALID_CONFIG
    assert str(refused.value) == message.format(fixture=fixture, line=line)
