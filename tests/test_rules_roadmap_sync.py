"""Rule roadmap_in_sync: the roadmap in every ticket's short description stays the same.

A date a person changed on one ticket is carried to its siblings with a note (from, to, source
ticket); tickets changed differently with no way to tell which is newer are flagged and nothing
is written; a scheduled upgrade that moved or was cancelled is flagged loudly.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

import pytest

import playbook_helpers as h
from etiu_worker.engagement.roadmap import ProdUpgrade


# --- carrying a person's change -------------------------------------------------------------


def test_a_date_changed_on_one_ticket_is_carried_to_every_sibling():
    cycle = h.plan("roadmap_date_carried")
    updates = h.writes(cycle, kind="update_roadmap")
    assert sorted(w.number for w in updates) == ["ETIU0100001", "ETIU0100002", "ETIU0100003"]
    for write in updates:
        before = h.roadmap_of(write.before["short_description"])
        after = h.roadmap_of(write.fields["short_description"])
        assert (before.bp, after.bp) == (date(2026, 12, 3), date(2026, 12, 2))
        assert before.replace(bp=None) == after.replace(bp=None)  # nothing else changed
        # The title people wrote is kept.
        assert write.fields["short_description"].split(" | ")[0] == write.before["short_description"].split(" | ")[0]


def test_the_carried_date_note_says_from_to_and_which_ticket_it_came_from():
    write = h.one(h.plan("roadmap_date_carried"), kind="update_roadmap", number="ETIU0100003")
    note = h.body(write)
    assert note.startswith("Roadmap updated on ETIU0100003")
    assert "BP: 2026-12-03 → 2026-12-02 (changed on ETIU0100004)" in note
    assert not note.startswith("[ETIU")


def test_the_ticket_a_person_changed_is_not_rewritten():
    assert h.writes(h.plan("roadmap_date_carried"), number="ETIU0100004") == []


def test_the_new_roadmap_is_remembered_once_every_ticket_carries_it():
    data = h.load("roadmap_date_carried")
    first = h.plan(data)
    # Not yet: three tickets still carry the old date until the writes are read back.
    assert first.memories["ENG-MASSIVE"]["roadmap"] == data["memory"]["ENG-MASSIVE"]["roadmap"]
    second = h.plan(h.apply_writes(data, first), already_posted=h.posted([first]))
    assert h.roadmap_of(second.memories["ENG-MASSIVE"]["roadmap"]).bp == date(2026, 12, 2)
    assert second.writes == []


def test_without_memory_the_ticket_whose_date_changed_last_wins():
    data = h.load("roadmap_date_carried")
    del data["memory"]
    # First sight decides by the history of the short descriptions (tests/test_rules_first_sight.py):
    # ETIU04's BP date was moved this morning; the other tickets have held theirs since creation.
    etiu04 = data["tickets"][3]["short_description"]
    data["audit"] = [{"number": "ETIU0100004", "oldvalue": etiu04.replace("BP: 2026-12-02", "BP: 2026-12-03"),
                      "newvalue": etiu04, "sys_created_on": "2026-11-24 15:47:21"}]
    updates = h.writes(h.plan(data), kind="update_roadmap")
    assert len(updates) == 3
    assert all(h.roadmap_of(w.fields["short_description"]).bp == date(2026, 12, 2) for w in updates)
    assert "BP: 2026-12-03 → 2026-12-02 (changed on ETIU0100004)" in updates[0].note


def _first_sight(data):
    """The fixture without memory, ETIU04's BP date moved this morning by its history."""
    del data["memory"]
    etiu04 = data["tickets"][3]["short_description"]
    data["audit"] = [{"number": "ETIU0100004", "oldvalue": etiu04.replace("BP: 2026-12-02", "BP: 2026-12-03"),
                      "newvalue": etiu04, "sys_created_on": "2026-11-24 15:47:21"}]
    return data


@pytest.mark.parametrize("seen", ["remembered roadmap", "first sight"])
def test_a_carry_that_reached_some_tickets_only_still_names_the_ticket_a_person_changed(seen):
    data = h.load("roadmap_date_carried")
    data = _first_sight(data) if seen == "first sight" else data
    first = h.plan(data)
    # Only ETIU01's write saved: ETIU01 now holds the new date too, written by the worker.
    landed = replace(first, writes=[w for w in first.writes if w.number == "ETIU0100001"])
    partly = h.apply_writes(data, landed)
    second = h.plan(partly, already_posted=h.posted([landed]))
    updates = h.writes(second, kind="update_roadmap")
    assert sorted(w.number for w in updates) == ["ETIU0100002", "ETIU0100003"]
    for write in updates:
        assert "BP: 2026-12-03 → 2026-12-02 (changed on ETIU0100004)" in write.note, write.note
    done = h.plan(h.apply_writes(partly, second), already_posted=h.posted([landed, second]))
    assert done.writes == [] and "carried_from" not in done.memories["ENG-MASSIVE"]


