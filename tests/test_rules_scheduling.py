"""Rules prod_upgrade_scheduled and planned_window_verified on realistic engagements.

The prod upgrade counts as scheduled when the change request's planned start is the roadmap's
prod upgrade (client's local time, converted to UTC), the planned end 3 hours later, and the
planned-dates CTASK is closed. Then ETIU03 is closed, ETIU04 goes to Work in Progress and the
Support Week ticket is opened, each with a note; otherwise the window is flagged and nothing is
scheduled.
"""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

import playbook_helpers as h
from etiu_worker.engagement.roadmap import ProdUpgrade, Roadmap
from roadmap_helpers import etiu_roadmap

ACME = "scheduled_closes_etiu03_opens_support_week"
ACME_ROADMAP = etiu_roadmap(
    kickoff=date(2026, 11, 2), dev_upgrade=date(2026, 11, 5),
    prod_upgrade=ProdUpgrade(datetime(2026, 11, 24, 18, 0), "EST"),
    bp=date(2026, 11, 30), support_week=date(2026, 11, 25),
)
SCHEDULING_KINDS = ("set_state", "create_ticket")


# --- prod_upgrade_scheduled -----------------------------------------------------------------


def test_scheduling_closes_etiu03_as_closed_complete_with_a_note_saying_why():
    write = h.one(h.plan(ACME), kind="set_state", target="ETIU03")
    assert write.number == "ETIU0010003"
    assert dict(write.fields) == {"state": "3"}  # Closed Complete
    assert dict(write.before) == {"state": "2"}  # Work in Progress
    note = h.body(write)
    assert "CHG0031001" in note and "CTASK0041001" in note
    assert "2026-11-24 18:00 EST" in note and "2026-11-24 23:00 UTC" in note
    assert "Closed Complete" in note
    assert write.note_field == "work_notes"


def test_scheduling_puts_etiu04_in_work_in_progress_with_a_note():
    write = h.one(h.plan(ACME), kind="set_state", target="ETIU04")
    assert (dict(write.before), dict(write.fields)) == ({"state": "-5"}, {"state": "2"})
    assert "Work in Progress" in write.note
    assert "BP session on the roadmap: 2026-11-30" in write.note


def test_scheduling_creates_the_missing_support_week_ticket_open_with_the_roadmap():
    write = h.one(h.plan(ACME), kind="create_ticket")
    assert write.target == "SUPPORT_WEEK" and write.is_create
    fields = dict(write.fields)
    assert fields["correlation_id"] == "ENG-ACME"
    assert fields["u_etiu_code"] == "SUPPORT_WEEK"
    assert fields["state"] == "1"  # Open
    text = fields["short_description"]
    assert text.startswith("Support week - Acme Corp | ")
    assert len(text) <= h.SHORT_DESCRIPTION_MAX
    assert h.roadmap_of(text) == ACME_ROADMAP
    # The support week: 5 business days after Tuesday 11-24, Thanksgiving and the day after off.
    assert "Support week: 2026-11-25 to 2026-12-03" in write.note


def test_scheduling_posts_one_timezone_check_on_the_change_request():
    write = h.one(h.plan(ACME), kind="work_note")
    assert (write.target, write.number) == ("change request", "CHG0031001")
    assert write.rule == "planned_window_verified"
    note = h.body(write)
    assert note.startswith("Timezone check for CHG0031001")
    assert "2026-11-24 23:00 UTC = 2026-11-24 18:00 EST in America/New_York (Tuesday)" in note
    assert "2026-11-25 02:00 UTC = 2026-11-24 21:00 EST" in note


def test_scheduling_raises_no_flag_and_sends_the_client_no_reminder():
    cycle = h.plan(ACME)
    assert h.writes(cycle, kind="flag") == []
    assert h.writes(cycle, kind="comment") == []


def test_scheduling_remembers_the_verified_start_to_notice_a_later_move():
    cycle = h.plan(ACME)
    assert cycle.memories["ENG-ACME"]["scheduled_start"] == "2026-11-24 23:00:00"


