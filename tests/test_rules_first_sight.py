"""Rule roadmap_in_sync on first sight of an engagement, and conflicts that last.

With no remembered roadmap, a date that differs between tickets is resolved by when each ticket
took on its date (the history of its short description, sys_audit), never by which ticket was
updated last. When the history is unavailable or cannot tell (the same second, no row), the
conflict is flagged and nothing is written; a flagged conflict is remembered and never written
over in a later cycle, until a person makes the tickets agree or changes one of them.
"""

from __future__ import annotations

from datetime import date, datetime

import pytest

import playbook_helpers as h
from etiu_worker.playbook.context import needs_history
from etiu_worker.errors import RulesError
from etiu_worker.engagement.roadmap import ProdUpgrade
from etiu_worker.cycle.rule_tester import run_fixture

KEY = "ENG-MASSIVE"


def roadmap_writes(cycle) -> dict[str, object]:
    """The roadmap each ticket would be rewritten with, by ticket number."""
    return {w.number: h.roadmap_of(w.fields["short_description"]) for w in h.writes(cycle, kind="update_roadmap")}


def touched(data, number: str, stamp: str):
    """The fixture with one ticket's sys_updated_on moved (a note or edit that is not a date change)."""
    for row in data["tickets"]:
        if row["number"] == number:
            row["sys_updated_on"] = stamp
    return data


# --- the history decides -------------------------------------------------------------------


def test_a_consultants_date_edit_wins_over_a_sibling_updated_later_for_another_reason():
    cycle = h.plan("first_sight_history_decides")
    written = roadmap_writes(cycle)
    assert sorted(written) == ["ETIU0100001", "ETIU0100003", "ETIU0100004"]
    assert {roadmap.bp for roadmap in written.values()} == {date(2026, 12, 2)}
    assert h.writes(cycle, number="ETIU0100002", kind="update_roadmap") == []
    assert h.writes(cycle, kind="flag") == []


def test_the_carried_date_note_names_the_ticket_the_history_says_it_changed_on():
    write = h.one(h.plan("first_sight_history_decides"), kind="update_roadmap", number="ETIU0100003")
    assert "BP: 2026-12-03 → 2026-12-02 (changed on ETIU0100002)" in h.body(write)


def test_the_date_a_ticket_went_back_to_counts_from_when_it_went_back():
    data = h.load("first_sight_history_decides")
    etiu03 = next(row for row in data["tickets"] if row["number"] == "ETIU0100003")
    before, after = etiu03["short_description"], etiu03["short_description"].replace("BP: 2026-12-03", "BP: 2026-12-05")
    # ETIU03's BP was moved away at 15:50 and back to 2026-12-03 at 15:57, after ETIU02's edit at 15:55.
    data["audit"] += [
        {"number": "ETIU0100003", "oldvalue": before, "newvalue": after, "sys_created_on": "2026-11-24 15:50:00"},
        {"number": "ETIU0100003", "oldvalue": after, "newvalue": before, "sys_created_on": "2026-11-24 15:57:00"},
    ]
    written = roadmap_writes(h.plan(data))
    assert sorted(written) == ["ETIU0100002"]
    assert written["ETIU0100002"].bp == date(2026, 12, 3)


def test_once_carried_the_first_sight_date_is_remembered_and_no_more_history_is_needed():
    data = h.load("first_sight_history_decides")
    [engagement] = h.engagements(data)
    assert needs_history(engagement, {}, h.playbook())
    first = h.plan(data)
    assert not needs_history(engagement, first.memories[KEY], h.playbook())  # the dates it replaced are remembered
    after = h.apply_writes(data, first)
    del after["audit"]  # and the next cycle decides without any history
    second = h.plan(after, already_posted=h.posted([first]))
    assert h.writes(second, kind="update_roadmap") == [] and h.writes(second, kind="flag") == []
    assert h.roadmap_of(second.memories[KEY]["roadmap"]).bp == date(2026, 12, 2)
    assert "conflicts" not in second.memories[KEY]


# --- the history cannot tell: a flagged conflict, no write -----------------------------------


def test_two_tickets_that_changed_a_date_in_the_same_second_are_flagged_and_nothing_is_written():
    cycle = h.plan("first_sight_same_second")
    assert h.writes(cycle, kind="update_roadmap") == []
    flags = h.writes(cycle, kind="flag", rule="roadmap_in_sync")
    assert sorted(w.target for w in flags) == ["ETIU01", "ETIU03"]
    note = h.body(flags[0])
    assert note.startswith(h.FLAG + " Roadmap conflict on ENG-MASSIVE")
    assert "ETIU0100001 says 2026-12-02 18:00 CST" in note and "ETIU0100003 says 2026-12-01 19:00 CST" in note


@pytest.mark.parametrize("audit", [None, []], ids=["history unavailable", "no audit row"])
def test_without_a_history_that_tells_a_differing_date_is_a_flagged_conflict_and_nothing_is_written(audit):
    data = h.load("first_sight_history_decides")
    del data["audit"]
    if audit is not None:
        data["audit"] = audit
    cycle = h.plan(data)
    assert h.writes(cycle, kind="update_roadmap") == []
    flags = h.writes(cycle, kind="flag", rule="roadmap_in_sync")
    assert sorted(w.target for w in flags) == ["ETIU01", "ETIU03"]
    assert "ETIU0100002 says 2026-12-02" in h.body(flags[0])


# --- a flagged conflict lasts until a person resolves it --------------------------------------


