"""Time arithmetic in conditions and templates, in the engagement's calendar and zone."""

from __future__ import annotations

from datetime import date, datetime, timezone
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from etiu_worker.playbook.evaluate import evaluate_conditions
from etiu_worker.playbook.dayrange import DayRange
from etiu_worker.playbook.timefilters import FILTERS, GLOBALS, explain_comparison, time_reference
from etiu_worker.playbook.rules import Condition
from etiu_worker.playbook.templates import make_environment
from etiu_worker.engagement.workdays import BusinessCalendar

NEW_YORK = ZoneInfo("America/New_York")
THANKSGIVING = BusinessCalendar(holidays={date(2026, 11, 26), date(2026, 11, 27)})
ENV = make_environment()


def local(*parts: int, fold: int = 0) -> datetime:
    return datetime(*parts, tzinfo=NEW_YORK, fold=fold)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=timezone.utc)


def evaluate(expression: str, **names):
    context = {"calendar": THANKSGIVING, "zone": NEW_YORK, **names}
    return ENV.compile_expression(expression, undefined_to_none=False)(**context)


@pytest.mark.parametrize(("expression", "names", "expected"), [
    # New York falls back on 2026-11-01: 48 hours is elapsed time, 2d keeps the wall clock.
    ("slot | minus('48h')", {"slot": local(2026, 11, 2, 9, 0)}, local(2026, 10, 31, 10, 0)),
    ("slot | minus('2d')", {"slot": local(2026, 11, 2, 9, 0)}, local(2026, 10, 31, 9, 0)),
    # Thanksgiving Thursday and Friday are holidays inside the two business days.
    ("slot | plus('2bd')", {"slot": local(2026, 11, 25, 15, 0)}, local(2026, 12, 1, 15, 0)),
    ("slot | plus(days, 'bd')", {"slot": local(2026, 11, 25, 15, 0), "days": 2}, local(2026, 12, 1, 15, 0)),
    ("day | plus('1bd')", {"day": date(2026, 11, 25)}, date(2026, 11, 30)),
    ("day | minus('1w')", {"day": date(2026, 11, 25)}, date(2026, 11, 18)),
    # 03:00 UTC on the 24th is still the 23rd in New York.
    ("slot | local_day", {"slot": utc(2026, 11, 24, 3, 0)}, date(2026, 11, 23)),
    ("slot | local_day | at('13:00')", {"slot": utc(2026, 11, 24, 3, 0)}, local(2026, 11, 23, 13, 0)),
    ("slot | at('13:00')", {"slot": utc(2026, 11, 24, 3, 0)}, local(2026, 11, 23, 13, 0)),
    ("day | at('09:00')", {"day": date(2026, 7, 1)}, local(2026, 7, 1, 9, 0)),
    # Springing forward on 2026-03-08 skips 02:00-03:00: 02:30 moves forward by the gap.
    ("day | at('02:30')", {"day": date(2026, 3, 8)}, utc(2026, 3, 8, 7, 30)),
    # Falling back on 2026-11-01 repeats 01:00-02:00: 01:30 is the first, daylight-saving one.
    ("day | at('01:30')", {"day": date(2026, 11, 1)}, utc(2026, 11, 1, 5, 30)),
    ("business_days_between(start, end)", {"start": date(2026, 11, 25), "end": date(2026, 12, 1)}, 2),
    # A datetime is read as its local day: 03:00 UTC on Dec 1 is Monday Nov 30 in New York.
    ("business_days_between(start, end)", {"start": date(2026, 11, 25), "end": utc(2026, 12, 1, 3, 0)}, 1),
    ("business_days_between(end, start)", {"start": date(2026, 11, 25), "end": date(2026, 12, 1)}, -2),
    ("bd_range(day, 5).days", {"day": date(2026, 11, 24)},
     (date(2026, 11, 25), date(2026, 11, 30), date(2026, 12, 1), date(2026, 12, 2), date(2026, 12, 3))),
    ("bd_range(slot, 2).first", {"slot": utc(2026, 11, 25, 3, 0)}, date(2026, 11, 25)),
    ("bd_range(day, 5).last", {"day": date(2026, 11, 24)}, date(2026, 12, 3)),
    ("bd_range(day, 1).start", {"day": date(2026, 11, 24)}, local(2026, 11, 25, 0, 0)),
    ("bd_range(day, 1).end", {"day": date(2026, 11, 24)}, local(2026, 11, 26, 0, 0)),
    ("moment in bd_range(day, 5)", {"day": date(2026, 11, 24), "moment": date(2026, 11, 27)}, False),
    ("moment in bd_range(day, 5)", {"day": date(2026, 11, 24), "moment": utc(2026, 12, 4, 3, 0)}, True),
    ("bd_range(day, 5).contains(moment)", {"day": date(2026, 11, 24), "moment": utc(2026, 12, 4, 5, 0)}, False),
])
def test_time_arithmetic_counts_in_the_engagements_calendar_and_zone(expression, names, expected):
    assert as_utc(evaluate(expression, **names)) == as_utc(expected)


def as_utc(value):
    # An instant in the repeated hour of a fall-back never equals one in another zone (PEP 495).
    return value.astimezone(timezone.utc) if isinstance(value, datetime) else value