def test_scheduling_creates_a_missing_etiu04_in_work_in_progress_and_opens_a_pending_support_week():
    cycle = h.plan("scheduled_creates_missing_bp_ticket")
    created = h.one(cycle, kind="create_ticket")
    assert created.target == "ETIU04"
    assert created.fields["state"] == "2"
    assert created.fields["u_etiu_code"] == "ETIU04"
    assert h.roadmap_of(created.fields["short_description"]).prod_upgrade == ProdUpgrade(datetime(2026, 12, 8, 19, 0))
    opened = h.one(cycle, kind="set_state", target="SUPPORT_WEEK")
    assert (dict(opened.before), dict(opened.fields)) == ({"state": "-5"}, {"state": "1"})
    assert "Support Week ticket opened for 2026-12-09 to 2026-12-15" in opened.note
    assert "Let the client know" in opened.note
    # No ETIU04 record existed to move: the create sets its state, no second write.
    assert h.writes(cycle, kind="set_state", target="ETIU04") == []


def test_scheduling_closes_etiu03_from_pending_and_leaves_a_skipped_etiu04_closed():
    cycle = h.plan("scheduled_with_unexpected_ticket_states")
    closed = h.one(cycle, kind="set_state", target="ETIU03")
    assert (dict(closed.before), dict(closed.fields)) == ({"state": "-5"}, {"state": "3"})
    assert "ETIU04 is already closed" in closed.note
    assert h.writes(cycle, target="ETIU04") == []
    assert h.one(cycle, kind="create_ticket").target == "SUPPORT_WEEK"


@pytest.mark.parametrize("name", [
    "window_local_time_typed_as_utc", "window_did_not_save", "window_end_not_three_hours",
    "window_dst_weekend", "window_verified_before_ctask_closed",
])
def test_upgrade_is_not_treated_as_scheduled_unless_window_verified_and_ctask_closed(name):
    cycle = h.plan(name)
    assert "prod_upgrade_scheduled" not in h.matched(cycle)
    assert [w for w in cycle.writes if w.kind in SCHEDULING_KINDS] == []
    assert all("scheduled_start" not in memory for memory in cycle.memories.values())


def test_a_cancelled_change_request_is_never_scheduled():
    data = h.load_with(ACME, {'state = "-2"  # Scheduled': 'state = "4"  # Canceled'})
    cycle = h.plan(data)
    assert "prod_upgrade_scheduled" not in h.matched(cycle)
    assert [w for w in cycle.writes if w.kind in SCHEDULING_KINDS] == []


def test_a_later_planned_dates_ctask_reopens_the_switch():
    # A second planned-dates CTASK, newer and still open, is the one that counts.
    data = h.load(ACME)
    data["change_tasks"].append({
        "sys_id": "7d2e3f1b0c9e4f8ab7c6d5e4f3a2b099", "number": "CTASK0041099",
        "change_request": "4c1e2f0a9b8d4e7fa6b5c4d3e2f1a001",
        "short_description": "Please provide the planned start date and end date (again)",
        "state": "1", "sys_updated_on": "2026-11-20 15:30:00",
    })
    assert "prod_upgrade_scheduled" not in h.matched(h.plan(data))


# --- planned_window_verified ----------------------------------------------------------------


def test_local_time_typed_as_utc_is_flagged_on_the_change_request_and_etiu03_with_a_hint():
    cycle = h.plan("window_local_time_typed_as_utc")
    flags = h.writes(cycle, kind="flag", rule="planned_window_verified")
    assert sorted(w.target for w in flags) == ["ETIU03", "change request"]
    for write in flags:
        note = h.body(write)
        assert note.startswith(h.FLAG + " The planned start of CHG0031003 is 2026-11-24 18:00 UTC")
        assert "which is 2026-11-24 23:00 UTC" in note
        assert "Time zone hint: the local time was probably typed as UTC" in note
        assert "not treated as scheduled" in note


def test_utc_typed_as_local_time_gets_the_other_hint():
    # 23:00 UTC typed into a field the instance reads as New York time: saved as 04:00 UTC.
    data = h.load_with("window_local_time_typed_as_utc", {
        'start_date = "2026-11-24 18:00:00"': 'start_date = "2026-11-25 04:00:00"',
        'end_date = "2026-11-24 21:00:00"': 'end_date = "2026-11-25 07:00:00"',
    })
    flag = h.one(h.plan(data), kind="flag", target="change request")
    assert "Time zone hint: the UTC time was probably typed as the local time" in flag.note


