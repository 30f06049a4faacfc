"""Rule engagement_sanity: records the playbook cannot trust.

Duplicate codes, unknown states, an unreadable roadmap or date-time, an unknown client time zone,
a prod upgrade that does not exist in the client's zone: each is flagged once on the record it
concerns, nothing else of that engagement is touched, and the other engagements carry on.
"""

from __future__ import annotations


import playbook_helpers as h

OTHER_RULES = {
    "roadmap_in_sync", "planned_window_verified", "prod_upgrade_scheduled", "validation_reminder",
    "validation_length", "bp_in_support_week", "support_week_ends",
}


def results_of(cycle, engagement):
    return {r.rule: r for r in cycle.results if r.engagement == engagement}


def assert_left_alone(cycle, engagement):
    """Only sanity flags were planned for the engagement; every other rule was skipped."""
    assert {w.rule for w in h.writes(cycle, engagement=engagement)} == {"engagement_sanity"}
    assert all(w.kind == "flag" for w in h.writes(cycle, engagement=engagement))
    results = results_of(cycle, engagement)
    assert all(results[name].skipped for name in OTHER_RULES)
    assert cycle.skipped == {}


def sanity_flags(cycle, engagement=None):
    return h.writes(cycle, kind="flag", rule="engagement_sanity", engagement=engagement)


def test_duplicate_codes_are_flagged_once_on_one_of_the_duplicates():
    cycle = h.plan("sanity_duplicate_codes")
    flag = h.one(cycle, kind="flag", engagement="ENG-DUNDER")
    assert (flag.target, flag.number) == ("ETIU02", "ETIU0200002")
    note = h.body(flag)
    assert note.startswith(h.FLAG + " Engagement ENG-DUNDER needs a person")
    assert "2 tickets carry the code ETIU02: ETIU0200002, ETIU0200009" in note
    assert "leaves the rest of this engagement alone" in note


def test_an_engagement_with_duplicate_codes_is_left_alone_while_the_others_carry_on():
    cycle = h.plan("sanity_duplicate_codes")
    assert_left_alone(cycle, "ENG-DUNDER")  # ETIU04's new BP date is not carried
    carried = h.one(cycle, kind="update_roadmap", engagement="ENG-ACME")
    assert carried.number == "ETIU0210003"
    assert "BP: 2026-11-30 → 2026-12-01 (changed on ETIU0210004)" in carried.note


def test_a_broken_engagement_does_not_update_its_remembered_roadmap():
    data = h.load("sanity_duplicate_codes")
    cycle = h.plan(data)
    assert cycle.memories["ENG-DUNDER"] == data["memory"]["ENG-DUNDER"]


def test_unknown_states_are_flagged_each_on_its_own_record():
    cycle = h.plan("sanity_unknown_states")
    flags = {w.number: h.body(w) for w in sanity_flags(cycle)}
    assert sorted(flags) == ["CHG0031022", "ETIU0220003"]
    assert "ETIU0220003 is in state '6', which the playbook does not know" in flags["ETIU0220003"]
    assert "CHG0031022 is in state '21', which the playbook does not know" in flags["CHG0031022"]
    assert_left_alone(cycle, "ENG-WAYSTAR")


def test_an_unreadable_roadmap_and_an_unreadable_date_time_are_flagged_each_on_its_own_record():
    cycle = h.plan("sanity_unparseable_dates")
    flags = {w.number: h.body(w) for w in sanity_flags(cycle)}
    assert sorted(flags) == ["CHG0031023", "ETIU0230003"]
    assert "the roadmap in ETIU0230003's short description cannot be read" in flags["ETIU0230003"]
    assert "'next Tue 6pm'" in flags["ETIU0230003"]
    assert "Prod upgrade: YYYY-MM-DD HH:MM" in flags["ETIU0230003"]
    assert "CHG0031023 has start_date = '11/24/2026 18:00', not a date-time like 2026-11-24 23:00:00" in flags["CHG0031023"]
    assert_left_alone(cycle, "ENG-SIRIUS")


def test_an_unknown_client_time_zone_is_flagged_on_the_change_request():
    cycle = h.plan("sanity_unknown_timezone")
    flag = h.one(cycle, kind="flag")
    assert (flag.target, flag.number) == ("change request", "CHG0031024")
    assert "the client time zone 'Eastern Time' is not an IANA zone such as America/New_York" in flag.note
    assert_left_alone(cycle, "ENG-TYRELL")


def test_a_prod_upgrade_in_the_spring_forward_gap_is_flagged_and_the_others_carry_on():
    cycle = h.plan("prod_upgrade_in_spring_forward_gap")
    flags = sanity_flags(cycle, "ENG-VANDELAY")
    assert sorted(w.number for w in flags) == ["ETIU0080003", "ETIU0080004"]
    note = h.body(flags[0])
    assert "Prod upgrade 2027-03-14 02:30 does not exist in America/New_York" in note
    assert "such as 03:30 EDT" in note
    assert_left_alone(cycle, "ENG-VANDELAY")
    reminder = h.one(cycle, kind="comment", engagement="ENG-SOYLENT")
    assert "2027-03-16 19:00 GMT" in reminder.note


