"""Roadmap sync: the roadmap every record carrying it (every ticket, in the etiu pack) should
carry, and how people changed it. No I/O.

Three ways to tell which of two differing dates is a person's newer change:
- with a remembered roadmap (the last one every ticket agreed on), a date that differs from it was
  changed by a person; two tickets changed differently resolve to the most recently updated one;
- on first sight (nothing remembered), by when each ticket took on its date, from the short
  description's history (``sys_audit``, read by history.py); never by ``sys_updated_on``, which
  moves with any edit or note on the ticket;
- a conflict once flagged is remembered with the value each ticket held: it is never resolved by
  a guess in a later cycle, only by a person, who makes the tickets agree or changes one of them.
When nothing can tell, the result is a conflict and no write.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Mapping, Sequence

from ..errors import RoadmapError
from ..engagement.history import FieldChange, History
from ..engagement.records import Record
from ..engagement.roadmap import Roadmap, ShortDescription, parse_short_description
from ..engagement.roadmap_labels import RoadmapLabels

Held = Mapping[str, Mapping[str, str]]  # label in conflict -> {ticket sys_id: its value as text}


@dataclass(frozen=True)
class Carrier:
    """A record that carries the roadmap in its text field, and that text as read (None: it
    cannot be read, which is a problem of the engagement)."""

    record: Record
    text: str
    parsed: ShortDescription | None

    @property
    def sys_id(self) -> str:
        return self.record.sys_id

    @property
    def number(self) -> str:
        return self.record.number

    @property
    def updated_on(self) -> datetime | None:
        return self.record.updated_on


@dataclass(frozen=True)
class Carried:
    """A date a person changed on one ticket, to be carried to its siblings."""

    field: str
    old: Any
    new: Any
    source: str  # the ticket number it came from


@dataclass(frozen=True)
class Conflict:
    """Tickets changed one date differently, and nothing says which change is newer."""

    field: str
    values: tuple[tuple[str, Any], ...]  # (ticket number, value)
    held: tuple[tuple[str, str], ...] = ()  # (ticket sys_id, value as text) of every ticket holding it


@dataclass(frozen=True)
class RoadmapSync:
    agreed: Roadmap
    carried: tuple[Carried, ...] = ()
    conflicts: tuple[Conflict, ...] = ()
    stale: tuple[str, ...] = ()  # numbers of tickets whose short description lacks the agreed roadmap

    @property
    def consistent(self) -> bool:
        return not self.stale and not self.conflicts


def reconcile_roadmap(tickets: tuple[Carrier, ...], baseline: Roadmap | None,
                      history: History | None = None, disputed: Held | None = None,
                      carrying: Roadmap | None = None, labels: RoadmapLabels | None = None,
                      carried_from: Mapping[str, str] | None = None) -> RoadmapSync:
    """The roadmap all tickets should carry, given what they carry now and the last agreed one.

    ``history`` is each ticket's short-description history (None: not available), consulted on
    first sight only; ``disputed`` the conflicts remembered from earlier cycles; ``carrying`` the
    dates the worker was carrying when it last wrote: a ticket holding one of those holds the
    worker's own write, not a person's change. ``labels`` are the pack's (by default those of the
    roadmaps read). ``carried_from``: the ticket each of those dates came from (by label), the one
    a person changed, which a carry that goes on names again as its source.
    """
    readable = [ticket for ticket in tickets if ticket.parsed is not None]
    labels = labels or _labels_of(readable, baseline)
    agreed: dict[str, Any] = {}
    carried: list[Carried] = []
    conflicts: list[Conflict] = []
    for name in labels.names:
        holders = _holders(readable, name)
        ours = getattr(carrying, name) if carrying else None
        value, carry, conflict = _resolve(name, holders, baseline, history, (disputed or {}).get(name), ours,
                                          (carried_from or {}).get(name))
        agreed[name] = value
        carried += [carry] if carry else []
        conflicts += [conflict] if conflict else []
    roadmap = Roadmap(labels, **agreed)
    stale = tuple(ticket.number for ticket in readable if not _carries(ticket.parsed.roadmap, roadmap))
    return RoadmapSync(roadmap, tuple(carried), tuple(conflicts), stale)


def needs_history(tickets: tuple[Carrier, ...], baseline: Roadmap | None, disputed: Held | None = None) -> bool:
    """Whether reconciling these tickets would read their history: first sight, and a date that
    differs between them and is not already a remembered conflict."""
    if baseline is not None:
        return False
    readable = [ticket for ticket in tickets if ticket.parsed is not None]
    return any(len({value for _, value in _holders(readable, name)}) > 1
               for name in _labels_of(readable, None).names if name not in (disputed or {}))


def _labels_of(readable: list[Carrier], baseline: Roadmap | None) -> RoadmapLabels:
    """The labels of the roadmaps read (all read with the pack's), else the baseline's, else none."""
    if readable:
        return readable[0].parsed.roadmap.labels
    return baseline.labels if baseline is not None else RoadmapLabels(())


def remembered_conflicts(memory: Mapping[str, Any], sync: RoadmapSync) -> dict[str, Any]:
    """Memory after this cycle: each label in conflict with what every ticket held, none once resolved."""
    rest = {key: value for key, value in memory.items() if key != "conflicts"}
    held = {conflict.field: dict(conflict.held) for conflict in sync.conflicts}
    return {**rest, "conflicts": held} if held else rest


def _holders(readable: list[Carrier], name: str) -> list[tuple[Carrier, Any]]:
    holders = [(ticket, getattr(ticket.parsed.roadmap, name)) for ticket in readable]
    return [(ticket, value) for ticket, value in holders if value is not None]


def _resolve(name, holders, baseline, history, held, ours=None, source=None):
    if not holders:
        return None, None, None  # no ticket carries it: removed everywhere, or never set
    base = getattr(baseline, name) if baseline else None
    if held is not None:
        return _resolve_disputed(name, holders, base, baseline is not None, held)
    if baseline is not None:
        return _resolve_against_baseline(name, holders, base, ours, source)
    return _resolve_first_sight(name, holders, history)


def _resolve_against_baseline(name, holders, base, ours=None, source=None):
    changed = [(ticket, value) for ticket, value in holders if value not in (base, ours)]
    if not changed:
        carrying = [ticket.number for ticket, value in holders if ours is not None and value == ours]
        if carrying:  # the worker's carry reached some tickets only: it goes on to the others
            # Named by the ticket the person changed, never by one the worker wrote; a memory
            # written before sources were remembered has none, and names the first holder.
            return ours, Carried(name, base, ours, source or carrying[0]), None
        return base, None, None
    newest = _newest_updated(changed)
    if newest is None:
        return base, None, _conflict(name, changed, holders)
    return newest[1], Carried(name, base, newest[1], newest[0].number), None


def _resolve_first_sight(name, holders, history):
    if len({value for _, value in holders}) == 1:
        return holders[0][1], None, None
    newest = _newest_taken_on(name, holders, history)
    if newest is None:
        return None, None, _conflict(name, holders, holders)
    return newest[1], Carried(name, _most_common(holders, exclude=newest[1]), newest[1], newest[0].number), None


def _resolve_disputed(name, holders, base, has_baseline, held):
    """A remembered conflict: resolved by the tickets agreeing, or by a person's change since."""
    if len({value for _, value in holders}) == 1:
        return holders[0][1], None, None
    moved = sorted(((ticket, value) for ticket, value in holders
                    if ticket.sys_id in held and held[ticket.sys_id] != str(value)), key=lambda pair: pair[0].number)
    if len({value for _, value in moved}) == 1:
        ticket, value = moved[0]
        old = base if has_baseline else _most_common(holders, exclude=value)
        return value, Carried(name, old, value, ticket.number), None
    shown = [(ticket, value) for ticket, value in holders if value != base] if has_baseline else holders
    return base, None, _conflict(name, shown, holders)


def _conflict(name, shown, holders) -> Conflict:
    return Conflict(name, tuple(sorted((ticket.number, value) for ticket, value in shown)),
                    tuple(sorted((ticket.sys_id, str(value)) for ticket, value in holders)))


_NEVER = datetime.min.replace(tzinfo=timezone.utc)


def _newest_updated(holders):
    """The (ticket, value) of the strictly most recently updated ticket, or None on a tie."""
    # A ticket without a readable sys_updated_on (flagged by the sanity rule) sorts oldest; the
    # stand-in must be aware like the others, or comparing them raises and aborts the cycle.
    stamped = sorted(holders, key=lambda pair: pair[0].updated_on or _NEVER, reverse=True)
    if len(stamped) > 1 and stamped[0][0].updated_on == stamped[1][0].updated_on and stamped[0][1] != stamped[1][1]:
        return None
    return stamped[0]


def _newest_taken_on(name, holders, history):
    """The (ticket, value) that took on its value strictly most recently, by history; None when the
    history is missing, says nothing (every value held since creation), or ties two values."""
    if history is None:
        return None
    labels = holders[0][0].parsed.roadmap.labels
    stamped = sorted(((taken_on(name, value, history.get(ticket.sys_id, ()), labels), ticket, value) for ticket, value in holders),
                     key=lambda entry: entry[0] or _NEVER, reverse=True)
    moment, ticket, value = stamped[0]
    if moment is None or any(other == moment and held != value for other, _, held in stamped[1:]):
        return None
    return ticket, value


def taken_on(name: str, value: Any, changes: Sequence[FieldChange], labels: RoadmapLabels) -> datetime | None:
    """When a ticket last took on ``value`` for ``name``: the newest change to it from something
    else. None when it has held it since its creation (or the history has no row about it)."""
    moments = [change.at for change in changes
               if change.at is not None and not change.is_creation
               and _label(change.new, name, labels) == value and _label(change.old, name, labels) != value]
    return max(moments, default=None)


@functools.lru_cache(maxsize=4096)
def _roadmap_of(text: str, labels: RoadmapLabels) -> Roadmap | None:
    try:
        return parse_short_description(text, labels).roadmap
    except RoadmapError:
        return None  # an unreadable old text held no readable date


def _label(text: str, name: str, labels: RoadmapLabels) -> Any:
    roadmap = _roadmap_of(text, labels)
    return getattr(roadmap, name) if roadmap else None


def _most_common(holders, exclude):
    counts: dict[Any, int] = {}
    for _, value in holders:
        if value != exclude:
            counts[value] = counts.get(value, 0) + 1
    return max(counts, key=counts.get) if counts else None


def _carries(roadmap: Roadmap, agreed: Roadmap) -> bool:
    return all(getattr(roadmap, name) == getattr(agreed, name) for name in agreed.labels.names)