def test_planned_start_off_by_something_else_than_the_offset_gets_no_hint():
    data = h.load_with("window_local_time_typed_as_utc", {
        'start_date = "2026-11-24 18:00:00"': 'start_date = "2026-11-24 22:30:00"',
        'end_date = "2026-11-24 21:00:00"': 'end_date = "2026-11-25 01:30:00"',
    })
    flag = h.one(h.plan(data), kind="flag", target="change request")
    assert "2026-11-24 22:30 UTC" in flag.note
    assert "Time zone hint" not in flag.note


def test_planned_dates_that_did_not_save_are_flagged_with_the_expected_start():
    cycle = h.plan("window_did_not_save")
    flags = h.writes(cycle, kind="flag")
    assert sorted(w.target for w in flags) == ["ETIU03", "change request"]
    note = h.body(flags[0])
    assert "planned start of CHG0031004 is empty" in note and "did not save" in note
    assert "Expected 2026-11-24 17:30 PST (2026-11-25 01:30 UTC)" in note


def test_a_missing_planned_end_is_flagged():
    data = h.load_with("window_verified_before_ctask_closed", {'end_date = "2026-12-02 03:00:00"': 'end_date = ""'})
    flag = h.one(h.plan(data), kind="flag", target="change request")
    assert "planned end of CHG0031006 is empty" in flag.note
    assert "Expected 2026-12-01 21:00 CST (2026-12-02 03:00 UTC)" in flag.note
    assert h.writes(h.plan(data), kind="work_note") == []


def test_a_planned_end_not_three_hours_after_the_start_is_flagged_with_the_expected_end():
    flag = h.one(h.plan("window_end_not_three_hours"), kind="flag", target="change request")
    note = h.body(flag)
    assert "The planned end of CHG0031005 is 2026-11-24 11:00 UTC" in note
    assert "must be 3 hours after the planned start: 2026-11-24 12:00 UTC" in note


def test_a_closed_ctask_without_a_prod_upgrade_on_the_roadmap_is_flagged():
    data = h.load_with("window_did_not_save", {"Prod upgrade: 2026-11-24 17:30 PST": "Prod upgrade: TBD"})
    flag = h.one(h.plan(data), kind="flag", target="change request")
    assert "the roadmap has no Prod upgrade date" in flag.note


def test_the_window_is_not_checked_before_the_ctask_is_closed_or_a_start_is_set():
    data = h.load_with("window_verified_before_ctask_closed", {
        'start_date = "2026-12-02 00:00:00"': 'start_date = ""',
        'end_date = "2026-12-02 03:00:00"': 'end_date = ""',
    })
    cycle = h.plan(data)
    assert "planned_window_verified" not in h.matched(cycle)
    assert h.writes(cycle, rule="planned_window_verified") == []


def test_a_verified_window_gets_a_timezone_check_even_before_the_ctask_is_closed():
    cycle = h.plan("window_verified_before_ctask_closed")
    check = h.one(cycle, kind="work_note")
    assert "2026-12-02 00:00 UTC = 2026-12-01 18:00 CST in America/Chicago (Tuesday)" in check.note
    assert h.writes(cycle, kind="flag") == []


def test_a_new_window_gets_a_new_timezone_check_but_the_same_window_only_one():
    first = h.plan("window_verified_before_ctask_closed")
    again = h.plan("window_verified_before_ctask_closed", already_posted=h.posted([first]))
    assert h.writes(again, kind="work_note") == []
    moved = h.load_with("window_verified_before_ctask_closed", {
        "2026-12-01 18:00 CST": "2026-12-01 19:00 CST",
        'start_date = "2026-12-02 00:00:00"': 'start_date = "2026-12-02 01:00:00"',
        'end_date = "2026-12-02 03:00:00"': 'end_date = "2026-12-02 04:00:00"',
    })
    assert len(h.writes(h.plan(moved, already_posted=h.posted([first])), kind="work_note")) == 1


