"""N engagements of all five shipped packs on one instance, built from the sandbox's demo stories.

The N engagements are split evenly between the packs (the first packs take the remainder):

* etiu: ``bench/seed.py``'s engagements (the ETIU demo's fourteen stories, keys ENG-00001, ...);
* vip-upgrade, aurea-cx-managed, pisaas-monthly, aurea-crm-cloud: engagement ``i`` of a pack
  tells the story of that pack's demo engagement ``i mod 5`` (``etiu_worker/sandbox/demo_*.py``,
  seeded by the demo's own functions); its key is the number the sandbox gives its change request
  or case, so every copy has its own. piSaaS's two release change requests (this month's and next
  month's) are seeded once and shared by all its customers, as on a real instance.

Every pack's records carry their ``u_upgrade_service`` (or, for ETIU, a correlation_id), so no two
packs claim one engagement. A person's edit (``edit``) on 1% of the engagements: on an ETIU
engagement the BP date of its ETIU01 ticket (``seed.edit_bp_dates``), on the others a comment on
the engagement's main record (sys_updated_on moves; nothing the pack reads changes).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from bench import seed
from etiu_worker.sandbox import Store, demo_crm, demo_cx, demo_pisaas, demo_vip
from etiu_worker.sandbox.demo_parts import ensure_users

ETIU = "etiu"
MODULES = {"vip-upgrade": demo_vip, "aurea-cx-managed": demo_cx, "pisaas-monthly": demo_pisaas,
           "aurea-crm-cloud": demo_crm}
PACKS = (ETIU, *MODULES)
CASE, CHANGE = "sn_customerservice_case", "change_request"
ROOT = {"vip-upgrade": CHANGE, "aurea-cx-managed": CASE, "pisaas-monthly": CASE, "aurea-crm-cloud": CASE}
TABLES = (seed.TICKETS, seed.CHANGES, seed.CTASKS, CASE, "sn_customerservice_task")


@dataclass
class Seeded:
    """What the mix seeded: the ETIU specs, and each other pack's main records (table, sys_id)."""

    etiu: list
    roots: dict[str, list[tuple[str, str]]]

    def count(self) -> dict[str, int]:
        return {ETIU: len(self.etiu), **{pack: len(roots) for pack, roots in self.roots.items()}}


def shares(count: int) -> dict[str, int]:
    """``count`` split evenly over the five packs, the first ones taking the remainder."""
    base, extra = divmod(count, len(PACKS))
    return {pack: base + (index < extra) for index, pack in enumerate(PACKS)}


def seed_mix(store: Store, count: int, today: date) -> Seeded:
    split = shares(count)
    etiu = seed.seed(store, split[ETIU], today)
    with store.bulk():
        users = ensure_users(store)
        roots = {pack: _seed_pack(store, pack, split[pack], today, users) for pack in MODULES}
    return Seeded(etiu, roots)


def _seed_pack(store: Store, pack: str, count: int, today: date, users: dict[str, str]) -> list[tuple[str, str]]:
    module = MODULES[pack]
    stories = module.ENGAGEMENTS
    releases = {}
    if pack == "pisaas-monthly":
        releases = {name: demo_pisaas._seed_release(store, release, today, users)
                    for name, release in demo_pisaas.RELEASES.items()}
    keys = []
    for index in range(count):
        story = stories[index % len(stories)]
        if releases:
            keys.append(demo_pisaas._seed(store, story, today, releases[story.release], users).key)
        else:
            keys.append(module._seed(store, story, today, users).key)
    return _roots(store, ROOT[pack], module.SERVICE, keys)


def _roots(store: Store, table: str, service: str, keys: list[str]) -> list[tuple[str, str]]:
    """The engagements' main records by their keys (numbers), in the order seeded."""
    by_number = {record["number"]: record["sys_id"] for record in store.query(table, f"u_upgrade_service={service}")}
    return [(table, by_number[key]) for key in keys]


def rows(store: Store) -> dict[str, int]:
    """Records per table the five packs read (every record of these tables is some pack's)."""
    return {table: len(store.query(table)) for table in TABLES}


def edit(store: Store, seeded: Seeded, share: float = 0.01) -> dict[str, int]:
    """A person edits ``share`` of each pack's engagements; returns the rows changed per table."""
    changed: dict[str, int] = {}
    if seeded.etiu:
        changed[seed.TICKETS] = len(seed.edit_bp_dates(store, seeded.etiu, share))
    for roots in seeded.roots.values():
        wanted = max(1, round(len(roots) * share)) if roots else 0
        step = max(1, len(roots) // wanted) if wanted else 1
        for table, sys_id in roots[::step][:wanted]:
            store.update(table, sys_id, {"comments": "Checked with the customer: no change."})
            changed[table] = changed.get(table, 0) + 1
    return changed
