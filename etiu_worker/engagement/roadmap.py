"""The roadmap a record carries in its short description: parse it, and write it back.

A pack may keep the engagement's dates in its records' short descriptions, and whoever changes a
date must update them. What the worker writes looks like ``<title> | <label>: <value> | ...``,
for example ``Acme, Inc. | Go-live: 2027-01-12 09:00 CET | Hypercare: 2027-01-13 - 2027-01-19``.

Grammar (labels case-insensitive, extra spaces everywhere tolerated):

* Text before the first label is the ticket's title; trailing spaces, ``| ; ,`` and dashes are
  stripped from it. Commas and pipes inside the title are therefore harmless.
* A label is one of the pack's declared spellings followed by ``:``, optionally with the word
  ``date`` before the colon (``Go-live date:``). The pack declares the fields, their labels,
  aliases and types (``[checks.roadmap_sync.labels]``, read by ``roadmap_labels``).

* Fields are separated by ``|``, ``;`` or ``,``, come in any order, and may be missing. A
  forgotten separator is tolerated: a known label always starts a new field.
* Values, by the field's type: a date is ``YYYY-MM-DD`` (``/`` accepted for ``-``). A local
  datetime is the client's wall-clock time, ``YYYY-MM-DD HH:MM`` (``6:00 PM``
  accepted), optionally followed by a zone label: an abbreviation as the zone spells it (EST,
  BST, AEDT), a generic one (ET, CT, MT, PT, AET) or a UTC offset (``UTC+11``, ``GMT-3``,
  ``UTC+5:30``). A date-or-range is its first day; a range ``2026-11-25 - 2026-12-01`` is
  accepted and keeps its first day.
* ``TBD``, ``TBA``, ``TBC``, ``N/A``, ``?`` or nothing after a label means "not set" (and is
  not written back: an unset field is omitted). Any other value that does not parse is a
  ``RoadmapError`` naming the label, the value and the expected form.
* The same field twice with two different dates is an error; a placeholder never conflicts.
* Any other text after the first label (``Owner: Aja``) is kept as an *extra*, one per run of
  text between two fields, and written back after the dates.

Writing puts the fields in the labels' order, omits unset ones, appends the extras, and fits the
whole into ``max_length`` by shortening the title only: a date is never dropped or shortened.

The work is split: ``roadmap_labels`` (the declared labels), ``roadmap_fields`` (the ``Roadmap``),
``roadmap_prod`` (a local datetime and time zones) and ``roadmap_format`` (writing). This module parses, and
re-exports their public names: callers import everything from here.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, NamedTuple

from ..errors import RoadmapError
from .roadmap_fields import (
    DEFAULT_MAX_LENGTH,
    ELLIPSIS,
    FIELD_SEPARATOR,
    PLACEHOLDERS,
    Roadmap,
    _clean_extra,
    _clean_title,
    _quote,
)
from .roadmap_format import format_short_description
from .roadmap_labels import DATE_OR_RANGE, LOCAL_DATETIME, Label, RoadmapLabels, load_labels
from .roadmap_prod import (
    _OFFSET_ZONE,
    _ZONE_SHAPE,
    GENERIC_ZONE_LABELS,
    ProdUpgrade,
    _offset_of,
    prod_upgrade_to_utc,
    zone_abbreviation,
)

__all__ = [
    "DEFAULT_MAX_LENGTH", "ELLIPSIS", "FIELD_SEPARATOR", "GENERIC_ZONE_LABELS", "PLACEHOLDERS",
    "Label", "ProdUpgrade", "Roadmap", "RoadmapError", "RoadmapLabels", "ShortDescription",
    "format_short_description", "load_labels", "parse_short_description", "prod_upgrade_to_utc", "zone_abbreviation",
]

_DATE_FORM = "YYYY-MM-DD"
_WALL_TIME_FORM = "YYYY-MM-DD HH:MM, optionally followed by a zone such as EST or UTC+11"

_DATE_SHAPE = r"[0-9]{4}[-/][0-9]{1,2}[-/][0-9]{1,2}"
_DATE = re.compile(r"(?P<year>[0-9]{4})[-/](?P<month>[0-9]{1,2})[-/](?P<day>[0-9]{1,2})")
_DATE_RANGE = re.compile(
    rf"(?P<first>{_DATE_SHAPE})\s*(?:[-–—]|to|through|until)\s*(?P<last>{_DATE_SHAPE})",
    re.IGNORECASE,
)
_WALL_TIME = re.compile(
    rf"(?P<date>{_DATE_SHAPE})(?:\s+|\s*T\s*)(?P<hour>[0-9]{{1,2}}):(?P<minute>[0-9]{{2}})"
    r"(?:\s*(?P<meridiem>[ap])\.?m\.?)?"
    rf"(?:\s*\(?\s*(?P<zone>{_ZONE_SHAPE})\s*\)?)?",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class ShortDescription:
    """A short description read: the title before the first label, the roadmap, the other text."""

    title: str
    roadmap: Roadmap
    extras: tuple[str, ...] = ()

    def render(self, *, max_length: int = DEFAULT_MAX_LENGTH) -> str:
        return format_short_description(
            self.title, self.roadmap, max_length=max_length, extras=self.extras
        )


# --- parsing -------------------------------------------------------------------------------


# Parsed short descriptions by (text, labels): a cycle reads each carrier's text several times,
# and every cycle the same texts again. A ShortDescription is immutable, so sharing one is safe;
# a text that does not parse keeps its error's arguments, and each caller gets a fresh error.
PARSE_CACHE_SIZE = 32_768


def parse_short_description(text: str, labels: RoadmapLabels) -> ShortDescription:
    """Split a short description into its title, roadmap (of ``labels``) and extras, or raise
    ``RoadmapError``."""
    if not isinstance(text, str):
        raise TypeError(f"a short description is a str, got {type(text).__name__}")
    parsed = _cached_parse(text, labels)
    if isinstance(parsed, ShortDescription):
        return parsed
    kind, args = parsed
    raise kind(*args)


@functools.lru_cache(maxsize=PARSE_CACHE_SIZE)
def _cached_parse(text: str, labels: RoadmapLabels) -> ShortDescription | tuple[type[RoadmapError], tuple[Any, ...]]:
    try:
        return _parse(text, labels)
    except RoadmapError as error:
        return type(error), error.args


def _parse(text: str, labels: RoadmapLabels) -> ShortDescription:
    first = labels.matcher.search(text)
    if first is None:
        return ShortDescription(_clean_title(text), Roadmap(labels), ())
    values: dict[str, Any] = {}
    extras: list[str] = []
    for part in _parts(text, first.start(), labels):
        if isinstance(part, str):
            extras.append(part)
            continue
        value = _parse_value(part.field, text, part.value_start, part.value_end)
        if value is None:
            continue
        _refuse_second_value(part, values.get(part.field.name), value, text)
        values[part.field.name] = value
    return ShortDescription(_clean_title(text[: first.start()]), Roadmap(labels, **values), tuple(extras))


def _refuse_second_value(part: _Labelled, before: Any, value: Any, text: str) -> None:
    if before not in (None, value):
        title = part.field.title
        raise RoadmapError(f"{title} is given twice, as {before} and {value}", text, part.label_start, f"one {title} value")


class _Labelled(NamedTuple):
    field: Label
    label_start: int
    value_start: int
    value_end: int


@functools.lru_cache(maxsize=32)
def _tokens(labels: RoadmapLabels) -> re.Pattern[str]:
    return re.compile(r"(?P<separator>[|;,])|" + labels.pattern, re.IGNORECASE)


def _parts(text: str, start: int, labels: RoadmapLabels) -> Iterator[_Labelled | str]:
    """Walk the text from the first label: each labelled field, and each run of other text.

    A value ends at the first separator or label; other text (an extra) runs on to the next
    label, so that separators inside it (``Owner: Aja, Bob``) are kept as written.
    """
    field: tuple[Label, int, int] | None = None  # the open field: its label, label start, value start
    extra_start: int | None = None
    by_name = {label.name: label for label in labels.fields}
    for token in _tokens(labels).finditer(text, start):
        if token.group("separator") is not None:
            if field is not None:
                yield _Labelled(*field, token.start())
                field, extra_start = None, token.end()
            continue
        if field is not None:
            yield _Labelled(*field, token.start())
        elif extra_start is not None:
            yield from _extra(text[extra_start : token.start()])
        field, extra_start = (by_name[labels.field_of(token)], token.start(), token.end()), None
    if field is not None:
        yield _Labelled(*field, len(text))
    elif extra_start is not None:
        yield from _extra(text[extra_start:])


def _extra(run: str) -> Iterator[str]:
    extra = _clean_extra(run)
    if extra:
        yield extra


def _parse_value(field: Label, text: str, start: int, end: int) -> date | ProdUpgrade | None:
    raw = text[start:end]
    value = raw.strip()
    position = start + (len(raw) - len(raw.lstrip()))
    if value.lower() in PLACEHOLDERS:
        return None
    if field.type == LOCAL_DATETIME:
        return _parse_wall_time(field.title, value, text, position)
    if field.type == DATE_OR_RANGE and (week := _DATE_RANGE.fullmatch(value)):
        return _parse_range_start(field.title, week, text, position)
    return _parse_date(field.title, value, text, position)


def _parse_date(
    label: str, value: str, text: str, position: int, *, expected: str = "", whole: str = ""
) -> date:
    """The date in ``value``; an error names ``whole``, the full value, when ``value`` is a part."""
    expected = expected or f"{label}: {_DATE_FORM} (or TBD)"
    named = f"{label} {_quote(whole or value)}"
    match = _DATE.fullmatch(value)
    if match is None:
        raise RoadmapError(f"{named} is not a date", text, position, expected)
    try:
        return date(int(match["year"]), int(match["month"]), int(match["day"]))
    except ValueError as exc:
        raise RoadmapError(f"{named} is not a real date ({exc})", text, position, expected) from None


def _parse_range_start(label: str, week: re.Match[str], text: str, position: int) -> date:
    first = _parse_date(label, week["first"], text, position + week.start("first"))
    last = _parse_date(label, week["last"], text, position + week.start("last"))
    if last < first:
        raise RoadmapError(
            f"{label} {_quote(week.group())} ends before it starts",
            text, position, f"{label}: {_DATE_FORM}, its first day",
        )
    return first


def _parse_wall_time(label: str, value: str, text: str, position: int) -> ProdUpgrade:
    expected = f"{label}: {_WALL_TIME_FORM}"
    match = _WALL_TIME.fullmatch(value)
    if match is None:
        problem = "has no time" if _DATE.fullmatch(value) else "is not a date and time"
        raise RoadmapError(f"{label} {_quote(value)} {problem}", text, position, expected)
    day = _parse_date(label, match["date"], text, position, expected=expected, whole=value)
    hour, minute = _hour_of(match), int(match["minute"])
    if hour is None or not (0 <= hour <= 23 and 0 <= minute <= 59):
        raise RoadmapError(
            f"{label} {_quote(value)} is not a real time of day",
            text, position + match.start("hour"), expected,
        )
    zone = match["zone"]
    if zone is not None and _OFFSET_ZONE.fullmatch(zone) and _offset_of(zone) is None:
        raise RoadmapError(
            f"{label} zone {_quote(zone)} is not a real UTC offset",
            text, position + match.start("zone"), "an offset between UTC-14 and UTC+14",
        )
    return ProdUpgrade(datetime(day.year, day.month, day.day, hour, minute), zone)


def _hour_of(match: re.Match[str]) -> int | None:
    """The 24-hour hour, or ``None`` when a 12-hour clock reading is impossible (``13:00 PM``)."""
    hour = int(match["hour"])
    meridiem = (match["meridiem"] or "").lower()
    if not meridiem:
        return hour
    if not 1 <= hour <= 12:
        return None
    return hour % 12 + (12 if meridiem == "p" else 0)
