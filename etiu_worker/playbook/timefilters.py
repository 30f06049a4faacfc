"""Time arithmetic for conditions and templates, in the engagement's calendar and zone.

``slot | minus('48h')``, ``slot | local_day | at('13:00')``, ``bd_range(prod_day, 5)``: each
reads ``calendar`` and ``zone`` from the context it runs in, so a pack says what it means
without Python. A missing value (none) passes through as none: ``x | minus('48h')`` on a date
that is not set is none, and a condition decides what none means (``x is none or …``).
"""

from __future__ import annotations

import inspect
import re
from datetime import date, datetime, time, timedelta
from typing import Any, Callable
from zoneinfo import ZoneInfo

from jinja2 import pass_context
from jinja2.runtime import Context, Undefined

from ..errors import RulesError
from ..engagement.workdays import BusinessCalendar
from .dayrange import DayRange, local_date, wall_instant
from .durations import Duration, TimeFrame, parse_duration

_WALL_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


def _frame(context: Context, filter_name: str) -> TimeFrame:
    calendar, zone = context.get("calendar"), context.get("zone")
    if not isinstance(calendar, BusinessCalendar) or not isinstance(zone, ZoneInfo):
        raise ValueError(f"{filter_name} reads the engagement's calendar and zone, which this place does not have")
    return TimeFrame(calendar, zone)


def duration_of(amount: Any, unit: str | None = None, where: str = "duration") -> Duration | None:
    """``'2bd'``, or an amount and its unit (``qa_days, 'bd'``); none when the amount is none."""
    if amount is None:
        return None
    if isinstance(amount, Duration) and unit is None:
        return amount
    text = amount if unit is None else f"{amount}{unit}"
    try:
        return parse_duration(text, where)
    except RulesError as error:  # at evaluation: a ValueError, which a condition records
        raise ValueError(str(error)) from None


def wall_time(text: Any, where: str = "at") -> time:
    """``'13:00'`` as a time of day; ValueError saying how to write one otherwise."""
    found = _WALL_TIME.match(str(text)) if isinstance(text, str) else None
    if not found:
        raise ValueError(f"{where}: {text!r} is not a time of day: write hours and minutes on a 24-hour clock, e.g. '13:00'")
    return time(int(found.group(1)), int(found.group(2)))


def _strict(*values: Any) -> None:
    """Fail with Jinja's own words (``'None' has no attribute 'last'``) on a value that is undefined."""
    for value in values:
        if isinstance(value, Undefined):
            value._fail_with_undefined_error()


def _step(context: Context, value: Any, amount: Any, unit: str | None, sign: int, name: str) -> Any:
    _strict(value, amount)
    duration = duration_of(amount, unit, name)
    if value is None or duration is None:
        return None
    if isinstance(value, date) and not isinstance(value, datetime):
        _require_whole_days(value, duration, name)
    frame = _frame(context, name)
    step = duration if sign > 0 else -duration
    try:
        if isinstance(value, datetime):
            return frame.add(_aware(value, name), step)
        if isinstance(value, date):
            return _step_day(frame, value, step)
    except OverflowError:  # a condition records a ValueError; an OverflowError would stop the cycle
        raise ValueError(f"{name}('{duration}') from {value.isoformat()} falls outside the calendar (years 1 to 9999)") from None
    raise TypeError(f"{name} steps a date or a datetime, got {type(value).__name__} {value!r}")


def _require_whole_days(day: date, duration: Duration, name: str) -> None:
    """A date has no time of day: it steps by whole days only."""
    if duration.unit in ("m", "h") or not float(duration.amount).is_integer():
        raise ValueError(f"{name}('{duration}') on the date {day.isoformat()}: a date has no time of day; "
                         "step whole days (d, w, bd), or give it one first with | at('HH:MM')")


def _step_day(frame: TimeFrame, day: date, duration: Duration) -> date:
    days = int(duration.amount)
    if duration.unit == "bd":
        return frame.calendar.add_business_days(day, days)
    return day + timedelta(days=days * (7 if duration.unit == "w" else 1))


