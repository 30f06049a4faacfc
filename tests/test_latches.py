"""Latches: a value remembered the first time a condition holds, kept across cycles as plain data."""

from __future__ import annotations

import json
import tomllib
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import pytest
from jinja2.exceptions import UndefinedError

from etiu_worker.errors import RulesError
from etiu_worker.playbook.dayrange import DayRange
from etiu_worker.playbook.latches import LatchState, compile_latches, evaluate_latch, latch_reference
from etiu_worker.playbook.moments import compile_moments
from etiu_worker.playbook.templates import make_environment
from etiu_worker.engagement.workdays import BusinessCalendar

NEW_YORK = ZoneInfo("America/New_York")
ENV = make_environment()
NOTICE = {"notice": {"when": "notice_sent", "value": "slot", "reset_when": "cycle_moved"}}
FIRST_SLOT = datetime(2026, 11, 24, 23, 0, tzinfo=timezone.utc)
MOVED_SLOT = datetime(2026, 11, 26, 23, 0, tzinfo=timezone.utc)


def at(day: int, hour: int) -> datetime:
    return datetime(2026, 11, day, hour, 0, tzinfo=timezone.utc)


def context(**names):
    return {"calendar": BusinessCalendar(), "zone": NEW_YORK, "notice_sent": False, "cycle_moved": False,
            "slot": FIRST_SLOT, **names}


def through_memory(state: LatchState) -> LatchState:
    """What the next cycle reads: the state stored as JSON text and read back."""
    return LatchState.from_memory(state.name, json.loads(json.dumps(state.to_memory())))


# Each cycle: (its now, what the context says, then set, at, value, current, changed).
LIFECYCLE = [
    (at(20, 9), {}, False, None, None, FIRST_SLOT, False),
    (at(21, 9), {"notice_sent": True}, True, at(21, 9), FIRST_SLOT, FIRST_SLOT, False),
    (at(22, 9), {"notice_sent": False}, True, at(21, 9), FIRST_SLOT, FIRST_SLOT, False),  # set once, ever
    (at(23, 9), {"slot": MOVED_SLOT}, True, at(21, 9), FIRST_SLOT, MOVED_SLOT, True),
    (at(24, 9), {"cycle_moved": True, "notice_sent": True}, False, None, None, FIRST_SLOT, False),  # reset wins
    (at(25, 9), {"notice_sent": True, "slot": MOVED_SLOT}, True, at(25, 9), MOVED_SLOT, MOVED_SLOT, False),
]


def test_a_latch_sets_once_remembers_its_value_sees_it_move_and_resets_over_cycles():
    latch = compile_latches(NOTICE, ENV)["notice"]
    remembered = None
    seen = []
    for now, names, *_ in LIFECYCLE:
        state = evaluate_latch(latch, remembered, context(**names), now)
        seen.append((state.set, state.at, state.value, state.current, state.changed))
        remembered = through_memory(state)

    assert seen == [tuple(cycle[2:]) for cycle in LIFECYCLE]


def test_a_latch_whose_condition_cannot_be_evaluated_keeps_what_it_remembered():
    latch = compile_latches({"notice": {"when": "notice_sent", "value": "slot", "reset_when": "now >= missing"}}, ENV)["notice"]
    remembered = LatchState("notice", True, at(21, 9), FIRST_SLOT)

    state = evaluate_latch(latch, remembered, context(now=at(22, 9), missing=None), at(22, 9))

    assert (state.set, state.at, state.value) == (True, at(21, 9), FIRST_SLOT)
    assert state.error == "TypeError: '>=' not supported between instances of 'datetime.datetime' and 'NoneType'"


def test_a_latch_does_not_set_on_a_value_it_cannot_remember_and_says_why():
    latch = compile_latches({"notice": {"when": "true", "value": "calendar"}}, ENV)["notice"]

    state = evaluate_latch(latch, None, context(), at(21, 9))

    assert state.set is False
    assert state.error == ("latches.notice: its value is BusinessCalendar "
                           f"{BusinessCalendar()!r}; a latch remembers a date, a datetime, a range of days, "
                           "a text, a number, true/false or none")


def test_a_latch_whose_value_cannot_be_computed_says_so_where_changed_is_read():
    latch = compile_latches({"notice": {"when": "true", "value": "slot | at('13:00')"}}, ENV)["notice"]
    remembered = LatchState("notice", True, at(21, 9), FIRST_SLOT)

    state = evaluate_latch(latch, remembered, context(slot="soon"), at(22, 9))

    with pytest.raises(UndefinedError) as error:
        state.changed
    assert str(error.value) == ("latches.notice.value could not be evaluated: TypeError: expected a date or a "
                                "datetime, got str 'soon'")