@pytest.mark.parametrize("fixture", ["first_sight_same_second", "roadmap_conflict"])
def test_a_flagged_conflict_is_not_written_over_in_the_next_cycle(fixture):
    data = h.load(fixture)
    first = h.plan(data)
    # The flag note the worker posted on ETIU03 made it the most recently updated ticket.
    after = touched(h.apply_writes(data, first), "ETIU0100003", "2026-11-24 16:00:05")
    second = h.plan(after, at=datetime.fromisoformat("2026-11-24T16:10:00+00:00"), already_posted=h.posted([first]))
    assert h.writes(second, kind="update_roadmap") == []
    assert h.writes(second, kind="flag") == []  # flagged once, not again
    assert any(rule == "roadmap_in_sync" and ":conflict|" in flag for rule, flag in second.raised_flags[KEY])
    assert list(second.memories[KEY]["conflicts"]) == ["prod_upgrade"]


@pytest.mark.parametrize("fixture", ["first_sight_same_second", "roadmap_conflict"])
def test_a_conflict_resolves_once_a_person_changes_one_ticket_and_that_date_is_carried(fixture):
    data = h.load(fixture)
    first = h.plan(data)
    after = h.apply_writes(data, first)
    for row in after["tickets"]:  # the coordinator settles it on ETIU03: 2026-12-02 18:00 it is
        if row["number"] == "ETIU0100003":
            row["short_description"] = row["short_description"].replace("2026-12-01 19:00 CST", "2026-12-02 18:00 CST")
    second = h.plan(after, already_posted=h.posted([first]))
    written = roadmap_writes(second)
    assert sorted(written) == ["ETIU0100002", "ETIU0100004"]
    assert {r.prod_upgrade for r in written.values()} == {ProdUpgrade(datetime(2026, 12, 2, 18, 0), "CST")}
    assert h.writes(second, kind="flag") == []
    assert not any(":conflict|" in flag for _, flag in second.raised_flags[KEY])  # the flag resolves
    third = h.plan(h.apply_writes(after, second), already_posted=h.posted([first, second]))
    assert h.writes(third, kind="update_roadmap") == []
    assert "conflicts" not in third.memories[KEY]
    assert h.roadmap_of(third.memories[KEY]["roadmap"]).prod_upgrade == ProdUpgrade(datetime(2026, 12, 2, 18, 0), "CST")


def test_a_conflict_resolves_once_every_ticket_agrees_and_normal_sync_resumes():
    data = h.load("first_sight_same_second")
    first = h.plan(data)
    after = h.apply_writes(data, first)
    for row in after["tickets"]:  # every ticket corrected by hand to 2026-12-01 19:00
        row["short_description"] = row["short_description"].replace("2026-12-02 18:00 CST", "2026-12-01 19:00 CST")
        row["short_description"] = row["short_description"].replace("2026-12-01 18:00 CST", "2026-12-01 19:00 CST")
    second = h.plan(after, already_posted=h.posted([first]))
    assert h.writes(second, kind="update_roadmap") == [] and h.writes(second, kind="flag") == []
    assert "conflicts" not in second.memories[KEY]
    assert h.roadmap_of(second.memories[KEY]["roadmap"]).prod_upgrade == ProdUpgrade(datetime(2026, 12, 1, 19, 0), "CST")
    # Normal sync: a later change on one ticket is carried again.
    later = h.apply_writes(after, second)
    etiu04 = later["tickets"][3]
    etiu04["short_description"] = etiu04["short_description"].replace("BP: 2026-12-03", "BP: 2026-12-04")
    assert sorted(roadmap_writes(h.plan(later))) == ["ETIU0100001", "ETIU0100002", "ETIU0100003"]


def test_two_people_changing_a_conflict_differently_is_a_new_conflict_flagged_again():
    data = h.load("first_sight_same_second")
    first = h.plan(data)
    after = h.apply_writes(data, first)
    for number, new in (("ETIU0100001", "2026-12-03 18:00 CST"), ("ETIU0100003", "2026-12-04 18:00 CST")):
        row = next(row for row in after["tickets"] if row["number"] == number)
        row["short_description"] = row["short_description"].replace(str(h.roadmap_of(row["short_description"]).prod_upgrade), new)
    second = h.plan(after, already_posted=h.posted([first]))
    assert h.writes(second, kind="update_roadmap") == []
    assert sorted(w.target for w in h.writes(second, kind="flag")) == ["ETIU01", "ETIU03"]


# --- history in a fixture ---------------------------------------------------------------------


NUMBERS = "ETIU0100001, ETIU0100002, ETIU0100003, ETIU0100004"


@pytest.mark.parametrize("row, message", [
    ('number = "ETIU0100009"', f"number = 'ETIU0100009' is not a ticket of the fixture; name one of {NUMBERS}"
                               " (or give its sys_id as documentkey)"),
    ('user = "aja.d"', f"number = '' is not a ticket of the fixture; name one of {NUMBERS} (or give its sys_id as documentkey)"),
])
def test_an_audit_row_naming_no_ticket_of_the_fixture_is_refused_with_the_row_and_the_numbers(tmp_path, row, message):
    path = tmp_path / "bad.toml"
    text = h.fixture_path("first_sight_history_decides").read_text(encoding="utf-8")
    path.write_text(f'{text}\n[[audit]]\n{row}\noldvalue = ""\nnewvalue = "x"\nsys_created_on = "2026-11-24 15:00:00"\n',
                    encoding="utf-8")
    with pytest.raises(RulesError) as raised:
        run_fixture(path, h.playbook(), h.settings())
    assert str(raised.value) == f"fixture {path}: [[audit]] row 5: {message}"
