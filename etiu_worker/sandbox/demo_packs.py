"""Demo engagements of the upgrade packs other than the ETIU one, by pack, for one instance.

``seed_packs(store, today)`` seeds every pack's demo engagements beside the ETIU demo (``demo.seed``
writes nothing these read, and these write nothing the ETIU pack reads: no correlation_id, no
ETIU ticket); ``packs`` chooses which. Each pack's records carry its u_upgrade_service, which its
pack.toml's identity and match read, so that no two packs claim one engagement.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date

from .demo_crm import seed_crm
from .demo_cx import seed_cx
from .demo_parts import DemoEngagement
from .demo_pisaas import seed_pisaas
from .demo_vip import seed_vip
from .store import Store

__all__ = ["DemoEngagement", "PACKS", "SEEDERS", "seed_packs"]

SEEDERS: dict[str, Callable[[Store, date], list[DemoEngagement]]] = {
    "vip-upgrade": seed_vip,
    "aurea-cx-managed": seed_cx,
    "pisaas-monthly": seed_pisaas,
    "aurea-crm-cloud": seed_crm,
}
PACKS: tuple[str, ...] = tuple(SEEDERS)


def seed_packs(store: Store, today: date, packs: Iterable[str] = PACKS) -> dict[str, list[DemoEngagement]]:
    """Seed the demo engagements of ``packs`` (pack names, all four by default) dated relative to
    ``today``; returns each pack's engagements, with their keys, in the order seeded."""
    chosen = list(packs)
    unknown = [name for name in chosen if name not in SEEDERS]
    if unknown:
        raise ValueError(f"no demo data for the pack {unknown[0]!r}; the packs with demo data are {', '.join(PACKS)}")
    return {name: SEEDERS[name](store, today) for name in chosen}
