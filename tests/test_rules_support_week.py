"""Rules bp_in_support_week and support_week_ends.

The support week is the 5 business days after the prod upgrade's local day (holidays pushed
out). Once the upgrade is scheduled, the BP session must fall in it; up to the 6th business day is
a warning; later, or no BP date, is flagged. After the last business day, the Support Week ticket
is closed if ETIU04 is closed, else flagged.
"""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

import playbook_helpers as h


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


def bp_flags(cycle):
    return h.writes(cycle, kind="flag", rule="bp_in_support_week")


# --- bp_in_support_week ---------------------------------------------------------------------


def test_a_bp_session_inside_a_support_week_stretched_by_thanksgiving_raises_nothing():
    cycle = h.plan("bp_inside_support_week_thanks_to_holiday")
    assert "bp_in_support_week" in h.matched(cycle)
    assert bp_flags(cycle) == []


def test_a_bp_session_on_the_sixth_business_day_is_a_warning_on_etiu04_and_the_change_request():
    flags = bp_flags(h.plan("bp_in_grace_days"))
    assert sorted(w.target for w in flags) == ["ETIU04", "change request"]
    note = h.body(flags[0])
    assert note.startswith(h.WARNING + " The best practices session (2026-12-04) falls after the support week")
    assert "(2026-11-25 to 2026-12-03)" in note
    assert h.FLAG not in note


def test_a_bp_session_past_the_grace_days_is_flagged():
    flags = bp_flags(h.plan("bp_outside_support_week"))
    assert sorted(w.target for w in flags) == ["ETIU04", "change request"]
    note = h.body(flags[0])
    assert note.startswith(h.FLAG + " The best practices session (2026-12-07) is outside the support week")
    assert "(2026-11-25 to 2026-12-03)" in note
    assert "check with Damien" in note


def test_no_bp_date_once_the_upgrade_is_scheduled_is_flagged():
    flags = bp_flags(h.plan("bp_missing_after_scheduling"))
    assert sorted(w.target for w in flags) == ["ETIU04", "change request"]
    note = h.body(flags[0])
    assert note.startswith(h.FLAG + " The prod upgrade is scheduled but the roadmap has no BP date")
    assert "within the support week (2026-11-25 to 2026-12-03)" in note


@pytest.mark.parametrize("bp, marker", [
    ("2026-11-25", None),  # the first day
    ("2026-11-30", None),  # Thanksgiving and the day after skipped
    ("2026-12-03", None),  # the fifth business day
    ("2026-12-04", h.WARNING),  # the sixth
    ("2026-12-07", h.FLAG),  # the seventh
    ("2026-11-24", h.FLAG),  # the upgrade day itself is not in the support week
    ("2026-11-26", h.FLAG),  # Thanksgiving is not a business day of the support week
])
def test_the_bp_date_is_placed_against_the_support_week_in_business_days(bp, marker):
    data = h.load_with("bp_outside_support_week", {"BP: 2026-12-07": f"BP: {bp}"})
    flags = bp_flags(h.plan(data))
    assert {w.note.split("]")[0] + "]" for w in flags} == ({marker} if marker else set())


def test_the_bp_date_is_not_checked_before_the_upgrade_is_scheduled():
    data = h.load_with("bp_outside_support_week", {
        'state = "3"  # Closed Complete: the upgrade is scheduled': 'state = "2"  # Work in Progress',
        'state = "3"  # Closed\n': 'state = "1"  # Open\n',
    })
    del data["memory"]["ENG-GRINGOTTS"]["scheduled_start"]
    cycle = h.plan(data)
    assert "bp_in_support_week" not in h.matched(cycle)
    assert bp_flags(cycle) == []


def test_a_bp_warning_is_posted_once_and_a_new_bp_date_is_looked_at_again():
    first = h.plan("bp_in_grace_days")
    assert bp_flags(h.plan("bp_in_grace_days", already_posted=h.posted([first]))) == []
    later = h.load_with("bp_in_grace_days", {"BP: 2026-12-04": "BP: 2026-12-07"})
    assert len(bp_flags(h.plan(later, already_posted=h.posted([first])))) == 2


# --- support_week_ends ----------------------------------------------------------------------


def test_after_the_support_week_the_support_week_ticket_is_closed_when_etiu04_is_closed():
    cycle = h.plan("support_week_over_closes_ticket")
    write = h.one(cycle, kind="set_state", rule="support_week_ends")
    assert (write.target, write.number) == ("SUPPORT_WEEK", "ETIU019105")
    assert (dict(write.before), dict(write.fields)) == ({"state": "1"}, {"state": "3"})
    note = h.body(write)
    assert "The support week ended on 2026-12-03" in note
    assert "ETIU019104 is closed" in note
    assert h.writes(cycle, kind="flag") == []


def test_after_the_support_week_an_open_etiu04_is_flagged_and_the_support_week_stays_open():
    cycle = h.plan("support_week_over_bp_still_open")
    assert h.writes(cycle, kind="set_state") == []
    flags = h.writes(cycle, kind="flag", rule="support_week_ends")
    assert sorted(w.target for w in flags) == ["ETIU04", "SUPPORT_WEEK"]
    note = h.body(flags[0])
    assert note.startswith(h.FLAG + " The support week ended on 2026-12-03, but the best practices ticket is still open")
    assert "close ETIU04" in note


def test_a_skipped_bp_session_lets_the_support_week_close():
    data = h.load_with("support_week_over_bp_still_open", {
        'state = "2"  # Work in Progress: the BP session never happened': 'state = "7"  # Closed Skipped'})
    cycle = h.plan(data)
    assert h.one(cycle, kind="set_state", rule="support_week_ends").fields == {"state": "3"}


@pytest.mark.parametrize("at, ended", [
    (utc(2026, 12, 4, 4, 59), False),  # Thursday 23:59 EST: still the last day for the client
    (utc(2026, 12, 4, 5, 0), True),  # Friday 00:00 EST
])
def test_the_support_week_ends_at_midnight_after_its_last_day_in_the_clients_zone(at, ended):
    cycle = h.plan("support_week_over_closes_ticket", at=at)
    assert bool(h.writes(cycle, rule="support_week_ends")) is ended


def test_a_closed_support_week_ticket_is_left_alone():
    data = h.load_with("support_week_over_closes_ticket", {'state = "1"  # Open': 'state = "3"  # Closed Complete'})
    cycle = h.plan(data)
    assert "support_week_ends" not in h.matched(cycle)
    assert h.writes(cycle, rule="support_week_ends") == []
    # Nor does scheduling reopen it or create another one after the week.
    assert h.writes(cycle, kind="create_ticket") == []
