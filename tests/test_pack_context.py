"""What a pack adds to the names its rules read, and what it may not: ``[context]`` names that a
built-in name or a role already has, a check's name the pack does not declare, a state of
another role; and the etiu pack's switch, which a cancelled CTASK does not flip."""

from __future__ import annotations

import shutil

import pytest

import playbook_helpers as h
from etiu_worker.actions.loading import load_pack
from etiu_worker.errors import RulesError
from etiu_worker.playbook.pack_folders import pack_folder


def pack_with(tmp_path, edits: dict[str, str], rule_edits: dict[str, dict[str, str]] | None = None):
    """A copy of the shipped pack with text of its pack.toml (and of rules files) replaced."""
    folder = tmp_path / "etiu"
    shutil.copytree(h.SHIPPED_PACK, folder)
    for old, new in edits.items():
        h.edit(folder / "pack.toml", old, new)
    for name, changes in (rule_edits or {}).items():
        for old, new in changes.items():
            h.edit(folder / "rules" / name, old, new)
    return folder


def refused(folder) -> str:
    with pytest.raises(RulesError) as error:
        load_pack(pack_folder(folder))
    return str(error.value).replace(str(folder), "PACK")


CONTEXT = 'ctask = "planned_dates"\n'
BUILT_IN = ("calendar, changes, client, codes, contacts, dates, engagement, error, found, key, latches, now, numbers, params, "
            "problem, problems, prod_upgrade_local, prod_upgrade_utc, record, records, roadmap, rule, step, steps, sync, target, "
            "ticket, today, window, zone")
BAD_CONTEXT = {
    "a built-in name as an alias": (
        {CONTEXT: CONTEXT + 'now = "change"\n'},
        f"PACK/pack.toml: context.now: 'now' is a name every condition already reads ({BUILT_IN}): give the group or "
        "alias another name"),
    "a check's name as a group": (
        {CONTEXT: CONTEXT + 'window = ["change"]\n'},
        f"PACK/pack.toml: context.window: 'window' is a name every condition already reads ({BUILT_IN}): give the "
        "group or alias another name"),
    "a role's name": (
        {CONTEXT: CONTEXT + 'change = "planned_dates"\n'},
        "PACK/pack.toml: context.change: 'change' is already a role: name the group or alias otherwise"),
    "a role that is not declared": (
        {CONTEXT: 'ctask = "planned_date"\n'},
        "PACK/pack.toml: context.ctask: 'planned_date' is not a declared role (did you mean 'planned_dates'?); the "
        "roles are: kickoff, dev_upgrade, validation, best_practices, support_week, change, planned_dates"),
    "a number instead of roles": (
        {CONTEXT: "ctask = 3\n"},
        "PACK/pack.toml: context.ctask: give a role (\"planned_dates\") or a list of roles ([\"intake\", \"review\"])"),
    "a role named as a built-in name": (
        {"[records.planned_dates]": "[records.records]", CONTEXT: 'ctask = "records"\n'},
        f"PACK/pack.toml: records.records: 'records' is a name every condition already reads ({BUILT_IN}): give the "
        "role another name"),
}


@pytest.mark.parametrize(("edits", "message"), BAD_CONTEXT.values(), ids=BAD_CONTEXT.keys())
def test_a_context_name_that_is_already_taken_is_refused_naming_the_key(tmp_path, edits, message):
    assert refused(pack_with(tmp_path, edits)) == message


def test_a_rule_reading_the_window_of_a_pack_without_the_planned_window_check_is_refused(tmp_path):
    start = "[checks.planned_window]"
    end = 'expected = "prod_upgrade_utc"\n'
    text = (h.SHIPPED_PACK / "pack.toml").read_text(encoding="utf-8")
    declared = text[text.index(start):text.index(end) + len(end)]
    folder = pack_with(tmp_path, {declared: "", 'when = "window.verified and ': 'when = "'})

    message = refused(folder)

    assert message.startswith("PACK/rules/20_planned_window.toml:")
    assert message.endswith("rule planned_window_verified, when: condition 'window.applies' reads 'window', which "
                            "exists only when pack.toml declares [checks.planned_window]: declare it, or read "
                            "something else")


