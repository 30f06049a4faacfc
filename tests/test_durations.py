"""Durations with their unit, stepped in the engagement's calendar and zone."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from etiu_worker.errors import RulesError
from etiu_worker.playbook.durations import Duration, TimeFrame, parse_duration
from etiu_worker.engagement.workdays import BusinessCalendar

NEW_YORK = ZoneInfo("America/New_York")
THANKSGIVING = BusinessCalendar(holidays={date(2026, 11, 26), date(2026, 11, 27)})
FRAME = TimeFrame(THANKSGIVING, NEW_YORK)


def local(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=NEW_YORK)


@pytest.mark.parametrize(("text", "expected"), [
    ("2bd", Duration(2, "bd")), ("48h", Duration(48, "h")), ("3d", Duration(3, "d")),
    ("1w", Duration(1, "w")), ("30m", Duration(30, "m")), ("0.5bd", Duration(0.5, "bd")),
    ("-48h", Duration(-48, "h")), (" 2 bd ", Duration(2, "bd")),
])
def test_a_duration_is_a_number_and_its_unit(text, expected):
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["2", "two days", "2 days", "bd", "", "2y", None])
def test_a_duration_without_a_known_unit_is_rejected_saying_how_to_write_one(text):
    with pytest.raises(RulesError) as error:
        parse_duration(text, where="steps.review.duration")

    assert str(error.value) == (
        f"steps.review.duration: {text!r} is not a duration: write a number and a unit, e.g. 2bd "
        "(business days), 48h (hours), 3d (calendar days), 1w (weeks), 30m (minutes)"
    )


@pytest.mark.parametrize(("start", "duration", "end"), [
    # Wednesday before Thanksgiving: Thursday and Friday are holidays, then the weekend.
    (local(2026, 11, 25, 15, 0), "1bd", local(2026, 11, 30, 15, 0)),
    (local(2026, 11, 25, 15, 0), "2bd", local(2026, 12, 1, 15, 0)),
    (local(2026, 12, 1, 15, 0), "-2bd", local(2026, 11, 25, 15, 0)),
    # A start on a Saturday starts counting on Monday at midnight.
    (local(2026, 11, 21, 10, 0), "1bd", local(2026, 11, 24, 0, 0)),
    # Calendar days keep the wall-clock time across the fall-back change; hours do not.
    (local(2026, 10, 31, 18, 0), "1d", local(2026, 11, 1, 18, 0)),
    (local(2026, 10, 31, 18, 0), "24h", local(2026, 11, 1, 17, 0)),
    (local(2026, 11, 24, 18, 0), "-48h", local(2026, 11, 22, 18, 0)),
    (local(2026, 11, 2, 9, 0), "1w", local(2026, 11, 9, 9, 0)),
])
def test_stepping_counts_in_the_engagements_calendar_and_zone(start, duration, end):
    assert FRAME.add(start, parse_duration(duration)) == end


@pytest.mark.parametrize("duration", ["1bd", "2.5bd", "3d", "48h", "90m", "1w"])
def test_counting_undoes_stepping(duration):
    start = local(2026, 11, 24, 15, 30)
    step = parse_duration(duration)

    assert FRAME.elapsed(start, FRAME.add(start, step), step.unit) == pytest.approx(step.amount)


def test_the_share_of_a_duration_passed_is_counted_in_its_unit():
    start = local(2026, 11, 23, 12, 0)  # Monday noon; 2bd ends Wednesday noon

    assert FRAME.share(start, local(2026, 11, 24, 12, 0), parse_duration("2bd")) == pytest.approx(0.5)
    # Half of Monday, Tuesday, Wednesday, Thanksgiving off, half of the next Monday: 3bd.
    assert FRAME.share(start, local(2026, 11, 30, 12, 0), parse_duration("2bd")) == pytest.approx(1.5)
