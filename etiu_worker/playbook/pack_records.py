"""What a pack's records mean outside the rules: the names of their stored fields, for showing a
write (``FieldNames``), and the tables whose records' assignees the report names. No I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from ..engagement.roadmap_labels import RoadmapLabels
from ..engagement.roles import Declarations


def assignee_tables(declarations: Declarations) -> tuple[str, ...]:
    """The tables of the roles that carry the engagement key, whose records' assignees the report names."""
    return tuple(dict.fromkeys(record.table for role, record in declarations.records.items()
                               if declarations.link_of(role).kind == "key"))


@dataclass(frozen=True)
class FieldNames:
    """What a pack's stored fields mean to people, for showing a write: the (table, field) pairs
    that carry the roadmap, and each state field's names by stored value."""

    roadmap: frozenset[tuple[str, str]] = frozenset()
    states: Mapping[tuple[str, str], Mapping[str, str]] = field(default_factory=dict)
    labels: RoadmapLabels = RoadmapLabels(())  # the roadmap's, to read the fields that carry it

    def state_names(self, table: str, name: str) -> Mapping[str, str]:
        """``{value: state name}`` when ``name`` is a state field of ``table``; {} otherwise."""
        return self.states.get((table, name), {})


def field_names(declarations: Declarations, roadmap_roles: Iterable[str] = (), roadmap_alias: str = "title",
                labels: RoadmapLabels = RoadmapLabels(())) -> FieldNames:
    """The declarations' field names; of two roles on one table, the first names a value."""
    states: dict[tuple[str, str], dict[str, str]] = {}
    for record in declarations.records.values():
        names = states.setdefault((record.table, record.state_field), {})
        for name, value in record.states.items():
            names.setdefault(value, name)
    roadmap = frozenset((declarations.records[role].table, declarations.records[role].fields[roadmap_alias].field)
                        for role in roadmap_roles)
    return FieldNames(roadmap, MappingProxyType({key: MappingProxyType(value) for key, value in states.items()}),
                      labels)
