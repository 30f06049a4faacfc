"""One request per record: the planned writes of a cycle merged into ``Send``s.

Every write planned on one record in one cycle goes into one PATCH: the fields of all of them,
and their notes, a work note and a comment side by side (they are different fields), several
work notes (or comments) joined into one whose text keeps each note whole, footer and reference
line included, so that each can still be found again on the instance by its reference. Each
write keeps its own journal entry, outcome and read-back: only the request is shared.

Creates are sent one POST each. The writes to one record keep their planned order inside the
merged payload. Where two writes set one field to different values, the later write's value is
sent (it was planned knowing the earlier one) and the earlier write no longer claims the field:
its journal entry and read-back leave it out, and a log line says so. An earlier write left with
nothing to send is dropped.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

from ..actions import Write

log = logging.getLogger(__name__)
NOTE_SEPARATOR = "\n\n"  # between two notes merged into one: each keeps its footer as its last line


@dataclass(frozen=True)
class Send:
    """One HTTP request: a POST of one create, or a PATCH carrying every write to one record."""

    writes: tuple[Write, ...]

    @property
    def first(self) -> Write:
        return self.writes[0]

    @property
    def is_create(self) -> bool:
        return self.first.is_create

    @property
    def table(self) -> str:
        return self.first.table

    @property
    def sys_id(self) -> str:
        return self.first.sys_id

    def payload(self) -> dict[str, str]:
        """The writes' fields in order, then each note field's notes joined in order."""
        payload: dict[str, str] = {}
        for write in self.writes:
            payload.update(write.fields)
        notes: dict[str, list[str]] = {}
        for write in self.writes:
            if write.note:
                notes.setdefault(write.note_field, []).append(write.note)
        payload.update({name: NOTE_SEPARATOR.join(texts) for name, texts in notes.items()})
        return payload


def batch(writes: list[Write]) -> list[Send]:
    """The writes as requests, in the order of each record's first planned write."""
    groups: dict[object, list[Write]] = {}
    for index, write in enumerate(writes):
        # A create is a record of its own; an update's record is (table, sys_id).
        key = ("create", index) if write.is_create else (write.table, write.sys_id)
        groups.setdefault(key, []).append(write)
    sends = [Send(tuple(_without_overridden(group))) for group in groups.values()]
    return [send for send in sends if send.writes]


def _without_overridden(group: list[Write]) -> list[Write]:
    """Each write less the fields a later write of the group sets to another value."""
    kept = []
    for index, write in enumerate(group):
        later = group[index + 1:]
        overridden = {name for name, value in write.fields.items()
                      if any(other.fields.get(name, value) != value for other in later)}
        if overridden:
            _log_overridden(write, overridden, later)
            write = replace(write, fields=_less(write.fields, overridden), before=_less(write.before, overridden))
        if write.fields or write.note:
            kept.append(write)
    return kept


def _log_overridden(write: Write, names: set[str], later: list[Write]) -> None:
    winner = next(other for other in reversed(later) if names & set(other.fields))
    log.info("%s on %s: %s set by rule %s is sent as rule %s sets it (the later action wins)", write.kind,
             write.number or write.target, ", ".join(sorted(names)), write.rule, winner.rule,
             extra={"engagement": write.engagement, "rule": write.rule})


def _less(values, names: set[str]) -> dict[str, str]:
    return {name: value for name, value in values.items() if name not in names}