def _aware(value: datetime, name: str) -> datetime:
    if value.utcoffset() is None:
        raise ValueError(f"{name}: {value.isoformat()} has no time zone, so it is not an instant")
    return value


@pass_context
def plus(context: Context, value: Any, amount: Any, unit: str | None = None) -> Any:
    """`x | plus('2bd')` or `x | plus(n, 'bd')`: later by a duration (m, h elapsed; d, w on the wall
    clock; bd business days)."""
    return _step(context, value, amount, unit, 1, "plus")


@pass_context
def minus(context: Context, value: Any, amount: Any, unit: str | None = None) -> Any:
    """`x | minus('48h')`: earlier by a duration, counted as `plus` counts."""
    return _step(context, value, amount, unit, -1, "minus")


@pass_context
def local_day(context: Context, value: Any) -> date | None:
    """`x | local_day`: the date of a datetime on the engagement's wall clock (a date stays as it is)."""
    _strict(value)
    if value is None:
        return None
    return local_date(value, _frame(context, "local_day").zone)


@pass_context
def at(context: Context, value: Any, clock: str) -> datetime | None:
    """`x | at('13:00')`: a date, or a datetime's local day, at that wall time in the engagement's zone
    (an instant); on a daylight-saving day a time that does not exist moves forward by the gap, one
    that exists twice is the first."""
    _strict(value, clock)
    if value is None:
        return None
    zone = _frame(context, "at").zone
    return wall_instant(datetime.combine(local_date(value, zone), wall_time(clock)), zone)


@pass_context
def business_days_between(context: Context, start: Any, end: Any) -> int | None:
    """`business_days_between(a, b)`: business days after day a up to and including day b (negative
    when b is earlier), reading datetimes as local days."""
    _strict(start, end)
    if start is None or end is None:
        return None
    frame = _frame(context, "business_days_between")
    return frame.calendar.business_days_between(local_date(start, frame.zone), local_date(end, frame.zone))


@pass_context
def bd_range(context: Context, day: Any, n: Any) -> DayRange | None:
    """`bd_range(day, n)`: the n business days after a day (a datetime's local day), a holiday pushing
    its end out; supports `x in r`, `r.contains(x)`, `r.first`, `r.last`, `r.start`, `r.end`."""
    _strict(day, n)
    if day is None or n is None:
        return None
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"bd_range: {n!r} is not a number of days: give a whole number of at least 1")
    frame = _frame(context, "bd_range")
    return DayRange(tuple(frame.calendar.business_days_after(local_date(day, frame.zone), n)), frame.zone)


FILTERS: dict[str, Callable[..., Any]] = {"plus": plus, "minus": minus, "local_day": local_day, "at": at}
GLOBALS: dict[str, Callable[..., Any]] = {"business_days_between": business_days_between, "bd_range": bd_range}


def register_time(env: Any) -> None:
    """Give a Jinja environment the time filters and functions."""
    env.filters.update(FILTERS)
    env.globals.update(GLOBALS)


def time_reference() -> list[str]:
    """The README's lines about time arithmetic, one per filter or function, from their docstrings."""
    return [_line(function) for function in (*FILTERS.values(), *GLOBALS.values())]


def _line(function: Callable[..., Any]) -> str:
    text = inspect.getdoc(function) or ""
    if not text:
        raise LookupError(f"{function.__name__} has no docstring: say what it means for admins")
    usage, _, meaning = text.partition(": ")
    return f"- {usage}: {' '.join(meaning.split())}"


def explain_comparison(error: Exception) -> str:
    """A condition's TypeError said for admins: comparing with none names what to write instead."""
    text = str(error)
    if "NoneType" in text and "not supported between" in text:
        operator = text.split("'")[1]
        return (f"{operator!r} compares with none (a date or value that is not set): "
                "test it first, e.g. `x is not none and now >= x`")
    return f"{type(error).__name__}: {text}"