def test_a_slot_in_the_repeated_hour_of_a_fall_back_is_not_changed_once_read_back_from_memory():
    # 01:30 on 1 November 2026 happens twice in New York; the latch stores it in UTC.
    slot = datetime(2026, 11, 1, 1, 30, tzinfo=NEW_YORK)
    latch = compile_latches({"notice": {"when": "true", "value": "slot"}}, ENV)["notice"]
    first = evaluate_latch(latch, None, context(slot=slot), at(20, 9))

    later = evaluate_latch(latch, through_memory(first), context(slot=slot), at(21, 9))

    assert later.set and later.changed is False


@pytest.mark.parametrize("value", [
    datetime(2026, 11, 24, 18, 0, tzinfo=NEW_YORK), date(2026, 11, 24), "2026-11-24", 3, 2.5, True, None,
    DayRange((date(2026, 11, 25), date(2026, 11, 30)), NEW_YORK),
])
def test_a_remembered_value_reads_back_as_the_same_kind_of_value(value):
    state = LatchState("notice", True, at(21, 9), value, value)

    back = through_memory(state)

    assert (back.set, back.at, back.value, type(back.value)) == (True, at(21, 9), value, type(value))


def test_a_latch_is_stored_as_plain_json_data_with_iso_times():
    state = LatchState("notice", True, datetime(2026, 11, 21, 9, 0, tzinfo=NEW_YORK), FIRST_SLOT, MOVED_SLOT)

    assert state.to_memory() == {"set": True, "at": "2026-11-21T09:00:00-05:00",
                                 "value": {"kind": "datetime", "value": "2026-11-24T23:00:00+00:00"}}
    assert LatchState("notice").to_memory() == {"set": False}


@pytest.mark.parametrize(("data", "message"), [
    ("set", "latches.notice: remembered state 'set' is not one the worker stored"),
    ({"set": "yes"}, "latches.notice: remembered state {'set': 'yes'} is not one the worker stored"),
    ({"set": True, "at": "Tuesday", "value": {"kind": "none"}},
     "latches.notice: remembered time 'Tuesday' is not an ISO date-time with its offset"),
    ({"set": True, "at": "2026-11-21T09:00:00", "value": {"kind": "none"}},
     "latches.notice: remembered time '2026-11-21T09:00:00' is not an ISO date-time with its offset"),
    ({"set": True, "at": "2026-11-21T09:00:00+00:00", "value": {"kind": "date", "value": "soon"}},
     "latches.notice: remembered value {'kind': 'date', 'value': 'soon'} is not one the worker stored"),
    ({"set": True, "at": "2026-11-21T09:00:00+00:00", "value": "2026-11-24"},
     "latches.notice: remembered value '2026-11-24' is not one the worker stored"),
])
def test_remembered_state_the_worker_did_not_store_is_refused_naming_the_latch(data, message):
    with pytest.raises(ValueError) as error:
        LatchState.from_memory("notice", data)

    assert str(error.value) == message


@pytest.mark.parametrize(("dates", "latches", "message"), [
    ({}, {"notice": {"whn": "sent", "value": "slot"}},
     "latches.notice: unknown key 'whn' (did you mean 'when'?); a latch has when, value, reset_when, kept_as"),
    ({}, {"notice": {"value": "slot"}}, "latches.notice: when is missing: give the condition that sets it"),
    ({}, {"notice": {"when": "sent"}}, "latches.notice: value is missing: give the expression it remembers"),
    ({}, {"notice": {"when": 3, "value": "slot"}},
     "latches.notice.when: expected a condition or a list of conditions, got 3"),
    ({}, {"notice": {"when": ["sent", "now >= dates.cutof"], "value": "slot"}},
     "latches.notice.when[1]: reads dates.cutof, which is not declared; declare it under [dates] or use one "
     "that is (there are no dates)"),
    ({"cutoff": "slot | at('13:00')"}, {"notice": {"when": "now >= dates.cutof", "value": "slot"}},
     "latches.notice.when: reads dates.cutof, which is not declared (did you mean 'cutoff'?); declare it under "
     "[dates] or use one that is (the dates are: cutoff)"),
    ({}, {"notice": {"when": "sent", "value": "slot | minus('2 days')"}},
     "latches.notice.value: '2 days' is not a duration: write a number and a unit, e.g. 2bd (business days), "
     "48h (hours), 3d (calendar days), 1w (weeks), 30m (minutes)"),
    ({}, {"notice": {"when": "sent", "value": "slot", "reset_when": "latches.notice.changed"}},
     "latches.notice: reads itself through a cycle: latches.notice -> latches.notice; "
     "break the cycle so that each one can be computed from the others"),
    ({"notice_by": "latches.notice.value | minus('48h')"}, {"notice": {"when": "now >= dates.notice_by", "value": "slot"}},
     "dates.notice_by: reads itself through a cycle: dates.notice_by -> latches.notice -> dates.notice_by; "
     "break the cycle so that each one can be computed from the others"),
    ({}, {"notice": "sent"}, "latches.notice: expected a table with when and value, got 'sent'"),
    ({}, {"2nd": {"when": "sent", "value": "slot"}},
     "latches.2nd: a latch's name is letters, digits and _, not starting with a digit"),
])
def test_a_bad_latch_is_refused_at_load_saying_which_and_why(dates, latches, message):
    with pytest.raises(RulesError) as error:
        compile_moments(dates, latches, ENV)

    assert str(error.value) == message