def test_a_window_flag_is_posted_once_per_distinct_problem_not_once_per_cycle():
    first = h.plan("window_local_time_typed_as_utc")
    again = h.plan("window_local_time_typed_as_utc", already_posted=h.posted([first]))
    assert h.writes(again, kind="flag") == []
    # Still a problem: the flag stays raised (not resolved) although nothing is posted.
    assert ("planned_window_verified", next(w.flag_key for w in h.writes(first, target="change request"))) \
        in again.raised_flags["ENG-WAYNE"]
    other = h.load_with("window_local_time_typed_as_utc", {'start_date = "2026-11-24 18:00:00"': 'start_date = "2026-11-24 19:00:00"'})
    assert len(h.writes(h.plan(other, already_posted=h.posted([first])), kind="flag")) == 2


# --- daylight saving ------------------------------------------------------------------------


def test_start_converted_with_last_weeks_offset_across_the_dst_weekend_is_flagged_without_hint():
    cycle = h.plan("window_dst_weekend")
    flag = h.one(cycle, kind="flag", target="change request")
    note = h.body(flag)
    assert "is 2026-11-02 22:00 UTC" in note
    assert "2026-11-02 18:00 America/New_York, which is 2026-11-02 23:00 UTC" in note
    assert "Time zone hint" not in note


def test_start_converted_with_the_offset_of_the_upgrade_day_is_verified_across_the_dst_weekend():
    data = h.load_with("window_dst_weekend", {
        'start_date = "2026-11-02 22:00:00"': 'start_date = "2026-11-02 23:00:00"',
        'end_date = "2026-11-03 01:00:00"': 'end_date = "2026-11-03 02:00:00"',
    })
    cycle = h.plan(data)
    check = h.one(cycle, kind="work_note")
    assert "2026-11-02 23:00 UTC = 2026-11-02 18:00 EST in America/New_York (Monday)" in check.note
    assert h.writes(cycle, kind="flag") == []
    assert "prod_upgrade_scheduled" in h.matched(cycle)


def test_the_hint_uses_the_offset_of_the_upgrade_day_not_of_today():
    # Typed as UTC: 18:00 UTC is 5 hours (EST), not 4 (EDT, today's offset), off.
    data = h.load_with("window_dst_weekend", {
        'start_date = "2026-11-02 22:00:00"': 'start_date = "2026-11-02 18:00:00"',
        'end_date = "2026-11-03 01:00:00"': 'end_date = "2026-11-02 21:00:00"',
    })
    flag = h.one(h.plan(data), kind="flag", target="change request")
    assert "Time zone hint: the local time was probably typed as UTC" in flag.note


@pytest.mark.parametrize("written, start, end", [
    ("2026-11-01 01:30", "2026-11-01 05:30:00", "2026-11-01 08:30:00"),  # first 01:30: EDT
    ("2026-11-01 01:30 EDT", "2026-11-01 05:30:00", "2026-11-01 08:30:00"),
    ("2026-11-01 01:30 EST", "2026-11-01 06:30:00", "2026-11-01 09:30:00"),  # the repeated hour
])
def test_an_upgrade_in_the_repeated_hour_is_its_first_occurrence_unless_the_label_says_otherwise(written, start, end):
    data = h.load_with("window_dst_weekend", {
        "Prod upgrade: 2026-11-02 18:00": f"Prod upgrade: {written}",
        'start_date = "2026-11-02 22:00:00"': f'start_date = "{start}"',
        'end_date = "2026-11-03 01:00:00"': f'end_date = "{end}"',
    })
    cycle = h.plan(data, at=datetime(2026, 10, 29, 15, 0, tzinfo=timezone.utc))
    assert h.writes(cycle, kind="flag") == [], h.describe(cycle)
    assert len(h.writes(cycle, kind="work_note")) == 1


def test_a_state_folder_that_remembered_the_schedule_before_latches_keeps_it():
    data = h.load("scheduled_upgrade_moved")
    assert set(data["memory"]["ENG-CYBERDYNE"]) == {"roadmap", "scheduled_start"}  # as the worker wrote it then

    cycle = h.plan(data)

    assert any("SCHEDULED UPGRADE MOVED" in w.note and "2026-11-24 18:00 EST" in w.note for w in cycle.writes)
    assert cycle.memories["ENG-CYBERDYNE"]["scheduled_start"] == "2026-11-24 23:00:00"
    assert "latches" not in cycle.memories["ENG-CYBERDYNE"]
