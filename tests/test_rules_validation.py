"""Rules validation_reminder and validation_length: client process validation.

Once during validation (ETIU03 in Work in Progress, a prod upgrade on the roadmap) the client gets
a customer-visible reminder of the prod upgrade in their own zone and the 2 to 4 hour business
impact. Validation longer than 2 business days, counted on the client's wall clock without
weekends and holidays, is flagged.
"""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

import playbook_helpers as h


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


# --- validation_reminder --------------------------------------------------------------------


def test_the_reminder_is_a_customer_visible_comment_on_etiu03():
    write = h.one(h.plan("validation_reminder"), kind="comment")
    assert (write.target, write.number) == ("ETIU03", "ETIU0140003")
    assert write.note_field == "comments"
    assert write.rule == "validation_reminder"


def test_the_reminder_gives_the_prod_upgrade_in_the_clients_zone_and_the_business_impact():
    note = h.body(h.one(h.plan("validation_reminder"), kind="comment"))
    assert "2026-12-01 20:00 AEDT (Tuesday, Australia/Sydney)" in note
    assert "business impact of 2 to 4 hours" in note
    assert "UTC" not in note  # the client reads their own time, not the instance's
    assert "[ETIU" not in note


def test_the_reminder_is_sent_once_per_engagement():
    first = h.plan("validation_reminder")
    later = h.plan("validation_reminder", at=utc(2026, 11, 25, 23, 0), already_posted=h.posted([first]))
    assert h.writes(later, kind="comment") == []


def test_there_is_no_reminder_without_a_prod_upgrade_on_the_roadmap():
    data = h.load_with("validation_reminder", {"Prod upgrade: 2026-12-01 20:00 AEDT": "Prod upgrade: TBD"})
    cycle = h.plan(data)
    assert "validation_reminder" not in h.matched(cycle)
    assert h.writes(cycle, kind="comment") == []


def test_there_is_no_reminder_before_validation_starts():
    data = h.load_with("validation_reminder", {'state = "2"  # Work in Progress': 'state = "-5"  # Pending'})
    assert h.writes(h.plan(data), kind="comment") == []


def test_there_is_no_reminder_once_the_upgrade_is_scheduled():
    cycle = h.plan("scheduled_closes_etiu03_opens_support_week")
    assert "validation_reminder" not in h.matched(cycle)
    assert h.writes(cycle, kind="comment") == []


# --- validation_length ----------------------------------------------------------------------


def test_validation_longer_than_two_business_days_is_flagged_on_etiu03():
    flag = h.one(h.plan("validation_overdue"), kind="flag")
    assert (flag.target, flag.number) == ("ETIU03", "ETIU0150003")
    note = h.body(flag)
    assert note.startswith(h.FLAG + " Client process validation has run 3.1 business days since 2026-11-16 09:00 PST")
    assert "more than the 2 the playbook allows" in note


def test_exactly_two_business_days_is_not_flagged_yet():
    cycle = h.plan("validation_overdue", at=utc(2026, 11, 18, 17, 0))  # Wednesday 09:00 PST: 2.0
    assert h.writes(cycle, kind="flag") == []


def test_two_business_days_and_some_minutes_is_flagged():
    cycle = h.plan("validation_overdue", at=utc(2026, 11, 18, 17, 15))  # Wednesday 09:15 PST
    assert "has run 2.1 business days" in h.one(cycle, kind="flag").note


def test_the_overdue_flag_is_posted_once_for_one_validation():
    first = h.plan("validation_overdue")
    later = h.plan("validation_overdue", at=utc(2026, 11, 20, 17, 30), already_posted=h.posted([first]))
    assert h.writes(later, kind="flag") == []


@pytest.mark.parametrize("at, flagged", [
    (utc(2026, 11, 3, 19, 0), False),  # Tuesday 14:00 EST: exactly 2 business days since Friday 14:00 EDT
    (utc(2026, 11, 3, 19, 5), True),  # Tuesday 14:05 EST: more than 2
])
def test_validation_across_the_dst_weekend_counts_business_days_on_the_clients_wall_clock(at, flagged):
    cycle = h.plan("validation_dst_weekend", at=at)
    assert bool(h.writes(cycle, kind="flag")) is flagged
    if flagged:
        assert "since 2026-10-30 14:00 EDT" in h.one(cycle, kind="flag").note


@pytest.mark.parametrize("at, flagged", [
    (utc(2026, 12, 1, 14, 0), False),  # Tuesday 09:00 EST: six calendar days, under 2 business days
    (utc(2026, 12, 1, 15, 0), False),  # Tuesday 10:00 EST: exactly 2
    (utc(2026, 12, 1, 15, 5), True),  # Tuesday 10:05 EST: more than 2
])
def test_holidays_in_the_playbook_calendar_are_not_business_days(at, flagged):
    assert bool(h.writes(h.plan("validation_thanksgiving_not_counted", at=at), kind="flag")) is flagged


def test_validation_that_started_on_a_weekend_counts_from_monday():
    # Saturday 2026-11-14 10:00 PST: Monday and Tuesday make 2 business days by Wednesday 00:00.
    data = h.load_with("validation_overdue", {'work_start = "2026-11-16 17:00:00"  # Monday 09:00 PST':
                                              'work_start = "2026-11-14 18:00:00"'})
    assert h.writes(h.plan(data, at=utc(2026, 11, 18, 8, 0)), kind="flag") == []
    assert len(h.writes(h.plan(data, at=utc(2026, 11, 18, 8, 10)), kind="flag")) == 1


def test_validation_without_an_actual_start_is_not_measured():
    data = h.load_with("validation_overdue", {'work_start = "2026-11-16 17:00:00"  # Monday 09:00 PST': 'work_start = ""'})
    cycle = h.plan(data)
    assert "validation_length" not in h.matched(cycle)
    assert h.writes(cycle, kind="flag") == []


def test_long_validation_is_not_flagged_once_the_upgrade_is_scheduled():
    # Acme's validation ran 4 business days, but the cycle that schedules it ends it.
    cycle = h.plan("scheduled_closes_etiu03_opens_support_week")
    assert "validation_length" not in h.matched(cycle)
    assert h.writes(cycle, kind="flag") == []
