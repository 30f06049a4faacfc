"""Nothing is done twice: a note or flag is posted once per distinct event, not once per cycle.

`already_posted` is how the engine asks the journal whether a note's ref was posted; here it
answers True for every ref an earlier cycle planned.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

import playbook_helpers as h

FIXTURE_NAMES = sorted(path.stem for path in h.FIXTURES.glob("*.toml"))


@pytest.mark.parametrize("name", FIXTURE_NAMES)
def test_replanning_the_same_records_posts_no_note_twice(name):
    data = h.load(name)
    first = h.plan(data)
    again = h.plan(data, already_posted=h.posted([first]))
    for write in again.writes:
        # A ticket that still does not exist is created again (the first create failed); its
        # note goes on the new record. Every other write carries no note the second time.
        if write.kind != "create_ticket":
            assert write.note == "", f"{write.rule} posted again on {write.number}:\n{write.note}"
    assert [w for w in again.writes if w.kind in h.NOTE_KINDS] == []


@pytest.mark.parametrize("name", FIXTURE_NAMES)
def test_once_the_planned_writes_are_made_the_next_cycle_has_nothing_to_do(name):
    data = h.load(name)
    first = h.plan(data)
    later = h.at_of(data) + timedelta(minutes=5)
    second = h.plan(h.apply_writes(data, first, at=later), at=later, already_posted=h.posted([first]))
    assert second.writes == [], h.describe(second)
    assert second.skipped == {}


def test_flags_still_true_in_the_next_cycle_stay_raised_so_they_are_not_resolved():
    data = h.load("window_local_time_typed_as_utc")
    first = h.plan(data)
    second = h.plan(h.apply_writes(data, first), already_posted=h.posted([first]))
    raised = {key for _, key in second.raised_flags["ENG-WAYNE"]}
    assert raised == {w.flag_key for w in h.writes(first, kind="flag")}


def test_a_flag_whose_problem_is_fixed_is_no_longer_raised():
    data = h.load("window_local_time_typed_as_utc")
    first = h.plan(data)
    fixed = h.apply_writes(data, first)
    fixed["change_requests"][0].update(start_date="2026-11-24 23:00:00", end_date="2026-11-25 02:00:00")
    second = h.plan(fixed, already_posted=h.posted([first]))
    assert second.raised_flags["ENG-WAYNE"] == set()
    assert "prod_upgrade_scheduled" in h.matched(second)


def test_scheduling_over_three_cycles_writes_each_thing_once():
    # Cycle 1 schedules; cycle 2 reads the writes back; cycle 3 is a day later.
    data = h.load("scheduled_closes_etiu03_opens_support_week")
    cycles = [h.plan(data)]
    at = h.at_of(data)
    for step in (timedelta(minutes=5), timedelta(days=1)):
        data = h.apply_writes(data, cycles[-1], at=at + step)
        cycles.append(h.plan(data, at=at + step, already_posted=h.posted(cycles)))
    kinds = [w.kind for w in cycles[0].writes]
    assert sorted(kinds) == ["create_ticket", "set_state", "set_state", "work_note"]
    assert cycles[1].writes == [] and cycles[2].writes == []
    support_weeks = [t for t in data["tickets"] if t["u_etiu_code"] == "SUPPORT_WEEK"]
    assert len(support_weeks) == 1