def test_missing_labels_and_placeholders_are_filled_in_from_the_siblings():
    data = h.load("roadmap_label_missing")
    cycle = h.plan(data)
    updates = {w.number: w for w in h.writes(cycle, kind="update_roadmap")}
    assert sorted(updates) == ["ETIU0110001", "ETIU0110003", "ETIU0110004"]
    agreed = h.agreed_roadmap(data, "ENG-UMBRELLA")
    assert agreed.bp == date(2026, 11, 30) and agreed.support_week == date(2026, 11, 25)
    for write in updates.values():
        assert h.roadmap_of(write.fields["short_description"]) == agreed
    assert updates["ETIU0110004"].fields["short_description"].startswith("BP session - Umbrella Health | Kickoff: 2026-11-02")
    # ETIU03's extra text is kept; with every date its title no longer fits 160 characters.
    etiu03 = updates["ETIU0110003"].fields["short_description"]
    assert etiu03.endswith(" | Owner: Damien R.")
    assert etiu03.startswith("Validation… | Kickoff: 2026-11-02")
    assert len(etiu03) <= h.SHORT_DESCRIPTION_MAX


def test_a_label_removed_from_one_ticket_is_filled_in_again():
    data = h.load_with("roadmap_date_carried", {
        "Validation - Massive Dynamic | Kickoff: 2026-11-09 | Dev upgrade: 2026-11-12 | Prod upgrade: 2026-12-01 18:00 CST | BP: 2026-12-03 | Support week: 2026-12-02":
        "Validation - Massive Dynamic | Kickoff: 2026-11-09 | Dev upgrade: 2026-11-12 | Prod upgrade: 2026-12-01 18:00 CST | Support week: 2026-12-02",
    })
    write = h.one(h.plan(data), kind="update_roadmap", number="ETIU0100003")
    assert h.roadmap_of(write.fields["short_description"]).bp == date(2026, 12, 2)


def test_a_date_removed_from_every_ticket_stays_removed():
    data = h.load_with("roadmap_date_carried", {" | BP: 2026-12-03 | ": " | ", " | BP: 2026-12-02 | ": " | "})
    data["memory"]["ENG-MASSIVE"]["roadmap"] = (
        "Kickoff: 2026-11-09 | Dev upgrade: 2026-11-12 | Prod upgrade: 2026-12-01 18:00 CST | BP: 2026-12-03 | Support week: 2026-12-02")
    assert h.writes(h.plan(data), kind="update_roadmap") == []


# --- conflicts ------------------------------------------------------------------------------


def test_tickets_changed_differently_in_the_same_second_are_flagged_and_nothing_is_written():
    cycle = h.plan("roadmap_conflict")
    assert h.writes(cycle, kind="update_roadmap") == []
    flags = h.writes(cycle, kind="flag", rule="roadmap_in_sync")
    assert sorted(w.target for w in flags) == ["ETIU01", "ETIU03"]
    note = h.body(flags[0])
    assert note.startswith(h.FLAG + " Roadmap conflict on ENG-MASSIVE")
    assert "Prod upgrade: ETIU0100001 says 2026-12-02 18:00 CST, ETIU0100003 says 2026-12-01 19:00 CST" in note
    assert "Nothing was changed" in note


def test_during_a_conflict_the_client_is_not_reminded_of_a_disputed_date():
    cycle = h.plan("roadmap_conflict")
    assert h.writes(cycle, kind="comment") == []


def test_during_a_conflict_the_agreed_roadmap_is_not_forgotten():
    data = h.load("roadmap_conflict")
    assert h.plan(data).memories["ENG-MASSIVE"]["roadmap"] == data["memory"]["ENG-MASSIVE"]["roadmap"]


def test_the_same_conflict_is_flagged_once_and_a_new_one_again():
    first = h.plan("roadmap_conflict")
    assert h.writes(h.plan("roadmap_conflict", already_posted=h.posted([first])), kind="flag") == []
    other = h.load_with("roadmap_conflict", {"2026-12-02 18:00 CST | BP": "2026-12-03 18:00 CST | BP"})
    assert len(h.writes(h.plan(other, already_posted=h.posted([first])), kind="flag")) == 2


