"""The roadmap an ETIU ticket carries in its short description: parse it, and write it back.

The playbook keeps the engagement's dates in every ETIU ticket's short description, and
whoever changes a date must update it. What the worker writes looks like::

    Acme, Inc. | Kickoff: 2026-11-02 | Dev upgrade: 2026-11-05 | Prod upgrade: 2026-11-24 18:00 EST | BP: 2026-11-26 | Support week: 2026-11-25

Grammar (labels case-insensitive, extra spaces everywhere tolerated):

* Text before the first label is the ticket's title; trailing spaces, ``| ; ,`` and dashes are
  stripped from it. Commas and pipes inside the title are therefore harmless.
* A label is a known name followed by ``:``, optionally with the word ``date`` before the colon
  (``Kickoff date:``). Known names and their aliases:

  =============  =============================================================
  kickoff        ``Kickoff``, ``Kick-off``, ``Kick off``
  dev_upgrade    ``Dev upgrade``, ``Development upgrade``
  prod_upgrade   ``Prod upgrade``, ``Production upgrade``
  bp             ``BP``, ``Best practice(s)``, either followed by ``session``
  support_week   ``Support week``, ``Support week start``
  =============  =============================================================

* Fields are separated by ``|``, ``;`` or ``,``, come in any order, and may be missing. A
  forgotten separator is tolerated: a known label always starts a new field.
* Values: ``YYYY-MM-DD`` (``/`` accepted for ``-``). The prod upgrade is the client's wall-clock
  time, ``YYYY-MM-DD HH:MM`` (``6:00 PM`` accepted), optionally followed by a zone label: an
  abbreviation as the zone spells it (EST, BST, AEDT), a generic one (ET, CT, MT, PT, AET) or a
  UTC offset (``UTC+11``, ``GMT-3``, ``UTC+5:30``). The support week is its first day; a range
  ``2026-11-25 - 2026-12-01`` is accepted and keeps its first day.
* ``TBD``, ``TBA``, ``TBC``, ``N/A``, ``?`` or nothing after a label means "not set" (and is
  not written back: an unset field is omitted). Any other value that does not parse is a
  ``RoadmapError`` naming the label, the value and the expected form.
* The same field twice with two different dates is an error; a placeholder never conflicts.
* Any other text after the first label (``Owner: Aja``) is kept as an *extra*, one per run of
  text between two fields, and written back after the dates.

Writing puts the fields in ``FIELDS`` order, omits unset ones, appends the extras, and fits the
whole into ``max_length`` by shortening the title only: a date is never dropped or shortened.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any, ClassVar, NamedTuple
from zoneinfo import ZoneInfo

from .errors import RoadmapError

FIELDS = ("kickoff", "dev_upgrade", "prod_upgrade", "bp", "support_week")
LABELS = {
    "kickoff": "Kickoff",
    "dev_upgrade": "Dev upgrade",
    "prod_upgrade": "Prod upgrade",
    "bp": "BP",
    "support_week": "Support week",
}
DEFAULT_MAX_LENGTH = 160
FIELD_SEPARATOR = " | "
ELLIPSIS = "…"
PLACEHOLDERS = frozenset({"", "tbd", "tba", "tbc", "n/a", "?"})

_DATE_FORM = "YYYY-MM-DD"
_PROD_FORM = "YYYY-MM-DD HH:MM, optionally followed by a zone such as EST or UTC+11"
# Generic names people write for a zone that switches between two abbreviations.
GENERIC_ZONE_LABELS = {
    "ET": frozenset({"EST", "EDT"}),
    "CT": frozenset({"CST", "CDT"}),
    "MT": frozenset({"MST", "MDT"}),
    "PT": frozenset({"PST", "PDT"}),
    "AET": frozenset({"AEST", "AEDT"}),
}

_LABEL_NAMES = {
    "kickoff": r"kick[\s-]*off",
    "dev_upgrade": r"dev(?:elopment)?[\s-]+upgrade",
    "prod_upgrade": r"prod(?:uction)?[\s-]+upgrade",
    "bp": r"(?:bp|best[\s-]+practices?)(?:[\s-]+session)?",
    "support_week": r"support[\s-]+week(?:[\s-]+start)?",
}
_LABEL_PATTERN = (
    r"(?<!\w)(?:"
    + "|".join(f"(?P<{field}>{name})" for field, name in _LABEL_NAMES.items())
    + r")(?:\s+date)?\s*:"
)
_LABEL = re.compile(_LABEL_PATTERN, re.IGNORECASE)
_TOKEN = re.compile(r"(?P<separator>[|;,])|" + _LABEL_PATTERN, re.IGNORECASE)

_DATE_SHAPE = r"[0-9]{4}[-/][0-9]{1,2}[-/][0-9]{1,2}"
_DATE = re.compile(r"(?P<year>[0-9]{4})[-/](?P<month>[0-9]{1,2})[-/](?P<day>[0-9]{1,2})")
_DATE_RANGE = re.compile(
    rf"(?P<first>{_DATE_SHAPE})\s*(?:[-–—]|to|through|until)\s*(?P<last>{_DATE_SHAPE})",
    re.IGNORECASE,
)
_ZONE_SHAPE = r"(?:UTC|GMT|UT)\s*[+\-−]\s*[0-9]{1,2}(?::?[0-9]{2})?|[A-Za-z]{2,6}"
_ZONE = re.compile(_ZONE_SHAPE, re.IGNORECASE)
_OFFSET_ZONE = re.compile(
    r"(?:UTC|GMT|UT)\s*(?P<sign>[+\-−])\s*(?P<hours>[0-9]{1,2})(?::?(?P<minutes>[0-9]{2}))?",
    re.IGNORECASE,
)
_PROD = re.compile(
    rf"(?P<date>{_DATE_SHAPE})(?:\s+|\s*T\s*)(?P<hour>[0-9]{{1,2}}):(?P<minute>[0-9]{{2}})"
    r"(?:\s*(?P<meridiem>[ap])\.?m\.?)?"
    rf"(?:\s*\(?\s*(?P<zone>{_ZONE_SHAPE})\s*\)?)?",
    re.IGNORECASE,
)
_TITLE_TRAILING = " \t\r\n|;,-–—"
_EXTRA_EDGES = " \t\r\n|;,"
_MAX_OFFSET = timedelta(hours=14)


@dataclass(frozen=True)
class ProdUpgrade:
    """The prod upgrade as agreed with the client: their wall-clock time, and the zone label
    written after it, if any (kept as written; it only picks between the two readings of a
    fall-back hour or catches a contradiction, never selects a zone). ``local.fold`` is
    ignored: the label is what says which occurrence is meant."""

    local: datetime
    zone_label: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.local, datetime) or self.local.tzinfo is not None:
            raise ValueError(f"ProdUpgrade.local must be a naive wall-clock datetime, got {self.local!r}")
        if self.local.second or self.local.microsecond:
            raise ValueError(f"ProdUpgrade.local holds whole minutes only, got {self.local.time()}")
        if self.zone_label is not None and not _is_writable_zone_label(self.zone_label):
            raise ValueError(f"{self.zone_label!r} is not a zone label such as EST or UTC+11")

    @classmethod
    def from_instant(cls, instant: datetime, zone: ZoneInfo) -> ProdUpgrade:
        """The prod upgrade at an aware instant (whole minutes), labelled as the zone is then."""
        _require_aware(instant, "instant")
        local = instant.astimezone(zone).replace(tzinfo=None, fold=0)
        return cls(local, zone_abbreviation(instant, zone))

    def __str__(self) -> str:
        written = f"{self.local.date().isoformat()} {self.local.hour:02d}:{self.local.minute:02d}"
        return f"{written} {self.zone_label}" if self.zone_label else written


@dataclass(frozen=True)
class Roadmap:
    """The engagement's dates; ``None`` is a date not set yet."""

    kickoff: date | None = None
    dev_upgrade: date | None = None
    prod_upgrade: ProdUpgrade | None = None
    bp: date | None = None
    support_week: date | None = None

    FIELDS: ClassVar[tuple[str, ...]] = FIELDS

    def __post_init__(self) -> None:
        for name, value in self.items():
            if value is None:
                continue
            if name == "prod_upgrade" and not isinstance(value, ProdUpgrade):
                raise TypeError(f"Roadmap.prod_upgrade must be a ProdUpgrade, got {value!r}")
            # A datetime is a date too, but would write a time the grammar does not read back.
            if name != "prod_upgrade" and (isinstance(value, datetime) or not isinstance(value, date)):
                raise TypeError(f"Roadmap.{name} must be a date, got {value!r}")

    def items(self) -> Iterator[tuple[str, date | ProdUpgrade | None]]:
        """(field name, value) in ``FIELDS`` order, unset ones included."""
        return ((name, getattr(self, name)) for name in FIELDS)

    def changes(self, other: Roadmap) -> dict[str, tuple[Any, Any]]:
        """``{field: (this value, other's value)}`` for every field that differs, in order.

        Values compare whole: a prod upgrade gaining or losing its zone label is a change.
        """
        theirs = dict(other.items())
        return {name: (mine, theirs[name]) for name, mine in self.items() if mine != theirs[name]}

    def replace(self, **fields: Any) -> Roadmap:
        """A copy with the given fields set; ``None`` clears a field."""
        unknown = set(fields) - set(FIELDS)
        if unknown:
            raise TypeError(f"unknown roadmap field(s) {sorted(unknown)}; fields are {FIELDS}")
        return dataclasses.replace(self, **fields)

    def merged(self, **fields: Any) -> Roadmap:
        """A copy updated with the given fields whose value is not ``None``: news never clears."""
        return self.replace(**{name: value for name, value in fields.items() if value is not None})


