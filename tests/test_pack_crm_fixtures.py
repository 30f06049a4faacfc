"""The aurea-crm-cloud pack's fixtures through the real planner (as `etiu-worker rules test` runs
them), with what its notes say: the times on the client's wall clock across the end of daylight
saving, a due date pushed out by Thanksgiving, the agreed Prod start against what was typed, the
missing intake fields, and each write on the record the seed names."""

from __future__ import annotations

import functools

import pytest

from etiu_worker.actions.loading import load_pack
from etiu_worker.config import Settings
from etiu_worker.cycle.rule_tester import run_fixture
from etiu_worker.playbook.pack_folders import pack_folder
from integration_helpers import REPO

PACK = REPO / "packs" / "aurea-crm-cloud"


@functools.cache
def playbook():
    return load_pack(pack_folder(PACK))


def writes(name: str) -> list[tuple[str, str, str, str]]:
    """(rule, kind, record, note) of each write the fixture's engagement gets."""
    result = run_fixture(PACK / "fixtures" / f"{name}.toml", playbook(), Settings())
    assert result.passed, result.render()
    return [(write.rule, write.kind, write.number, write.note) for write in result.writes]


def notes(name: str, rule: str) -> list[str]:
    return [note for rule_name, _, _, note in writes(name) if rule_name == rule]


def test_every_fixture_of_the_pack_passes_and_there_are_at_least_eight():
    fixtures = sorted((PACK / "fixtures").glob("*.toml"))

    assert len(fixtures) >= 8
    failed = [path.name for path in fixtures if not run_fixture(path, playbook(), Settings()).passed]
    assert failed == []


def test_the_dev_phase_ends_on_the_clients_wall_clock_after_the_clocks_went_back():
    (warning,) = notes("dev_phase_warned_across_the_end_of_daylight_saving", "phase_limits")

    assert warning.startswith("[PLATINUM WARNING] Development phase: 99% of its 12 business days used.")
    assert "It began 2026-10-30 09:00 CDT and is due to end 2026-11-17 09:00 CST." in warning


def test_one_minute_after_the_dev_phase_ended_it_is_flagged_on_the_dev_change_and_no_longer_warned():
    found = writes("dev_phase_over_after_its_twelve_business_days")

    assert [(rule, kind, record) for rule, kind, record, _ in found if rule.startswith("phase")] == [
        ("phase_over", "flag", "CHG009001")]


def test_the_analysis_is_due_after_thanksgiving_so_it_is_not_flagged_the_monday_after():
    assert [rule for rule, *_ in writes("analyse_over_thanksgiving_not_overdue") if rule == "step_overdue"] == []


@pytest.mark.parametrize(("fixture", "expected"), [
    ("respond_due_at_exactly_its_time_is_not_overdue", [("respond_warning", "CSTASK0009001")]),
    ("respond_overdue_one_minute_after", [("step_overdue", "CSTASK0009001")]),
])
def test_the_response_is_warned_at_its_due_minute_and_flagged_one_minute_later(fixture, expected):
    assert [(rule, record) for rule, _, record, _ in writes(fixture) if rule in ("respond_warning", "step_overdue")] == expected


def test_an_overdue_step_without_a_task_is_flagged_on_the_case_with_its_owner():
    (flag,) = notes("acknowledgement_overdue_without_a_task", "step_overdue")

    assert flag.startswith("[PLATINUM FLAG] Acknowledge the request formally (owner: project manager) has no case task")


def test_the_prod_window_typed_as_utc_names_the_agreed_local_start_and_the_hint():
    (flag,) = notes("prod_window_typed_as_utc_is_flagged", "prod_window")

    assert "is 2026-11-30 14:00 CST, but the Prod upgrade was agreed for 2026-11-30 20:00 CST (2026-12-01 02:00 UTC)" in flag
    assert "Time zone hint: the local time was probably typed as UTC. Fix the planned window" in flag


def test_the_intake_comment_lists_only_the_missing_fields_and_the_flag_follows_a_business_day_later():
    found = writes("intake_incomplete_flagged_one_business_day_later")
    comment = next(note for rule, kind, _, note in found if kind == "comment")

    assert "we still need: the reason for the deadline; the list of customizations. Please add them" in comment
    assert [(rule, kind, record) for rule, kind, record, _ in found if rule.startswith("intake")] == [
        ("intake_missing", "comment", "CS0009001"), ("intake_overdue", "flag", "CS0009001")]


@pytest.mark.parametrize(("fixture", "rule", "record"), [
    ("uat_upgrade_started_before_the_sign_off", "uat_before_signoff", "CHG009002"),
    ("prod_scheduled_before_uats_sanity_test_closed", "prod_gate", "CHG009003"),
    ("uat_sanity_closed_before_the_fixes_were_transferred", "sanity_before_transfer", "CHG009002"),
    ("dev_fix_closed_after_the_uat_transfer", "fix_after_transfer", "CHG009001"),
    ("upgrade_started_before_every_backup", "backups_first", "CS0009001"),
    ("signoff_reminder_every_three_business_days", "signoff_gate", "CS0009001"),
    ("uat_phase_over_while_dev_change_in_review", "phase_over", "CHG009002"),
    ("dev_fix_logged_after_the_uat_transfer", "fix_after_transfer", "CTASK9002"),
])
def test_each_gate_and_order_rule_writes_once_on_the_record_the_seed_names(fixture, rule, record):
    assert [found for found_rule, _, found, _ in writes(fixture) if found_rule == rule].count(record) == 1


def test_only_the_dev_fix_logged_after_the_uat_transfer_is_flagged():
    found = [(record, note) for rule, _, record, note in writes("dev_fix_logged_after_the_uat_transfer") if rule == "fix_after_transfer"]

    assert [record for record, _ in found] == ["CTASK9002"]
    assert "This Dev fix (Billing web service timeout) was logged 2026-11-19 09:00 CST, after the fixes were transferred" in found[0][1]


def test_a_prod_slot_moved_since_it_was_scheduled_is_flagged_with_both_starts():
    (flag,) = notes("prod_slot_moved_after_it_was_scheduled", "prod_moved")

    assert "it was scheduled for 2026-11-30 20:00 CST and now starts 2026-12-01 20:00 CST" in flag
