"""A pack's named dates: compiled at load, computed for an engagement in the order they read each other."""

from __future__ import annotations

from datetime import date, datetime, timezone
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from etiu_worker.errors import RulesError
from etiu_worker.playbook.evaluate import evaluate_conditions
from etiu_worker.playbook.dates import Deadline, compile_dates, failures, next_deadline
from etiu_worker.playbook.dayrange import DayRange
from etiu_worker.playbook.rules import Condition
from etiu_worker.playbook.templates import make_environment
from etiu_worker.engagement.workdays import BusinessCalendar

NEW_YORK = ZoneInfo("America/New_York")
THANKSGIVING = BusinessCalendar(holidays={date(2026, 11, 26), date(2026, 11, 27)})
ENV = make_environment()
UPGRADE_DATES = {
    # Declared before the date it reads: the order comes from the reads, not the table.
    "notice_by": "dates.cutoff | minus('48h')",
    "cutoff": "slot | local_day | at('13:00')",
    "support_week": "bd_range(slot, 5)",
    # A range that is not set has no last day: say what it is then.
    "acceptance_due": "dates.support_week.last | plus('1bd') if dates.support_week else none",
}


def local(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=NEW_YORK)


def context(**names):
    return {"calendar": THANKSGIVING, "zone": NEW_YORK, "now": local(2026, 11, 20, 9, 0), **names}


def upgrade_dates(slot):
    return compile_dates(UPGRADE_DATES, ENV).evaluate(context(slot=slot))


def holds(condition: str, ctx) -> tuple[bool, str]:
    compiled = Condition(condition, "test", ENV.compile_expression(condition, undefined_to_none=False))
    [result] = evaluate_conditions(SimpleNamespace(env=ENV), (compiled,), ctx)
    return result.value, result.error


def test_dates_are_computed_after_the_dates_they_read_in_the_engagements_calendar_and_zone():
    # Tuesday 24 Nov, 20:00 in New York; Thanksgiving Thursday and Friday are off.
    values = upgrade_dates(datetime(2026, 11, 25, 1, 0, tzinfo=timezone.utc))

    assert values == {
        "notice_by": local(2026, 11, 22, 13, 0),
        "cutoff": local(2026, 11, 24, 13, 0),
        "support_week": DayRange((date(2026, 11, 25), date(2026, 11, 30), date(2026, 12, 1), date(2026, 12, 2),
                                  date(2026, 12, 3)), NEW_YORK),
        "acceptance_due": date(2026, 12, 4),
    }


def test_a_notice_48_hours_before_a_cutoff_after_the_clocks_fall_back_is_an_hour_later_on_the_wall():
    # The clocks fall back on Sunday 1 November 2026: 48 hours before Monday 13:00 EST is Saturday 14:00 EDT.
    values = upgrade_dates(local(2026, 11, 2, 9, 0))

    assert values["notice_by"].astimezone(NEW_YORK).strftime("%a %H:%M %Z") == "Sat 14:00 EDT"


@pytest.mark.parametrize(("now", "reached"), [
    (local(2026, 11, 24, 12, 59), False), (local(2026, 11, 24, 13, 0), True), (local(2026, 11, 24, 13, 1), True),
])
def test_a_1300_cutoff_is_reached_at_1300_local_exactly_and_after(now, reached):
    slot = local(2026, 11, 24, 22, 0)
    dates = upgrade_dates(slot)

    assert holds("now >= dates.cutoff", {**context(slot=slot), "dates": dates, "now": now.astimezone(timezone.utc)}) == (reached, "")


def test_a_slot_that_is_not_set_gives_dates_that_are_none_and_a_clear_error_where_compared():
    dates = upgrade_dates(None)

    assert dates == {"notice_by": None, "cutoff": None, "support_week": None, "acceptance_due": None}
    assert holds("dates.cutoff is none", {**context(), "dates": dates}) == (True, "")
    assert holds("now >= dates.cutoff", {**context(), "dates": dates}) == (
        False, "TypeError: '>=' not supported between instances of 'datetime.datetime' and 'NoneType'")


def test_a_date_that_cannot_be_computed_fails_only_the_conditions_that_read_it_naming_it():
    values = compile_dates({"cutoff": "slot | at('13:00')", "today_noon": "today | at('12:00')"}, ENV).evaluate(
        context(slot="next Tuesday", today=date(2026, 11, 24)))
    ctx = {**context(), "dates": values}

    assert values["today_noon"] == local(2026, 11, 24, 12, 0)
    message = "dates.cutoff could not be evaluated: TypeError: expected a date or a datetime, got str 'next Tuesday'"
    assert failures(values) == {"cutoff": message}
    assert holds("now >= dates.cutoff", ctx) == (False, f"UndefinedError: {message}")
    assert holds("dates.cutoff is none", ctx) == (False, f"UndefinedError: {message}")
    assert holds("now < dates.today_noon", ctx) == (True, "")