@dataclass(frozen=True)
class ShortDescription:
    title: str
    roadmap: Roadmap
    extras: tuple[str, ...] = ()

    def render(self, *, max_length: int = DEFAULT_MAX_LENGTH) -> str:
        return format_short_description(
            self.title, self.roadmap, max_length=max_length, extras=self.extras
        )


# --- parsing -------------------------------------------------------------------------------


def parse_short_description(text: str) -> ShortDescription:
    """Split a short description into its title, roadmap and extras, or raise ``RoadmapError``."""
    if not isinstance(text, str):
        raise TypeError(f"a short description is a str, got {type(text).__name__}")
    first = _LABEL.search(text)
    if first is None:
        return ShortDescription(_clean_title(text), Roadmap(), ())
    values: dict[str, Any] = {}
    extras: list[str] = []
    for part in _parts(text, first.start()):
        if isinstance(part, str):
            extras.append(part)
            continue
        value = _parse_value(part.field, text, part.value_start, part.value_end)
        if value is None:
            continue
        if values.get(part.field) not in (None, value):
            label = LABELS[part.field]
            raise RoadmapError(
                f"{label} is given twice, as {values[part.field]} and {value}",
                text, part.label_start, f"one {label} value",
            )
        values[part.field] = value
    return ShortDescription(_clean_title(text[: first.start()]), Roadmap(**values), tuple(extras))


