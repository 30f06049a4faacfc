"""The roadmaps an engagement's memory holds, stored as data (``roadmap_data``).

Two keys of the memory hold one: ``AGREED`` (``roadmap``), the last roadmap every ticket agreed
on, and ``CARRYING`` (``carrying``), the dates the worker was carrying to the tickets when it
last wrote them; beside it ``CARRIED_FROM`` (``carried_from``) names, by label, the ticket a
person changed each of those dates on. State folders written before hold either as short-description text: that old
form is still read (parsed once, as it was), and ``upgraded`` rewrites it as data, so that the
next time the memory is saved the text form is gone.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .roadmap import parse_short_description
from .roadmap_data import roadmap_from_data, roadmap_to_data
from .roadmap_fields import Roadmap
from .roadmap_labels import RoadmapLabels

AGREED = "roadmap"
CARRYING = "carrying"
CARRIED_FROM = "carried_from"  # label -> the number of the ticket the carried date came from
ROADMAP_KEYS = (AGREED, CARRYING)


def remembered_roadmap(memory: Mapping[str, Any], key: str, labels: RoadmapLabels) -> Roadmap | None:
    """The roadmap (of ``labels``) remembered under ``key``, as data or in the old text form;
    ``None`` when none (an empty roadmap, in either form, is none too)."""
    stored = memory.get(key)
    if not stored:
        return None
    if isinstance(stored, str):
        return parse_short_description(stored, labels).roadmap
    return roadmap_from_data(stored, labels)


def remember_roadmap(roadmap: Roadmap) -> dict[str, Any]:
    """What the memory stores for ``roadmap``."""
    return roadmap_to_data(roadmap)


def upgraded(memory: Mapping[str, Any], labels: RoadmapLabels) -> dict[str, Any]:
    """``memory`` with every roadmap held in the old text form rewritten as data."""
    updated = dict(memory)
    for key in ROADMAP_KEYS:
        if isinstance(updated.get(key), str):
            roadmap = remembered_roadmap(updated, key, labels)
            updated[key] = remember_roadmap(roadmap or Roadmap(labels))
    return updated
