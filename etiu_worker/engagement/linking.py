"""Which raw records join an engagement through a role's link. No I/O.

A ``LinkIndex`` holds the candidate records of one role (those its identity matches), indexed by
the value its link looks them up by: the engagement key, the sys_id they point at, or their own
sys_id. ``found_by`` then follows the link from the records already found in other roles.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .roles import Declarations, Link
from .values import plain

RawRecord = Mapping[str, Any]


@dataclass(frozen=True)
class LinkIndex:
    """One role's candidate records, by the value its link finds them by."""

    link: Link
    by_value: Mapping[str, tuple[RawRecord, ...]]

    @classmethod
    def of(cls, link: Link, records: Iterable[RawRecord]) -> LinkIndex:
        lookup = {"key": link.field, "ref": link.ref, "referenced_by": "sys_id"}[link.kind]
        by_value: dict[str, list[RawRecord]] = defaultdict(list)
        for record in records:
            value = plain(record.get(str(lookup)))
            if value:
                by_value[value].append(record)
        return cls(link, {value: tuple(same) for value, same in by_value.items()})

    def found_by(self, key: str, found: Mapping[str, Sequence[RawRecord]]) -> list[RawRecord]:
        """The records this link joins to engagement ``key``, given the records found so far."""
        if self.link.kind == "key":
            return list(self.by_value.get(key, ()))
        other = found.get(str(self.link.of), ())
        if self.link.kind == "ref":
            values = [plain(record.get("sys_id")) for record in other]
        else:
            values = [plain(record.get(str(self.link.referenced_by))) for record in other]
        return _unique(record for value in _unique(values) for record in self.by_value.get(value, ()))


def link_order(declarations: Declarations) -> list[str]:
    """The roles in an order where every role comes after the role its link follows."""
    ordered: list[str] = []
    waiting = list(declarations.records)
    while waiting:
        ready = [role for role in waiting if declarations.link_of(role).of in (None, *ordered)]
        if not ready:  # load_roles refuses circles; this only guards against a loop forever
            raise ValueError(f"the links of {', '.join(waiting)} go round in a circle")
        ordered += ready
        waiting = [role for role in waiting if role not in ready]
    return ordered


def _unique(items: Iterable[Any]) -> list[Any]:
    seen: list[Any] = []
    for item in items:
        if item not in seen:  # a list's ``in`` is "is or ==", item by item, in C
            seen.append(item)
    return seen