class _Labelled(NamedTuple):
    field: str
    label_start: int
    value_start: int
    value_end: int


def _parts(text: str, start: int) -> Iterator[_Labelled | str]:
    """Walk the text from the first label: each labelled field, and each run of other text.

    A value ends at the first separator or label; other text (an extra) runs on to the next
    label, so that separators inside it (``Owner: Aja, Bob``) are kept as written.
    """
    field: tuple[str, int, int] | None = None  # the open field: name, label start, value start
    extra_start: int | None = None
    for token in _TOKEN.finditer(text, start):
        if token.group("separator") is not None:
            if field is not None:
                yield _Labelled(*field, token.start())
                field, extra_start = None, token.end()
            continue
        if field is not None:
            yield _Labelled(*field, token.start())
        elif extra_start is not None:
            yield from _extra(text[extra_start : token.start()])
        field, extra_start = (_field_of(token), token.start(), token.end()), None
    if field is not None:
        yield _Labelled(*field, len(text))
    elif extra_start is not None:
        yield from _extra(text[extra_start:])


def _extra(run: str) -> Iterator[str]:
    extra = _clean_extra(run)
    if extra:
        yield extra


def _field_of(label: re.Match[str]) -> str:
    return next(field for field in FIELDS if label.group(field) is not None)


