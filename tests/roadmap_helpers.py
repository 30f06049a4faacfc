"""The etiu pack's roadmap labels, read from packs/etiu/pack.toml, and a Roadmap built with them."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from etiu_worker.engagement.roadmap import Roadmap
from etiu_worker.engagement.roadmap_labels import RoadmapLabels, load_labels

ETIU_PACK = Path(__file__).resolve().parent.parent / "packs" / "etiu" / "pack.toml"


def pack_labels(path: Path) -> RoadmapLabels:
    """The roadmap labels a pack.toml declares."""
    table = tomllib.loads(path.read_text(encoding="utf-8"))
    return load_labels(table["checks"]["roadmap_sync"]["labels"], str(path))


ETIU_LABELS = pack_labels(ETIU_PACK)
FIELDS = ETIU_LABELS.names


def etiu_roadmap(*values: Any, **named: Any) -> Roadmap:
    """A Roadmap of the etiu labels: values in label order, or by name."""
    return Roadmap(ETIU_LABELS, **dict(zip(FIELDS, values)), **named)