def test_two_changes_a_second_apart_are_no_conflict_the_newer_is_carried():
    data = h.load_with("roadmap_conflict", {'sys_updated_on = "2026-11-24 15:30:00"  # the same second as ETIU01':
                                            'sys_updated_on = "2026-11-24 15:30:01"'})
    cycle = h.plan(data)
    assert h.writes(cycle, kind="flag") == []
    updates = h.writes(cycle, kind="update_roadmap")
    assert sorted(w.number for w in updates) == ["ETIU0100001", "ETIU0100002", "ETIU0100004"]
    assert all(h.roadmap_of(w.fields["short_description"]).prod_upgrade == ProdUpgrade(datetime(2026, 12, 1, 19, 0), "CST")
               for w in updates)


# --- a scheduled upgrade that moved or was cancelled ----------------------------------------


def test_a_scheduled_upgrade_that_moved_is_flagged_loudly_on_the_change_request_and_etiu03():
    cycle = h.plan("scheduled_upgrade_moved")
    flags = [w for w in h.writes(cycle, kind="flag") if "MOVED" in w.note]
    assert sorted(w.target for w in flags) == ["ETIU03", "change request"]
    note = h.body(flags[0])
    assert note.startswith(h.FLAG + " SCHEDULED UPGRADE MOVED")
    assert "was 2026-11-24 18:00 EST (2026-11-24 23:00 UTC) when the upgrade was scheduled" in note
    assert "is now 2026-11-25 18:00 EST (2026-11-25 23:00 UTC)" in note
    assert "Tell Aja now" in note


def test_a_moved_upgrade_still_has_its_new_date_carried_and_its_new_window_checked():
    cycle = h.plan("scheduled_upgrade_moved")
    updates = h.writes(cycle, kind="update_roadmap")
    assert sorted(w.target for w in updates) == ["ETIU01", "ETIU04", "SUPPORT_WEEK"]
    assert "Prod upgrade: 2026-11-24 18:00 EST → 2026-11-25 18:00 EST (changed on ETIU0120003)" in updates[0].note
    assert "2026-11-25 23:00 UTC = 2026-11-25 18:00 EST" in h.one(cycle, kind="work_note").note
    # The move is remembered as a move: the scheduled start is not overwritten.
    assert cycle.memories["ENG-CYBERDYNE"]["scheduled_start"] == "2026-11-24 23:00:00"


def test_a_planned_start_moved_without_the_roadmap_is_flagged_as_moved_and_as_a_wrong_window():
    data = h.load_with("scheduled_upgrade_moved", {"Prod upgrade: 2026-11-25 18:00 EST": "Prod upgrade: 2026-11-24 18:00 EST"})
    cycle = h.plan(data)
    flags = h.writes(cycle, kind="flag", target="change request")
    assert len(flags) == 2
    assert any("SCHEDULED UPGRADE MOVED" in w.note for w in flags)
    assert any("The planned start of CHG0031012 is 2026-11-25 23:00 UTC" in w.note for w in flags)


def test_a_moved_upgrade_is_flagged_once_not_every_cycle():
    data = h.load("scheduled_upgrade_moved")
    first = h.plan(data)
    second = h.plan(h.apply_writes(data, first), already_posted=h.posted([first]))
    assert h.writes(second, kind="flag") == []
    assert any(rule == "roadmap_in_sync" for rule, _ in second.raised_flags["ENG-CYBERDYNE"])


def test_a_cancelled_change_request_after_scheduling_is_flagged_loudly():
    cycle = h.plan("scheduled_upgrade_cancelled")
    flags = h.writes(cycle, kind="flag")
    assert sorted(w.target for w in flags) == ["ETIU03", "change request"]
    note = h.body(flags[0])
    assert note.startswith(h.FLAG + " SCHEDULED UPGRADE CANCELLED: CHG0031013 is Canceled")
    assert "already scheduled for 2026-12-01 18:00 CST" in note
    assert "cannot be cancelled" in note


def test_a_cancelled_change_request_is_neither_window_checked_nor_reported_as_moved():
    cycle = h.plan("scheduled_upgrade_cancelled")
    assert [w.rule for w in cycle.writes] == ["roadmap_in_sync", "roadmap_in_sync"]
    assert not any("MOVED" in w.note for w in cycle.writes)


def test_a_change_request_cancelled_before_scheduling_is_not_flagged_as_cancelled():
    data = h.load_with("scheduled_upgrade_cancelled", {
        'state = "3"  # Closed Complete': 'state = "2"  # Work in Progress',
        'state = "3"  # Closed\n': 'state = "1"  # Open: the switch was never flipped\n',
    })
    del data["memory"]["ENG-OSCORP"]["scheduled_start"]
    assert not any("CANCELLED" in w.note for w in h.plan(data).writes)