def _parse_value(field: str, text: str, start: int, end: int) -> date | ProdUpgrade | None:
    raw = text[start:end]
    value = raw.strip()
    position = start + (len(raw) - len(raw.lstrip()))
    if value.lower() in PLACEHOLDERS:
        return None
    if field == "prod_upgrade":
        return _parse_prod_upgrade(value, text, position)
    if field == "support_week" and (week := _DATE_RANGE.fullmatch(value)):
        return _parse_support_range(week, text, position)
    return _parse_date(field, value, text, position)


def _parse_date(
    field: str, value: str, text: str, position: int, *, expected: str = "", whole: str = ""
) -> date:
    """The date in ``value``; an error names ``whole``, the full value, when ``value`` is a part."""
    expected = expected or f"{LABELS[field]}: {_DATE_FORM} (or TBD)"
    named = f"{LABELS[field]} {_quote(whole or value)}"
    match = _DATE.fullmatch(value)
    if match is None:
        raise RoadmapError(f"{named} is not a date", text, position, expected)
    try:
        return date(int(match["year"]), int(match["month"]), int(match["day"]))
    except ValueError as exc:
        raise RoadmapError(f"{named} is not a real date ({exc})", text, position, expected) from None


def _parse_support_range(week: re.Match[str], text: str, position: int) -> date:
    first = _parse_date("support_week", week["first"], text, position + week.start("first"))
    last = _parse_date("support_week", week["last"], text, position + week.start("last"))
    if last < first:
        raise RoadmapError(
            f"Support week {_quote(week.group())} ends before it starts",
            text, position, f"Support week: {_DATE_FORM}, its first day",
        )
    return first


