"""``Engagement``: one engagement's records by role, its zone, name and problems."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from ..spelling import did_you_mean
from .records import Problem, Record


@dataclass(frozen=True, slots=True)
class Engagement:
    """The records of one engagement, grouped by the pack's roles.

    ``chosen`` holds, for each role, the record that counts (None when there is none, or when a
    ``one`` role has several, which is a problem); ``found`` every record found in each role.
    """

    key: str
    zone: ZoneInfo
    name: str
    found: Mapping[str, tuple[Record, ...]]
    chosen: Mapping[str, Record | None]
    problems: tuple[Problem, ...] = ()

    def one(self, role: str) -> Record | None:
        """The record that counts in ``role``: the only one, or the newest for a ``latest`` role."""
        self._known(role)
        return self.chosen[role]

    def each(self, role: str) -> tuple[Record, ...]:
        """Every record found in ``role``, by number."""
        self._known(role)
        return self.found[role]

    def by_step(self, role: str) -> dict[str, Record]:
        """A step role's records by step id; of two with one id (a problem), the newer."""
        ordered = sorted(self.each(role), key=_age)
        return {record.step: record for record in ordered if record.step}

    @property
    def records(self) -> tuple[Record, ...]:
        """Every record of the engagement once, whichever roles it is found in."""
        seen: dict[tuple[str, str], Record] = {}
        for records in self.found.values():
            for record in records:
                seen.setdefault((record.table, record.sys_id), record)
        return tuple(seen.values())

    @property
    def is_broken(self) -> bool:
        return bool(self.problems)

    def _known(self, role: str) -> None:
        if role not in self.found:
            raise KeyError(f"{role!r} is not a role of this pack{did_you_mean(role, self.found)}")


def _age(record: Record) -> tuple[bool, object]:
    return (record.updated_on is not None, record.updated_on or 0)
