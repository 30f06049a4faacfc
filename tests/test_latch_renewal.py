"""A latch that sets again (renew_when): a notice remembered for a slot that moved is remembered
anew, with the new slot and the moment it was seen, once renew_when and when hold together."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from etiu_worker.errors import RulesError
from etiu_worker.playbook.latches import LatchState, compile_latches, evaluate_latch
from etiu_worker.playbook.moments import compile_moments
from etiu_worker.playbook.templates import make_environment

ENV = make_environment()
RENEWING = {"notice": {"when": "due", "value": "slot", "renew_when": "latches.notice.changed"}}
FIRST = datetime(2026, 12, 10, 9, 0, tzinfo=timezone.utc)
MOVED = datetime(2026, 12, 17, 9, 0, tzinfo=timezone.utc)


def at(day: int, hour: int = 9) -> datetime:
    return datetime(2026, 12, day, hour, 0, tzinfo=timezone.utc)


def cycle(latch, remembered, now, **names):
    state = evaluate_latch(latch, remembered, {"latches": {}, "due": False, "slot": FIRST, **names}, now)
    return LatchState.from_memory(state.name, json.loads(json.dumps(state.to_memory()))), state


def test_a_moved_value_stays_changed_until_when_holds_again_then_the_latch_remembers_the_new_one_from_now():
    latch = compile_latches(RENEWING, ENV)["notice"]
    memory, first = cycle(latch, None, at(7), due=True)
    memory, waiting = cycle(latch, memory, at(8), slot=MOVED)
    memory, renewed = cycle(latch, memory, at(14), slot=MOVED, due=True)
    _, after = cycle(latch, memory, at(15), slot=MOVED, due=False)

    assert (first.at, first.value) == (at(7), FIRST)
    assert waiting.changed and (waiting.at, waiting.value, waiting.current) == (at(7), FIRST, MOVED)
    assert (renewed.set, renewed.at, renewed.value, renewed.changed) == (True, at(14), MOVED, False)
    assert (after.set, after.at, after.value) == (True, at(14), MOVED)


def test_without_renew_when_a_moved_value_stays_remembered_as_it_was():
    latch = compile_latches({"notice": {"when": "due", "value": "slot"}}, ENV)["notice"]
    memory, _ = cycle(latch, None, at(7), due=True)
    _, moved = cycle(latch, memory, at(14), slot=MOVED, due=True)

    assert (moved.at, moved.value, moved.changed) == (at(7), FIRST, True)


def test_a_reset_wins_over_a_renewal():
    latch = compile_latches({"notice": {**RENEWING["notice"], "reset_when": "gone"}}, ENV)["notice"]
    memory, _ = cycle(latch, None, at(7), due=True, gone=False)
    _, state = cycle(latch, memory, at(14), slot=MOVED, due=True, gone=True)

    assert not state.set


def test_a_renewal_that_cannot_be_evaluated_keeps_what_was_remembered_and_says_why():
    latch = compile_latches({"notice": {**RENEWING["notice"], "renew_when": "latches.notice.changed and missing"}}, ENV)["notice"]
    memory, _ = cycle(latch, None, at(7), due=True)
    _, state = cycle(latch, memory, at(14), slot=MOVED, due=True)

    assert (state.set, state.at, state.value) == (True, at(7), FIRST) and "missing" in state.error


def test_renew_when_may_read_its_own_latch_but_another_latch_only_through_the_declared_order():
    moments = compile_moments({"cutoff": "latches.notice.value"}, RENEWING, ENV)

    assert moments.order == ("latches.notice", "dates.cutoff")


@pytest.mark.parametrize(("latches", "message"), [
    ({"notice": {**RENEWING["notice"], "renew_when": "latches.notise.changed"}},
     "latches.notice.renew_when: reads latches.notise, which is not declared (did you mean 'notice'?); "
     "declare it under [latches] or use one that is (the latches are: notice)"),
    ({"notice": {**RENEWING["notice"], "renew_when": 3}},
     "latches.notice.renew_when: expected a condition or a list of conditions, got 3"),
    ({"notice": {"when": "due", "value": "slot", "renew_wen": "x"}},
     "latches.notice: unknown key 'renew_wen' (did you mean 'renew_when'?); a latch has when, value, reset_when, kept_as"),
])
def test_a_bad_renew_when_is_refused_at_load_saying_where(latches, message):
    with pytest.raises(RulesError) as error:
        compile_moments({}, latches, ENV)

    assert str(error.value) == message
