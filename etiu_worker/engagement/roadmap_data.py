"""A roadmap as plain data (JSON-ready), beside its short-description text: what memory stores.

Each set field becomes ``field name -> value``, the value written by its type, never by its
field: a date as its ISO date (``"2026-11-09"``), a local datetime as its wall time and
the zone label as written (``{"local": "2026-12-01T18:00", "zone_label": "CST"}``; the label
``null`` when none was written). Unset fields are left out, so an empty roadmap is ``{}``.
Reading it back gives the same ``Roadmap``; anything else is a ``ValueError`` saying what.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from .roadmap_fields import Roadmap
from .roadmap_labels import RoadmapLabels
from .roadmap_prod import ProdUpgrade

_WALL_TIME = {"local", "zone_label"}


def roadmap_to_data(roadmap: Roadmap) -> dict[str, Any]:
    """The set fields of ``roadmap`` as JSON-ready values, in field order."""
    return {name: _value_to_data(value) for name, value in roadmap.items() if value is not None}


def roadmap_from_data(data: Mapping[str, Any], labels: RoadmapLabels) -> Roadmap:
    """The ``Roadmap`` of ``labels`` that ``roadmap_to_data`` wrote, or ``ValueError`` naming the bad field."""
    if not isinstance(data, Mapping):
        raise ValueError(f"a roadmap as data is a mapping of field to value, got {data!r}")
    unknown = sorted(set(data) - set(labels.names))
    if unknown:
        raise ValueError(f"unknown roadmap field(s) {unknown}; fields are {list(labels.names)}")
    values = {name: _value_from_data(name, value) for name, value in data.items()}
    try:
        return Roadmap(labels, **values)
    except TypeError as error:  # a value of the wrong type for its field
        raise ValueError(str(error)) from None


def _value_to_data(value: date | ProdUpgrade) -> str | dict[str, str | None]:
    if isinstance(value, ProdUpgrade):
        return {"local": value.local.isoformat(timespec="minutes"), "zone_label": value.zone_label}
    return value.isoformat()


def _value_from_data(name: str, value: Any) -> date | ProdUpgrade:
    try:
        if isinstance(value, str):
            return date.fromisoformat(value)
        if isinstance(value, Mapping) and set(value) == _WALL_TIME:
            return ProdUpgrade(datetime.fromisoformat(value["local"]), value["zone_label"])
    except (TypeError, ValueError) as error:
        raise ValueError(f"roadmap field {name} {value!r} does not read back: {error}") from None
    raise ValueError(
        f"roadmap field {name} {value!r} is neither an ISO date nor a wall time "
        f'({{"local": "YYYY-MM-DDTHH:MM", "zone_label": ...}})'
    )