def test_set_state_with_a_state_of_another_role_is_refused(tmp_path):
    folder = pack_with(tmp_path, {}, {"70_support_week_ends.toml": {'state = "closed_complete"': 'state = "canceled"'}})

    message = refused(folder)

    assert message.endswith("rule support_week_ends, actions[0] (set_state): state 'canceled' is not one of pending, "
                            "open, work_in_progress, closed_complete, closed_incomplete, closed_skipped")


def test_a_state_compared_on_a_role_is_checked_against_that_roles_states(tmp_path):
    folder = pack_with(tmp_path, {}, {"60_bp_in_support_week.toml": {
        "tickets.best_practices.state != 'closed_skipped'": "best_practices.state != 'canceled'"}})

    assert "compares a best_practices state with 'canceled', which is not a best_practices state" in refused(folder)


SCHEDULED = "scheduled_closes_etiu03_opens_support_week"
CTASK_CLOSED = 'short_description = "Please provide the planned start date and end date"\nstate = "3"  # Closed'


def test_a_cancelled_planned_dates_ctask_does_not_flip_the_switch():
    assert CTASK_CLOSED in h.fixture_path(SCHEDULED).read_text(encoding="utf-8")
    closed = h.plan(SCHEDULED)
    cancelled = h.plan(h.load_with(SCHEDULED, {CTASK_CLOSED: CTASK_CLOSED.replace('"3"', '"4"')}))

    assert "prod_upgrade_scheduled" in h.matched(closed)
    assert "prod_upgrade_scheduled" not in h.matched(cancelled)
    assert h.writes(cancelled, rule="prod_upgrade_scheduled") == []
    assert not any(memory.get("scheduled_start") for memory in cancelled.memories.values())


def test_the_old_planned_window_hours_still_sets_the_window_with_a_warning(tmp_path, caplog):
    folder = pack_with(tmp_path, {"[playbook]\n": "[playbook]\nplanned_window_hours = 4\n"})

    with caplog.at_level("WARNING"):
        playbook = load_pack(pack_folder(folder))

    assert playbook.checks.planned_window.hours == 4 == playbook.planned_window_hours
    assert any("[playbook] planned_window_hours is deprecated" in record.getMessage()
               and "hours in [checks.planned_window]" in record.getMessage() for record in caplog.records)


def test_a_date_reading_the_roadmap_of_a_pack_without_the_roadmap_check_is_refused(tmp_path):
    text = (h.SHIPPED_PACK / "pack.toml").read_text(encoding="utf-8")
    check = text[text.index("[checks.roadmap_sync]"):text.index("[checks.planned_window]")]  # with its labels
    folder = pack_with(tmp_path, {check: ""})

    assert refused(folder) == ("PACK/pack.toml: dates.kickoff: 'roadmap.kickoff' reads 'roadmap', which exists only "
                               "when pack.toml declares [checks.roadmap_sync]: declare it, or read something else")


GOLIVE = h.ROOT / "tests" / "packs" / "golive"


def test_a_report_phase_reading_the_window_of_a_pack_without_the_planned_window_check_is_refused(tmp_path):
    folder = tmp_path / "golive"
    shutil.copytree(GOLIVE, folder)
    text = (folder / "pack.toml").read_text(encoding="utf-8")
    added = '\n[checks.roadmap_sync]\nroles = ["kickoff"]\n\n[[phases]]\nname = "window"\nwhen = "window.verified"\n'
    (folder / "pack.toml").write_text(text + added, encoding="utf-8")

    assert refused(folder).endswith("phases[4].when: condition 'window.verified' reads 'window', which exists only "
                                    "when pack.toml declares [checks.planned_window]: declare it, or read something "
                                    "else")
