"""The ``Roadmap`` of dates over a pack's declared labels, and the text clean-ups parsing and writing share.

The grammar of a short description is in ``roadmap``; the fields, their labels and types are the
pack's (``roadmap_labels``). Parsing, writing and the data form (``roadmap_data``) go by a field's
type, never by its name.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

from ..spelling import did_you_mean
from .roadmap_labels import LOCAL_DATETIME, RoadmapLabels
from .roadmap_prod import ProdUpgrade

DEFAULT_MAX_LENGTH = 160
FIELD_SEPARATOR = " | "
ELLIPSIS = "…"
PLACEHOLDERS = frozenset({"", "tbd", "tba", "tbc", "n/a", "?"})

_TITLE_TRAILING = " \t\r\n|;,-–—"
_EXTRA_EDGES = " \t\r\n|;,"


class Roadmap:
    """The engagement's dates by field name, for the fields its labels declare; ``None`` is a date
    not set yet. Read a field as an attribute (``roadmap.go_live``); the value is immutable.

    ``Roadmap(labels, go_live=..., hypercare=...)``: the labels first, then the values by name.
    """

    __slots__ = ("labels", "_values")
    labels: RoadmapLabels
    _values: tuple[Any, ...]

    def __init__(self, labels: RoadmapLabels, /, **values: Any) -> None:
        if not isinstance(labels, RoadmapLabels):
            raise TypeError(f"a Roadmap's first argument is its RoadmapLabels, got {labels!r}; give values by name")
        _refuse_unknown(labels, values)
        for name, value in values.items():
            _check_type(labels, name, value)
        object.__setattr__(self, "labels", labels)
        object.__setattr__(self, "_values", tuple(values.get(name) for name in labels.names))

    def __getattr__(self, name: str) -> Any:
        # Only called when no slot or method has the name: a declared field, or a misspelling.
        if name.startswith("__") or name in Roadmap.__slots__:
            raise AttributeError(name)
        index = self.labels.index.get(name)
        if index is not None:
            return self._values[index]
        names = self.labels.names
        raise AttributeError(f"a roadmap has no field {name!r}{did_you_mean(name, names)}; "
                             f"its fields are {', '.join(names)}")

    def __dir__(self) -> list[str]:
        # What conditions offer as "did you mean": the declared fields beside the methods.
        return sorted({*super().__dir__(), *self.labels.names})

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"a Roadmap cannot be changed; use replace({name}=...) for a copy")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Roadmap):
            return NotImplemented
        return (self.labels, self._values) == (other.labels, other._values)

    def __hash__(self) -> int:
        return hash((self.labels, self._values))

    def __repr__(self) -> str:
        return f"Roadmap({', '.join(f'{name}={value!r}' for name, value in self.items() if value is not None)})"

    def __reduce__(self) -> tuple[Any, ...]:
        return _rebuilt, (self.labels, self.values())

    def values(self) -> dict[str, Any]:
        """``{field: value}`` for the set fields, in label order."""
        return {name: value for name, value in self.items() if value is not None}

    def items(self) -> Iterator[tuple[str, date | ProdUpgrade | None]]:
        """(field name, value) in label order, unset ones included."""
        return zip(self.labels.names, self._values)

    def changes(self, other: Roadmap) -> dict[str, tuple[Any, Any]]:
        """``{field: (this value, other's value)}`` for every field that differs, in order.

        Values compare whole: a local datetime gaining or losing its zone label is a change.
        """
        theirs = dict(other.items())
        return {name: (mine, theirs.get(name)) for name, mine in self.items() if mine != theirs.get(name)}

    def replace(self, **fields: Any) -> Roadmap:
        """A copy with the given fields set; ``None`` clears a field."""
        return Roadmap(self.labels, **{**dict(self.items()), **fields})

    def merged(self, **fields: Any) -> Roadmap:
        """A copy updated with the given fields whose value is not ``None``: news never clears."""
        return self.replace(**{name: value for name, value in fields.items() if value is not None})


def _rebuilt(labels: RoadmapLabels, values: dict[str, Any]) -> Roadmap:
    return Roadmap(labels, **values)


def _refuse_unknown(labels: RoadmapLabels, values: dict[str, Any]) -> None:
    unknown = [name for name in values if name not in labels.index]
    if unknown:
        hint = did_you_mean(unknown[0], labels.names)
        raise TypeError(f"unknown roadmap field(s) {unknown}{hint}; fields are {', '.join(labels.names)}")


def _check_type(labels: RoadmapLabels, name: str, value: Any) -> None:
    if value is None:
        return
    wall_time = labels.type_of(name) == LOCAL_DATETIME
    if wall_time and not isinstance(value, ProdUpgrade):
        raise TypeError(f"Roadmap.{name} must be a ProdUpgrade (a local datetime), got {value!r}")
    # A datetime is a date too, but would write a time the grammar does not read back.
    if not wall_time and (isinstance(value, datetime) or not isinstance(value, date)):
        raise TypeError(f"Roadmap.{name} must be a date, got {value!r}")


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
