"""The prod upgrade's time: the client's wall-clock time and zone label, and the UTC instant it means.

A ``ProdUpgrade`` is written as ``YYYY-MM-DD HH:MM`` with an optional zone label (see the grammar
in ``roadmap``). ``prod_upgrade_to_utc`` reads it in the engagement's time zone, refusing a time
the clocks skip or a label the zone is not on; ``zone_abbreviation`` picks the label to write.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from ..errors import RoadmapError

# Generic names people write for a zone that switches between two abbreviations.
GENERIC_ZONE_LABELS = {
    "ET": frozenset({"EST", "EDT"}),
    "CT": frozenset({"CST", "CDT"}),
    "MT": frozenset({"MST", "MDT"}),
    "PT": frozenset({"PST", "PDT"}),
    "AET": frozenset({"AEST", "AEDT"}),
}
_ZONE_SHAPE = r"(?:UTC|GMT|UT)\s*[+\-−]\s*[0-9]{1,2}(?::?[0-9]{2})?|[A-Za-z]{2,6}"
_ZONE = re.compile(_ZONE_SHAPE, re.IGNORECASE)
_OFFSET_ZONE = re.compile(
    r"(?:UTC|GMT|UT)\s*(?P<sign>[+\-−])\s*(?P<hours>[0-9]{1,2})(?::?(?P<minutes>[0-9]{2}))?",
    re.IGNORECASE,
)
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



def prod_upgrade_to_utc(prod: ProdUpgrade, zone: ZoneInfo, *, label: str | None = None) -> datetime:
    """The aware UTC instant of the prod upgrade, read as wall-clock time in ``zone``; ``label``
    names the field in messages (the pack's label of it, e.g. "Prod upgrade").

    * An ambiguous time (the repeated hour when clocks fall back) is its first occurrence,
      unless the zone label names the second (``01:30 EST`` on the night EDT ends).
    * A time that does not exist (skipped when clocks spring forward) raises ``RoadmapError``
      rather than guessing: the planned start of an upgrade that cannot be cancelled must be
      the one agreed with the client. The message suggests the time the clocks show instead.
    * A zone label that fits neither reading (``PST`` for America/New_York, ``EST`` in July)
      raises ``RoadmapError``: the client and the ticket disagree on the time zone.
    """
    found = _cached_utc(prod, zone, label or "The local time")
    if isinstance(found, datetime):
        return found
    kind, args = found
    raise kind(*args)


# The instant by (prod upgrade, zone, label): each cycle places the same agreed times again, and
# the answer (an immutable datetime, or the error's arguments) depends on nothing else.
@functools.lru_cache(maxsize=8192)
def _cached_utc(prod: ProdUpgrade, zone: ZoneInfo, label: str) -> datetime | tuple[type[RoadmapError], tuple]:
    try:
        return _to_utc(prod, zone, label)
    except RoadmapError as error:
        return type(error), error.args


def _to_utc(prod: ProdUpgrade, zone: ZoneInfo, label: str) -> datetime:
    readings = _readings(prod.local, zone)
    if not readings:
        raise _nonexistent(prod, zone, label)
    if prod.zone_label is not None:
        readings = [moment for moment in readings if _label_fits(prod.zone_label, moment)]
        if not readings:
            raise _label_contradicts(prod, zone, label)
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
            raise _nonexistent(ProdUpgrade(local.replace(second=0, microsecond=0)), zone, "The local time")
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


def _nonexistent(prod: ProdUpgrade, zone: ZoneInfo, label: str) -> RoadmapError:
    before = prod.local.replace(tzinfo=zone, fold=0)
    # Where the clocks are at that instant: past the gap. (Through UTC, because astimezone to
    # the datetime's own tzinfo returns it unchanged.)
    shown = before.astimezone(timezone.utc).astimezone(zone)
    field = f"{label}: {prod}"
    return RoadmapError(
        f"{label} {prod} does not exist in {zone}: the clocks skip that hour as "
        f"{before.tzname()} becomes {prod.local.replace(tzinfo=zone, fold=1).tzname()}",
        field, len(f"{label}: "),
        f"a time that exists in {zone}, such as {shown:%H:%M} {shown.tzname()}",
    )


def _label_contradicts(prod: ProdUpgrade, zone: ZoneInfo, label: str) -> RoadmapError:
    names = " or ".join(sorted({moment.tzname() or "" for moment in _readings(prod.local, zone)}))
    field = f"{label}: {prod}"
    return RoadmapError(
        f"{label} {ProdUpgrade(prod.local)} is labelled {prod.zone_label}, "
        f"but {zone} is on {names} then",
        field, field.rindex(prod.zone_label or ""),
        f"{names} or no zone label (the engagement's time zone is {zone})",
    )


def _require_aware(moment: datetime, name: str) -> None:
    if not isinstance(moment, datetime) or moment.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime, got {moment!r}")