@pytest.mark.parametrize(("source", "message"), [
    ("week.last | plus('1bd')", "dates.cutoff could not be evaluated: UndefinedError: 'None' has no attribute 'last'"),
    ("'next Tuesday'", "dates.cutoff could not be evaluated: TypeError: it is str 'next Tuesday', not a date, "
                       "a datetime or a range of days"),
    ("naive", "dates.cutoff could not be evaluated: ValueError: 2026-11-24T13:00:00 has no time zone"),
])
def test_a_date_that_is_not_a_date_says_what_it_is(source, message):
    values = compile_dates({"cutoff": source}, ENV).evaluate(context(naive=datetime(2026, 11, 24, 13, 0), week=None))

    assert failures(values) == {"cutoff": message}


@pytest.mark.parametrize(("table", "message"), [
    ({"cutoff": "slot | local_day | at('13:00'"},
     "dates.cutoff: \"slot | local_day | at('13:00'\" does not compile: unexpected end of template, expected ','."),
    ({"cutoff": "slot | lcoal_day"},
     "dates.cutoff: 'slot | lcoal_day' does not compile: No filter named 'lcoal_day'. Did you mean 'local_day'?"),
    ({"cutoff": "slot | at('13:00')", "notice_by": "dates.cutof | minus('48h')"},
     "dates.notice_by: reads dates.cutof, which is not declared (did you mean 'cutoff'?); declare it under [dates] "
     "or use one that is (the dates are: cutoff, notice_by)"),
    ({"x": "latches.notice.value"},
     "dates.x: reads latches.notice, which is not declared; declare it under [latches] or use one that is "
     "(there are no latches)"),
    ({"a": "dates.b | plus('1d')", "b": "dates.a | minus('1d')"},
     "dates.a: reads itself through a cycle: dates.a -> dates.b -> dates.a; "
     "break the cycle so that each one can be computed from the others"),
    ({"a": "dates['a']"},
     "dates.a: reads itself through a cycle: dates.a -> dates.a; break the cycle so that each one can be computed from the others"),
    ({"notice_by": "slot | minus('48 hours')"},
     "dates.notice_by: '48 hours' is not a duration: write a number and a unit, e.g. 2bd (business days), "
     "48h (hours), 3d (calendar days), 1w (weeks), 30m (minutes)"),
    ({"notice_by": "slot | minus(2, 'days')"},
     "dates.notice_by: minus: 'days' is not a unit of duration: use one of m, h, d, w, bd"),
    ({"notice_by": "slot | plus()"}, "dates.notice_by: plus is given the wrong arguments: write x | plus('2bd') or x | plus(n, 'bd')"),
    ({"cutoff": "slot | at('1pm')"},
     "dates.cutoff: at: '1pm' is not a time of day: write hours and minutes on a 24-hour clock, e.g. '13:00'"),
    ({"week": "bd_range(day, 0)"}, "dates.week: bd_range: 0 is not a number of days: give a whole number of at least 1"),
    ({"week": "bd_range(day)"}, "dates.week: bd_range is given the wrong arguments: write bd_range(day, 5)"),
    ({"cutoff": 13}, "dates.cutoff: 13 is not an expression: write it as text, e.g. \"slot | minus('48h')\""),
    ({"next-cycle": "slot"}, "dates.next-cycle: a date's name is letters, digits and _, not starting with a digit"),
    (["cutoff"], "dates: expected a table of name = expression, got ['cutoff']"),
])
def test_a_bad_date_is_refused_at_load_saying_which_and_why(table, message):
    with pytest.raises(RulesError) as error:
        compile_dates(table, ENV)

    assert str(error.value) == message


NOW = local(2026, 11, 24, 12, 0)


@pytest.mark.parametrize(("values", "expected"), [
    ({"notice_by": local(2026, 11, 22, 13, 0), "cutoff": local(2026, 11, 24, 13, 0)},
     Deadline("cutoff", local(2026, 11, 24, 13, 0))),
    # A date falls at its local midnight, a range at its first day's.
    ({"due": date(2026, 11, 25), "cutoff": local(2026, 11, 25, 13, 0)}, Deadline("due", local(2026, 11, 25, 0, 0))),
    ({"week": DayRange((date(2026, 11, 25), date(2026, 11, 30)), NEW_YORK), "due": date(2026, 11, 30)},
     Deadline("week", local(2026, 11, 25, 0, 0))),
    # Not set, passed, or exactly now: not ahead.
    ({"slot": None, "passed": local(2026, 11, 23, 9, 0), "now": NOW}, None),
    # Two at the same instant: the first declared.
    ({"b": local(2026, 11, 25, 9, 0), "a": local(2026, 11, 25, 9, 0)}, Deadline("b", local(2026, 11, 25, 9, 0))),
])
def test_the_next_deadline_is_the_earliest_declared_date_still_ahead(values, expected):
    assert next_deadline(values, NOW, NEW_YORK) == expected


def test_a_date_that_could_not_be_computed_is_no_deadline():
    values = compile_dates({"cutoff": "slot | at('13:00')", "due": "today"}, ENV).evaluate(
        context(slot="soon", today=date(2026, 11, 25)))

    assert next_deadline(values, NOW, NEW_YORK) == Deadline("due", local(2026, 11, 25, 0, 0))