def test_a_zone_label_that_contradicts_the_clients_zone_is_flagged():
    # New York in November is EST; "PST" says the ticket and the change request disagree.
    data = h.load("window_local_time_typed_as_utc")
    for ticket in data["tickets"]:
        ticket["short_description"] = ticket["short_description"].replace("18:00 EST", "18:00 PST")
    cycle = h.plan(data)
    flags = sanity_flags(cycle)
    assert sorted(w.number for w in flags) == ["ETIU0030001", "ETIU0030003", "ETIU0030004"]
    assert "is labelled PST, but America/New_York is on EST then" in flags[0].note
    assert_left_alone(cycle, "ENG-WAYNE")


def test_a_client_zone_changed_after_the_roadmap_was_agreed_is_flagged_not_skipped():
    # Agreed and remembered as London time; then the change request's zone was corrected.
    data = h.load_with("window_local_time_typed_as_utc", {"2026-11-24 18:00 EST": "2026-11-24 18:00 GMT"})
    cycle = h.plan(data)
    assert cycle.skipped == {}
    assert len(sanity_flags(cycle)) == 3
    assert_left_alone(cycle, "ENG-WAYNE")


def test_a_ticket_without_a_readable_update_time_is_flagged_instead_of_stopping_the_cycle():
    # Regression: a missing sys_updated_on compared a naive stand-in with aware times.
    data = h.load_with("sanity_duplicate_codes", {'sys_updated_on = "2026-11-09 20:00:00"  # BP moved to 2026-12-01 here':
                                                  'sys_updated_on = "09/11/2026 20:00"'})
    cycle = h.plan(data)
    assert cycle.skipped == {}
    flags = sanity_flags(cycle)
    assert any("ETIU0200004 has sys_updated_on = '09/11/2026 20:00'" in w.note for w in flags)
    assert any("ETIU0210004 has sys_updated_on = '09/11/2026 20:00'" in w.note for w in flags)


def test_a_sanity_flag_is_posted_once_per_distinct_problem_not_once_per_cycle():
    first = h.plan("sanity_unknown_states")
    again = h.plan("sanity_unknown_states", already_posted=h.posted([first]))
    assert again.writes == []
    # The problems are still there: their flags stay raised rather than resolved.
    assert {key for _, key in again.raised_flags["ENG-WAYSTAR"]} == {w.flag_key for w in first.writes}
    # A different state is a different problem.
    other = h.load_with("sanity_unknown_states", {'state = "6"  # a custom "Resolved" state': 'state = "8"'})
    assert [w.number for w in h.plan(other, already_posted=h.posted([first])).writes] == ["ETIU0220003"]


def test_once_fixed_the_engagement_is_handled_again():
    data = h.load_with("sanity_unknown_states", {'state = "6"  # a custom "Resolved" state': 'state = "2"',
                                                 'state = "21"  # a custom "On Hold" state': 'state = "-2"'})
    cycle = h.plan(data)
    assert sanity_flags(cycle) == []
    assert "prod_upgrade_scheduled" in h.matched(cycle)
    assert cycle.raised_flags["ENG-WAYSTAR"] == set()


OVERFLOWING = {
    "Validation - Massive Dynamic | Kickoff: 2026-11-09 | Dev upgrade: 2026-11-12 | Prod upgrade: 2026-12-01 18:00 CST | BP: 2026-12-03 | Support week: 2026-12-02":
    "Validation | Kickoff: 2026-11-09 | Dev upgrade: 2026-11-12 | Prod upgrade: 2026-12-01 18:00 CST | Support week: 2026-12-02 | Owner: Aja D. / backup: Jesse M.",
}


def test_a_roadmap_that_no_longer_fits_160_characters_touches_only_that_ticket():
    # ETIU03 fits today (157 characters); with the BP date added, its own extra text alone
    # leaves no room: the dates are never shortened.
    data = h.load_with("roadmap_date_carried", OVERFLOWING)
    data["tickets"] += h.load("sanity_duplicate_codes")["tickets"][-2:]
    data["change_requests"] += h.load("sanity_duplicate_codes")["change_requests"][-1:]
    data["memory"]["ENG-ACME"] = h.load("sanity_duplicate_codes")["memory"]["ENG-ACME"]
    cycle = h.plan(data)
    assert cycle.skipped == {}
    assert not [w for w in h.writes(cycle, kind="update_roadmap") if w.number == "ETIU0100003"]
    assert h.writes(cycle, kind="update_roadmap", engagement="ENG-MASSIVE")
    assert h.writes(cycle, kind="update_roadmap", engagement="ENG-ACME")


def test_a_roadmap_that_no_longer_fits_160_characters_is_flagged_on_the_ticket():
    cycle = h.plan(h.load_with("roadmap_date_carried", OVERFLOWING))
    assert cycle.skipped == {}
    flag = next(w for w in cycle.writes if w.number == "ETIU0100003" and w.kind == "flag")
    assert "cannot be written into ETIU0100003's short description" in flag.note
