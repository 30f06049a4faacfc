"""Just before writing, check that nobody changed the records since the cycle read them.

The Table API has no conditional update, so a state or a short description planned from values
read a minute ago would overwrite what a person typed since. Each record about to get a field
write is read again (one list request per table per 100 records, several at once on the write
lanes' threads) and its ``sys_mod_count``
compared with the one the plan was made from. A record that moved gets nothing this cycle: its
new values go into the record cache, and the next cycle plans it afresh from them, so a person's
newer value always wins over the worker's stale plan.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping

from ..actions import Write
from .send import lanes_of
from .verify import read_back

log = logging.getLogger(__name__)


def fresh_writes(client, cache, writes: list[Write], read: Mapping[tuple[str, str], Mapping[str, str]],
                 lanes: int = 1) -> list[Write]:
    """``writes`` less every write to a record that changed since it was ``read``."""
    checked = {(write.table, write.sys_id) for write in writes if write.fields and not write.is_create}
    with lanes_of(lanes) as pool:
        stale = _changed_records(client, cache, checked, read, pool)
    for write in writes:
        if (write.table, write.sys_id) in stale:
            log.info("%s %s changed since it was read; %s planned again next cycle", write.target,
                     write.number, write.kind, extra={"engagement": write.engagement, "rule": write.rule})
    return [write for write in writes if (write.table, write.sys_id) not in stale]


def record_index(engagements: Iterable) -> dict[tuple[str, str], Mapping[str, str]]:
    """Every record of the engagements as read this cycle, by (table, sys_id)."""
    index: dict[tuple[str, str], Mapping[str, str]] = {}
    for engagement in engagements:
        for record in engagement.records:
            index[(record.table, record.sys_id)] = record.raw
    return index


def _changed_records(client, cache, checked: set[tuple[str, str]], read, pool) -> set[tuple[str, str]]:
    by_table: dict[str, list[str]] = {}
    for table, sys_id in sorted(checked):
        by_table.setdefault(table, []).append(sys_id)
    stale: set[tuple[str, str]] = set()
    for table, sys_ids in by_table.items():
        current = read_back(client, table, sys_ids, pool=pool)  # whole rows: they go into the cache
        moved = [row for sys_id, row in current.items() if _moved(read.get((table, sys_id), {}), row)]
        cache.store(table, moved)
        stale |= {(table, row["sys_id"]) for row in moved}
    return stale


def _moved(before: Mapping[str, str], now: Mapping[str, str]) -> bool:
    # sys_mod_count moves on every update; sys_updated_on stands in where a table lacks it.
    for name in ("sys_mod_count", "sys_updated_on"):
        if before.get(name) and now.get(name):
            return before[name] != now[name]
    return False
