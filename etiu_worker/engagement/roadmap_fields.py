"""The roadmap's fields, their labels, and the ``Roadmap`` of dates: what parsing and writing share.

The grammar of a short description is in ``roadmap``; this module holds the field names in
writing order, the labels that start a field, the type of each field's value, and the text
clean-ups both directions apply. It is the one place that names the fields: parsing, writing
and the data form (``roadmap_data``) go by a field's type, never by its name.

Known names and their aliases (labels case-insensitive, optionally followed by ``date``):

=============  =============================================================
kickoff        ``Kickoff``, ``Kick-off``, ``Kick off``
dev_upgrade    ``Dev upgrade``, ``Development upgrade``
prod_upgrade   ``Prod upgrade``, ``Production upgrade``
bp             ``BP``, ``Best practice(s)``, either followed by ``session``
support_week   ``Support week``, ``Support week start``
=============  =============================================================
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, ClassVar

from .roadmap_prod import ProdUpgrade

FIELDS = ("kickoff", "dev_upgrade", "prod_upgrade", "bp", "support_week")
LABELS = {
    "kickoff": "Kickoff",
    "dev_upgrade": "Dev upgrade",
    "prod_upgrade": "Prod upgrade",
    "bp": "BP",
    "support_week": "Support week",
}
# The type of each field's value: a date; a local wall-clock time with an optional zone label
# (a ``ProdUpgrade``); or a date also written as a range ``first - last``, which reads as its
# first day.
DATE, LOCAL_DATETIME, DATE_OR_RANGE = "date", "local_datetime", "date_or_range"
TYPES = {
    "kickoff": DATE,
    "dev_upgrade": DATE,
    "prod_upgrade": LOCAL_DATETIME,
    "bp": DATE,
    "support_week": DATE_OR_RANGE,
}
DEFAULT_MAX_LENGTH = 160
FIELD_SEPARATOR = " | "
ELLIPSIS = "…"
PLACEHOLDERS = frozenset({"", "tbd", "tba", "tbc", "n/a", "?"})

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

_TITLE_TRAILING = " \t\r\n|;,-–—"
_EXTRA_EDGES = " \t\r\n|;,"


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
            wall_time = TYPES[name] == LOCAL_DATETIME
            if wall_time and not isinstance(value, ProdUpgrade):
                raise TypeError(f"Roadmap.{name} must be a ProdUpgrade, got {value!r}")
            # A datetime is a date too, but would write a time the grammar does not read back.
            if not wall_time and (isinstance(value, datetime) or not isinstance(value, date)):
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


def _quote(value: str, limit: int = 40) -> str:
    """A value for an error message, cut so that a huge field cannot flood a log line."""
    return repr(value if len(value) <= limit else value[: limit - 1] + ELLIPSIS)


def _clean_title(title: str) -> str:
    """Strip the spaces, separators and dashes that joined the title to the first label."""
    previous = None
    while previous != title:
        previous, title = title, title.strip().rstrip(_TITLE_TRAILING)
    return title


def _clean_extra(extra: str) -> str:
    return extra.strip(_EXTRA_EDGES).strip()