def test_dates_and_latches_are_computed_in_the_order_they_read_each_other():
    moments = compile_moments(
        {"notice_by": "latches.notice.value | minus('48h')", "cutoff": "slot | local_day | at('13:00')"},
        {"notice": {"when": "notice_sent", "value": "slot"},
         "late": {"when": "latches.notice.set and latches.notice.at > dates.notice_by", "value": "now"}},
        ENV,
    )
    sent_late = at(24, 12)  # 36 hours before the first slot

    first = moments.evaluate(context(notice_sent=True, now=sent_late), {}, sent_late)
    second = moments.evaluate(context(now=at(24, 13)), json.loads(json.dumps(first.memory())), at(24, 13))

    assert first.dates == {"notice_by": at(22, 23), "cutoff": datetime(2026, 11, 24, 13, 0, tzinfo=NEW_YORK)}
    assert (first.latches["notice"].value, first.latches["late"].value) == (FIRST_SLOT, sent_late)
    assert (second.latches["late"].set, second.latches["late"].at) == (True, sent_late)
    assert second.latches["late"].current == at(24, 13)


def test_the_reference_says_what_every_name_of_a_latch_means():
    names = [line.split("`")[1] for line in latch_reference()]

    assert names == [f"latches.NAME.{name}" for name in ("name", "set", "at", "value", "current", "changed", "error")]


PACK_TOML = """
[dates]
cutoff = "slot | local_day | at('13:00')"
notice_by = "slot | minus('48h')"

[latches.notice]
when = ["notice_sent"]
value = "slot"
"""


@pytest.mark.parametrize(("slot", "flagged"), [(FIRST_SLOT, False), (MOVED_SLOT, True)])
def test_a_pack_written_as_toml_flags_a_slot_moved_since_its_notice(slot, flagged):
    pack = tomllib.loads(PACK_TOML)
    moments = compile_moments(pack["dates"], pack["latches"], ENV)
    condition = ENV.compile_expression("latches.notice.changed and now < dates.cutoff", undefined_to_none=False)
    sent = moments.evaluate(context(notice_sent=True), {}, at(21, 9))

    later = moments.evaluate(context(slot=slot), sent.memory(), at(22, 9))

    assert condition(**context(slot=slot), now=at(22, 9), dates=later.dates, latches=later.latches) is flagged


# --- kept_as: a latch kept under its own memory key, as its value alone ----------------------------

KEPT = {"notice": {"when": "notice_sent", "value": "slot", "kept_as": "notice_slot"}}


def test_a_latch_kept_as_a_memory_key_reads_a_value_stored_there_before_latches_existed():
    moments = compile_moments({}, KEPT, ENV)
    remembered = moments.remembered({"notice_slot": "2026-11-24 23:00:00"})

    state = moments.evaluate(context(slot=at(25, 23)), remembered, at(22, 9)).latches["notice"]

    assert (state.set, state.at, state.value) == (True, None, at(24, 23))
    assert state.changed


def test_a_latch_kept_as_a_memory_key_is_remembered_there_as_servicenow_writes_a_date_time():
    moments = compile_moments({}, KEPT, ENV)
    values = moments.evaluate(context(notice_sent=True), {}, at(21, 9))

    memory = moments.remember({"roadmap": "Kickoff: 2026-11-02"}, values.latches)

    assert memory == {"roadmap": "Kickoff: 2026-11-02", "notice_slot": FIRST_SLOT.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")}


def test_a_latch_kept_as_a_memory_key_that_is_not_set_leaves_no_key():
    moments = compile_moments({}, KEPT, ENV)
    values = moments.evaluate(context(), {}, at(21, 9))

    assert moments.remember({}, values.latches) == {}


@pytest.mark.parametrize("key", ["roadmap", "latches", "notice slot", 3])
def test_a_latch_may_not_be_kept_as_a_key_the_engine_writes_or_one_that_is_no_name(key):
    with pytest.raises(RulesError) as error:
        compile_moments({}, {"notice": {"when": "notice_sent", "value": "slot", "kept_as": key}}, ENV)

    assert str(error.value).startswith(f"latches.notice.kept_as: {key!r} is not a memory key a latch may use")
