"""The shipped pack's roadmap labels, for callers that do not pass a pack's labels yet.

Read once from the shipped pack's pack.toml (``[checks.roadmap_sync.labels]``) on import, so that
the labels are written in the pack only. The roadmap functions take it as their default.
"""

from __future__ import annotations

import tomllib

from ..config import shipped_path
from .roadmap_labels import RoadmapLabels, load_labels

_SHIPPED_PACK = shipped_path("packs") / "etiu" / "pack.toml"


def _shipped_labels() -> RoadmapLabels:
    table = tomllib.loads(_SHIPPED_PACK.read_text(encoding="utf-8"))
    return load_labels(table["checks"]["roadmap_sync"]["labels"], str(_SHIPPED_PACK))


# TRANSITIONAL: removed when callers pass the pack's labels
SHIPPED_LABELS = _shipped_labels()