def test_an_instant_at_a_wall_time_is_given_in_the_engagements_zone_for_notes_to_show():
    cutoff = evaluate("day | at('13:00')", day=date(2026, 11, 23))

    assert (cutoff.tzinfo, cutoff.hour, cutoff.minute) == (NEW_YORK, 13, 0)


@pytest.mark.parametrize("expression", [
    "missing | plus('2bd')", "missing | minus('48h')", "missing | local_day", "missing | at('13:00')",
    "missing | local_day | at('13:00') | minus('48h')", "business_days_between(missing, today)",
    "business_days_between(today, missing)", "bd_range(missing, 5)", "today | plus(missing, 'bd')",
])
def test_a_missing_date_passes_through_every_filter_as_none(expression):
    assert evaluate(expression, missing=None, today=date(2026, 11, 24)) is None


def test_nothing_is_inside_a_range_but_its_days():
    days = evaluate("bd_range(day, 2)", day=date(2026, 11, 24))

    assert isinstance(days, DayRange) and len(days) == 2
    assert not days.contains(None)
    assert str(days) == "2026-11-25 to 2026-11-30"


@pytest.mark.parametrize(("expression", "names", "message"), [
    ("day | plus('48h')", {"day": date(2026, 11, 25)},
     "plus('48h') on the date 2026-11-25: a date has no time of day; step whole days (d, w, bd), "
     "or give it one first with | at('HH:MM')"),
    ("day | minus('0.5bd')", {"day": date(2026, 11, 25)},
     "minus('0.5bd') on the date 2026-11-25: a date has no time of day; step whole days (d, w, bd), "
     "or give it one first with | at('HH:MM')"),
    ("day | plus('3000000d')", {"day": date(2026, 11, 25)},
     "plus('3000000d') from 2026-11-25 falls outside the calendar (years 1 to 9999)"),
    ("naive | minus('1h')", {"naive": datetime(2026, 11, 25, 13, 0)},
     "minus: 2026-11-25T13:00:00 has no time zone, so it is not an instant"),
    ("title | plus('2bd')", {"title": "next Tuesday"}, "plus steps a date or a datetime, got str 'next Tuesday'"),
    ("day | plus(period)", {"day": date(2026, 11, 25), "period": "two days"},
     "plus: 'two days' is not a duration: write a number and a unit, e.g. 2bd (business days), 48h (hours), "
     "3d (calendar days), 1w (weeks), 30m (minutes)"),
    ("day | at(clock)", {"day": date(2026, 11, 25), "clock": "1pm"},
     "at: '1pm' is not a time of day: write hours and minutes on a 24-hour clock, e.g. '13:00'"),
    ("bd_range(day, count)", {"day": date(2026, 11, 25), "count": 0},
     "bd_range: 0 is not a number of days: give a whole number of at least 1"),
])
def test_a_value_a_filter_cannot_step_fails_saying_what_to_write(expression, names, message):
    with pytest.raises((ValueError, TypeError)) as error:
        evaluate(expression, **names)

    assert str(error.value) == message


def test_a_filter_outside_an_engagement_says_it_needs_its_calendar_and_zone():
    expression = ENV.compile_expression("day | plus('1bd')", undefined_to_none=False)

    with pytest.raises(ValueError) as error:
        expression(day=date(2026, 11, 25))

    assert str(error.value) == "plus reads the engagement's calendar and zone, which this place does not have"


@pytest.mark.parametrize(("now", "holds"), [
    (local(2026, 11, 23, 12, 59), False), (local(2026, 11, 23, 13, 0), True), (local(2026, 11, 23, 13, 1), True),
])
def test_a_cutoff_at_13_00_local_is_reached_at_13_00_exactly(now, holds):
    assert evaluate("now >= slot | at('13:00')", now=now.astimezone(timezone.utc), slot=utc(2026, 11, 24, 3, 0)) is holds


def test_a_condition_comparing_now_with_a_missing_date_is_recorded_as_not_evaluated_not_raised():
    source = "now >= slot | minus('48h')"
    condition = Condition(source, "test", ENV.compile_expression(source, undefined_to_none=False))
    context = {"calendar": THANKSGIVING, "zone": NEW_YORK, "now": utc(2026, 11, 24), "slot": None}

    [result] = evaluate_conditions(SimpleNamespace(env=ENV), (condition,), context)

    assert result.value is False
    assert result.error == "TypeError: '>=' not supported between instances of 'datetime.datetime' and 'NoneType'"


def test_comparing_with_none_is_explained_with_what_to_write_instead():
    with pytest.raises(TypeError) as error:
        evaluate("now >= missing", now=utc(2026, 11, 24), missing=None)

    assert explain_comparison(error.value) == (
        "'>=' compares with none (a date or value that is not set): test it first, e.g. `x is not none and now >= x`"
    )
    assert explain_comparison(ValueError("other")) == "ValueError: other"


def test_the_reference_lists_every_time_filter_and_function_of_the_environment():
    reference = time_reference()

    assert [line.split("`")[1] for line in reference] == [
        "x | plus('2bd')", "x | minus('48h')", "x | local_day", "x | at('13:00')",
        "business_days_between(a, b)", "bd_range(day, n)",
    ]
    assert all(ENV.filters[name] is FILTERS[name] for name in FILTERS)
    assert all(ENV.globals[name] is GLOBALS[name] for name in GLOBALS)
    assert all(line.startswith("- `") and line.endswith(".") for line in reference)
