"""The business calendar: weekends and holidays are skipped, counting agrees with stepping, and
everything is counted on the client's wall clock, daylight-saving changes included."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from etiu_worker.engagement.roadmap import ProdUpgrade, parse_short_description, prod_upgrade_to_utc
from etiu_worker.engagement.workdays import BusinessCalendar
from roadmap_helpers import ETIU_LABELS

NEW_YORK = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")
SYDNEY = ZoneInfo("Australia/Sydney")

PLAIN = BusinessCalendar()
THANKSGIVING = date(2026, 11, 26)
# Christmas Day is a Friday in 2026; Boxing Day falls on Saturday and is observed on Monday.
YEAR_END = BusinessCalendar(holidays=frozenset({date(2026, 12, 25), date(2026, 12, 28), date(2027, 1, 1)}))


def days(*specs: tuple[int, int, int]) -> list[date]:
    return [date(*spec) for spec in specs]


def test_saturday_sunday_and_holidays_are_not_business_days():
    calendar = BusinessCalendar(holidays={THANKSGIVING})

    assert calendar.is_business_day(date(2026, 11, 27))  # Friday
    assert not calendar.is_business_day(date(2026, 11, 28))  # Saturday
    assert not calendar.is_business_day(date(2026, 11, 29))  # Sunday
    assert not calendar.is_business_day(THANKSGIVING)


def test_a_friday_and_saturday_weekend_can_be_configured():
    gulf = BusinessCalendar(weekend=frozenset({4, 5}))

    assert gulf.is_business_day(date(2026, 11, 29))  # Sunday
    assert not gulf.is_business_day(date(2026, 11, 27))  # Friday


def test_adding_business_days_skips_the_weekend_both_ways():
    friday, monday = date(2026, 11, 20), date(2026, 11, 23)

    assert PLAIN.add_business_days(friday, 1) == monday
    assert PLAIN.add_business_days(monday, -1) == friday
    assert PLAIN.add_business_days(friday, 6) == date(2026, 11, 30)


def test_adding_zero_business_days_keeps_a_business_day_and_rolls_a_weekend_to_monday():
    assert PLAIN.add_business_days(date(2026, 11, 24), 0) == date(2026, 11, 24)
    assert PLAIN.add_business_days(date(2026, 11, 21), 0) == date(2026, 11, 23)


def test_stepping_from_a_weekend_day_counts_from_the_next_business_day():
    saturday = date(2026, 11, 21)

    assert PLAIN.add_business_days(saturday, 1) == date(2026, 11, 23)
    assert PLAIN.add_business_days(saturday, -1) == date(2026, 11, 20)


def test_business_days_between_counts_after_start_up_to_and_including_end():
    monday, wednesday = date(2026, 11, 23), date(2026, 11, 25)

    assert PLAIN.business_days_between(monday, wednesday) == 2
    assert PLAIN.business_days_between(monday, monday) == 0
    assert PLAIN.business_days_between(date(2026, 11, 20), date(2026, 11, 22)) == 0  # Friday to Sunday
    assert PLAIN.business_days_between(wednesday, monday) == -2


def test_counting_business_days_undoes_adding_them():
    rng = random.Random(2026)
    holidays = {date(2026, 1, 1) + timedelta(days=rng.randrange(730)) for _ in range(40)}
    calendar = BusinessCalendar(holidays=holidays)
    for _ in range(2_000):
        day = date(2026, 1, 1) + timedelta(days=rng.randrange(730))
        n = rng.randrange(-30, 31)
        if n == 0 and not calendar.is_business_day(day):
            continue  # zero steps from a non-business day rolls forward, by design

        assert calendar.business_days_between(day, calendar.add_business_days(day, n)) == n, (day, n)


def test_business_days_after_lists_the_next_days_strictly_after():
    friday = date(2026, 11, 20)

    assert PLAIN.business_days_after(friday, 3) == days((2026, 11, 23), (2026, 11, 24), (2026, 11, 25))
    assert PLAIN.business_days_after(friday, 0) == []
    with pytest.raises(ValueError):
        PLAIN.business_days_after(friday, -1)


def test_the_support_week_is_the_five_business_days_after_the_prod_upgrade():
    assert PLAIN.business_days_after(date(2026, 11, 24), 5) == days(
        (2026, 11, 25), (2026, 11, 26), (2026, 11, 27), (2026, 11, 30), (2026, 12, 1)
    )


def test_a_holiday_inside_the_support_week_pushes_it_out_by_a_day():
    calendar = BusinessCalendar(holidays={THANKSGIVING})

    week = calendar.business_days_after(date(2026, 11, 24), 5)

    assert THANKSGIVING not in week
    assert week == days((2026, 11, 25), (2026, 11, 27), (2026, 11, 30), (2026, 12, 1), (2026, 12, 2))


def test_the_christmas_and_new_year_holidays_stretch_the_support_week_over_two_years():
    assert YEAR_END.business_days_after(date(2026, 12, 22), 5) == days(
        (2026, 12, 23), (2026, 12, 24), (2026, 12, 29), (2026, 12, 30), (2026, 12, 31)
    )
    assert YEAR_END.business_days_after(date(2026, 12, 23), 5) == days(
        (2026, 12, 24), (2026, 12, 29), (2026, 12, 30), (2026, 12, 31), (2027, 1, 4)
    )
    assert YEAR_END.business_days_between(date(2026, 12, 24), date(2027, 1, 4)) == 4


@pytest.mark.parametrize(
    ("zone", "saturday_night"),
    [
        (NEW_YORK, "2026-03-07 23:30"),  # the clocks spring forward a few hours later
        (NEW_YORK, "2026-10-31 23:30"),  # and fall back
        (LONDON, "2026-03-28 23:30"),
        (LONDON, "2026-10-24 23:30"),
        (SYDNEY, "2026-10-03 23:30"),  # spring forward in October, the other way round
        (SYDNEY, "2026-04-04 23:30"),
    ],
)
def test_a_prod_upgrade_on_the_saturday_night_of_a_dst_change_is_followed_by_monday_to_friday(
    zone, saturday_night
):
    prod = parse_short_description(f"Acme | Prod upgrade: {saturday_night}", ETIU_LABELS).roadmap.prod_upgrade
    planned_start = prod_upgrade_to_utc(prod, zone)  # as the change request stores it

    # The worker reads the planned start back from UTC: the day is the client's day.
    local_day = planned_start.astimezone(zone).date()
    week = PLAIN.business_days_after(local_day, 5)

    assert local_day == prod.local.date()
    assert [day.strftime("%a") for day in week] == ["Mon", "Tue", "Wed", "Thu", "Fri"]
    assert week[0] == local_day + timedelta(days=2)
    assert ProdUpgrade.from_instant(planned_start, zone).local == prod.local


def local(zone: ZoneInfo, *args: int) -> datetime:
    return datetime(*args, tzinfo=zone)


def test_validation_started_monday_afternoon_is_past_two_business_days_only_after_wednesday_afternoon():
    started = local(NEW_YORK, 2026, 11, 16, 15, 0)

    assert PLAIN.elapsed_business_days(started, local(NEW_YORK, 2026, 11, 18, 14, 59), NEW_YORK) < 2
    assert PLAIN.elapsed_business_days(started, local(NEW_YORK, 2026, 11, 18, 15, 0), NEW_YORK) == 2
    assert PLAIN.elapsed_business_days(started, local(NEW_YORK, 2026, 11, 18, 15, 1), NEW_YORK) > 2


def test_the_weekend_does_not_count_as_validation_time():
    friday_afternoon = local(LONDON, 2026, 11, 20, 15, 0)

    assert PLAIN.elapsed_business_days(friday_afternoon, local(LONDON, 2026, 11, 22, 23, 0), LONDON) == 9 / 24
    assert PLAIN.elapsed_business_days(friday_afternoon, local(LONDON, 2026, 11, 23, 15, 0), LONDON) == 1


@pytest.mark.parametrize(
    ("zone", "friday"),
    [
        (NEW_YORK, date(2026, 3, 6)),  # a 71-hour weekend
        (NEW_YORK, date(2026, 10, 30)),  # a 73-hour weekend
        (LONDON, date(2026, 3, 27)),
        (LONDON, date(2026, 10, 23)),
        (SYDNEY, date(2026, 10, 2)),
        (SYDNEY, date(2026, 4, 3)),
    ],
)
def test_friday_afternoon_to_monday_afternoon_is_one_business_day_across_a_dst_change(zone, friday):
    start = datetime.combine(friday, datetime.min.time()).replace(hour=15, tzinfo=zone)
    monday = start + timedelta(days=3)  # same wall-clock time: Python adds to the wall clock

    start_utc, monday_utc = start.astimezone(timezone.utc), monday.astimezone(timezone.utc)
    assert monday_utc - start_utc != timedelta(days=3)  # the weekend really is 71 or 73 hours

    assert PLAIN.elapsed_business_days(start_utc, monday_utc, zone) == 1


def test_a_start_on_the_weekend_counts_from_monday_morning():
    saturday = local(NEW_YORK, 2026, 11, 21, 10, 0)

    assert PLAIN.elapsed_business_days(saturday, local(NEW_YORK, 2026, 11, 23, 0, 0), NEW_YORK) == 0
    assert PLAIN.elapsed_business_days(saturday, local(NEW_YORK, 2026, 11, 23, 12, 0), NEW_YORK) == 0.5


def test_holidays_do_not_count_as_validation_time():
    calendar = BusinessCalendar(holidays={THANKSGIVING})
    wednesday = local(NEW_YORK, 2026, 11, 25, 12, 0)

    assert calendar.elapsed_business_days(wednesday, local(NEW_YORK, 2026, 11, 27, 12, 0), NEW_YORK) == 1


def test_elapsed_days_are_counted_on_the_clients_clock_not_utc():
    # Friday 23:00 UTC is already Saturday 10:00 in Sydney: nothing of the weekend counts there.
    friday_night_utc = datetime(2026, 11, 20, 23, 0, tzinfo=timezone.utc)
    sunday_night_utc = datetime(2026, 11, 22, 23, 0, tzinfo=timezone.utc)

    # In Sydney that is Monday 00:00 to 10:00; in UTC, Friday 23:00 to midnight.
    assert PLAIN.elapsed_business_days(friday_night_utc, sunday_night_utc, SYDNEY) == 10 / 24
    assert PLAIN.elapsed_business_days(friday_night_utc, sunday_night_utc, ZoneInfo("UTC")) == 1 / 24


def test_now_before_start_is_no_elapsed_time():
    start = local(NEW_YORK, 2026, 11, 18, 15, 0)

    assert PLAIN.elapsed_business_days(start, start - timedelta(hours=30), NEW_YORK) == 0


def test_a_naive_instant_is_refused_because_its_zone_would_be_a_guess():
    with pytest.raises(ValueError, match="aware"):
        PLAIN.elapsed_business_days(datetime(2026, 11, 16, 15, 0), local(NEW_YORK, 2026, 11, 18), NEW_YORK)


def test_a_datetime_where_a_day_belongs_is_refused_because_it_never_matches_a_holiday():
    with pytest.raises(TypeError):
        BusinessCalendar(holidays={THANKSGIVING}).is_business_day(datetime(2026, 11, 26, 9, 0))
    with pytest.raises(TypeError):
        BusinessCalendar(holidays={datetime(2026, 11, 26)})


@pytest.mark.parametrize("weekend", [frozenset(range(7)), frozenset({7})])
def test_a_weekend_that_is_not_made_of_weekdays_or_leaves_no_business_day_is_refused(weekend):
    with pytest.raises(ValueError):
        BusinessCalendar(weekend=weekend)


def test_a_calendar_is_a_hashable_value():
    assert BusinessCalendar(holidays=[THANKSGIVING]) == BusinessCalendar(holidays={THANKSGIVING})
    assert hash(BusinessCalendar(holidays=[THANKSGIVING])) == hash(BusinessCalendar(holidays={THANKSGIVING}))