def _parse_prod_upgrade(value: str, text: str, position: int) -> ProdUpgrade:
    expected = f"Prod upgrade: {_PROD_FORM}"
    match = _PROD.fullmatch(value)
    if match is None:
        problem = "has no time" if _DATE.fullmatch(value) else "is not a date and time"
        raise RoadmapError(f"Prod upgrade {_quote(value)} {problem}", text, position, expected)
    day = _parse_date("prod_upgrade", match["date"], text, position, expected=expected, whole=value)
    hour, minute = _hour_of(match), int(match["minute"])
    if hour is None or not (0 <= hour <= 23 and 0 <= minute <= 59):
        raise RoadmapError(
            f"Prod upgrade {_quote(value)} is not a real time of day",
            text, position + match.start("hour"), expected,
        )
    zone = match["zone"]
    if zone is not None and _OFFSET_ZONE.fullmatch(zone) and _offset_of(zone) is None:
        raise RoadmapError(
            f"Prod upgrade zone {_quote(zone)} is not a real UTC offset",
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


def _quote(value: str, limit: int = 40) -> str:
    """A value for an error message, cut so that a huge field cannot flood a log line."""
    return repr(value if len(value) <= limit else value[: limit - 1] + ELLIPSIS)


def _clean_title(title: str) -> str:
    """Strip the spaces, separators and dashes that joined the title to the first label."""
    previous = None
    while previous != title:
        previous, title = title, title.strip().rstrip(_TITLE_TRAILING)
    return title


# --- writing -------------------------------------------------------------------------------


def format_short_description(
    title: str,
    roadmap: Roadmap,
    *,
    max_length: int = DEFAULT_MAX_LENGTH,
    extras: Iterable[str] = (),
) -> str:
    """Write ``<title> | <fields in FIELDS order> | <extras>`` in at most ``max_length`` chars.

    An overflowing title is cut (at a word boundary when that keeps at least half of it) and
    ends with "…"; when nothing of it fits it is left out. Dates are never dropped or cut:
    when they do not fit even without a title, ``RoadmapError`` says how many characters they
    need. A title or extra that would read back as a label is refused, so that what is written
    always parses back to the same roadmap.
    """
    if max_length < 1:
        raise ValueError(f"max_length must be positive, got {max_length}")
    title = _clean_title(title)
    _refuse_labels(title, "title")
    kept_extras = [extra for extra in (_clean_extra(extra) for extra in extras) if extra]
    for extra in kept_extras:
        _refuse_labels(extra, "extra text")
    dates = FIELD_SEPARATOR.join(
        f"{LABELS[name]}: {value}" for name, value in roadmap.items() if value is not None
    )
    body = FIELD_SEPARATOR.join(([dates] if dates else []) + kept_extras)
    if len(_joined(title, body)) <= max_length:
        return _joined(title, body)
    room = max_length - len(body) - len(FIELD_SEPARATOR) if body else max_length
    shortened = _shorten(title, room)
    if len(_joined(shortened, body)) > max_length:
        raise _overflow(dates, body, max_length)
    return _joined(shortened, body)


def _joined(title: str, body: str) -> str:
    return FIELD_SEPARATOR.join(part for part in (title, body) if part)


def _shorten(title: str, room: int) -> str:
    """The title cut to ``room`` characters, "…" included; empty when not even one letter fits."""
    if len(title) <= room:
        return title
    keep = room - len(ELLIPSIS)
    if keep < 1:
        return ""
    head = title[:keep]
    boundary = head.rfind(" ")
    # Cut at a word boundary unless the cut already falls on one or that would lose too much.
    if not title[keep].isspace() and boundary >= keep // 2:
        head = head[:boundary]
    head = _clean_title(head)
    return head + ELLIPSIS if head else ""


def _overflow(dates: str, body: str, max_length: int) -> RoadmapError:
    extra_note = f" and the extra text {len(body) - len(dates)} more" if len(body) > len(dates) else ""
    return RoadmapError(
        f"the dates alone need {len(dates)} characters{extra_note}, more than the {max_length} "
        f"a short description may hold here",
        body, max_length, f"a max_length of at least {len(body)}, or less extra text",
    )


def _clean_extra(extra: str) -> str:
    return extra.strip(_EXTRA_EDGES).strip()


def _refuse_labels(text: str, what: str) -> None:
    label = _LABEL.search(text)
    if label is not None:
        raise RoadmapError(
            f"the {what} {_quote(text)} contains the roadmap label {label.group()!r}, "
            f"which would read back as a date",
            text, label.start(), f"a {what} without a known label followed by ':'",
        )


# --- time zones ----------------------------------------------------------------------------


def prod_upgrade_to_utc(prod: ProdUpgrade, zone: ZoneInfo) -> datetime:
    """The aware UTC instant of the prod upgrade, read as wall-clock time in ``zone``.

    * An ambiguous time (the repeated hour when clocks fall back) is its first occurrence,
      unless the zone label names the second (``01:30 EST`` on the night EDT ends).
    * A time that does not exist (skipped when clocks spring forward) raises ``RoadmapError``
      rather than guessing: the planned start of an upgrade that cannot be cancelled must be
      the one agreed with the client. The message suggests the time the clocks show instead.
    * A zone label that fits neither reading (``PST`` for America/New_York, ``EST`` in July)
      raises ``RoadmapError``: the client and the ticket disagree on the time zone.
    """
    readings = _readings(prod.local, zone)
    if not readings:
        raise _nonexistent(prod, zone)
    if prod.zone_label is not None:
        readings = [moment for moment in readings if _label_fits(prod.zone_label, moment)]
        if not readings:
            raise _label_contradicts(prod, zone)
    return readings[0].astimezone(timezone.utc)


def zone_abbreviation(local: datetime, zone: ZoneInfo) -> str:
    """The label to write after a prod upgrade's time in ``zone``: "EST", "BST", "AEDT"...

    ``local`` is an aware instant, or a naive wall-clock time whose ``fold`` picks the reading
    of a fall-back hour (0, the first, by default; a nonexistent time raises ``RoadmapError``).
    Zones without a lettered abbreviation (``-03``), and the rare fall-back where both readings
    share one, get a UTC offset instead ("UTC-3"), so that the label always resolves back to
    the same instant.
    """
    if local.tzinfo is not None:
        moment = local.astimezone(zone)
    else:
        readings = _readings(local, zone)
        if not readings:
            raise _nonexistent(ProdUpgrade(local.replace(second=0, microsecond=0)), zone)
        moment = readings[min(local.fold, len(readings) - 1)]
    name = moment.tzname() or ""
    readings = _readings(moment.replace(tzinfo=None), zone)
    shared = len(readings) == 2 and readings[0].tzname() == readings[1].tzname()
    if re.fullmatch(r"[A-Za-z]{2,6}", name) and not shared:
        return name
    return _offset_label(moment.utcoffset() or timedelta())


def _readings(local: datetime, zone: ZoneInfo) -> list[datetime]:
    """The aware moments whose wall clock in ``zone`` shows ``local``: none in a spring-forward
    gap, two in a fall-back hour (earlier first), one otherwise."""
    readings: list[datetime] = []
    for fold in (0, 1):
        moment = local.replace(tzinfo=zone, fold=fold)
        shown = moment.astimezone(timezone.utc).astimezone(zone).replace(tzinfo=None)
        if shown == local and all(moment.utcoffset() != seen.utcoffset() for seen in readings):
            readings.append(moment)
    return readings


def _label_fits(label: str, moment: datetime) -> bool:
    offset = _offset_of(label)
    if offset is not None:
        return moment.utcoffset() == offset
    name = (moment.tzname() or "").upper()
    return name == label.upper() or name in GENERIC_ZONE_LABELS.get(label.upper(), ())


def _offset_of(label: str) -> timedelta | None:
    """The UTC offset a label states (``UTC+5:30``, bare ``UTC``/``GMT``), else ``None``."""
    if label.upper() in ("UTC", "GMT", "UT"):
        return timedelta()
    match = _OFFSET_ZONE.fullmatch(label)
    if match is None:
        return None
    minutes = int(match["minutes"] or 0)
    offset = timedelta(hours=int(match["hours"]), minutes=minutes)
    if minutes > 59 or offset > _MAX_OFFSET:
        return None
    return -offset if match["sign"] in "-−" else offset


def _offset_label(offset: timedelta) -> str:
    sign = "-" if offset < timedelta() else "+"
    minutes = abs(offset) // timedelta(minutes=1)
    hours, minutes = divmod(minutes, 60)
    if not hours and not minutes:
        return "UTC"
    return f"UTC{sign}{hours}" + (f":{minutes:02d}" if minutes else "")


def _is_writable_zone_label(label: str) -> bool:
    if not isinstance(label, str) or not _ZONE.fullmatch(label) or label != label.strip():
        return False
    return _OFFSET_ZONE.fullmatch(label) is None or _offset_of(label) is not None


def _nonexistent(prod: ProdUpgrade, zone: ZoneInfo) -> RoadmapError:
    before = prod.local.replace(tzinfo=zone, fold=0)
    # Where the clocks are at that instant: past the gap. (Through UTC, because astimezone to
    # the datetime's own tzinfo returns it unchanged.)
    shown = before.astimezone(timezone.utc).astimezone(zone)
    field = f"Prod upgrade: {prod}"
    return RoadmapError(
        f"Prod upgrade {prod} does not exist in {zone}: the clocks skip that hour as "
        f"{before.tzname()} becomes {prod.local.replace(tzinfo=zone, fold=1).tzname()}",
        field, len("Prod upgrade: "),
        f"a time that exists in {zone}, such as {shown:%H:%M} {shown.tzname()}",
    )


def _label_contradicts(prod: ProdUpgrade, zone: ZoneInfo) -> RoadmapError:
    names = " or ".join(sorted({moment.tzname() or "" for moment in _readings(prod.local, zone)}))
    field = f"Prod upgrade: {prod}"
    return RoadmapError(
        f"Prod upgrade {ProdUpgrade(prod.local)} is labelled {prod.zone_label}, "
        f"but {zone} is on {names} then",
        field, field.rindex(prod.zone_label or ""),
        f"{names} or no zone label (the engagement's time zone is {zone})",
    )


def _require_aware(moment: datetime, name: str) -> None:
    if not isinstance(moment, datetime) or moment.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime, got {moment!r}")
