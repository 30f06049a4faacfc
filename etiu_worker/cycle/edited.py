"""An edited cycle: group only the engagements the rows changed since the last cycle belong to.

Incremental evaluation (incremental.py) needs every engagement's signature to know which changed;
grouping every cached row for it is most of a cycle where a person edited a few records. So each
cycle that groups keeps, with the record cache, every engagement's signature (a checkpoint:
``RecordCache.checkpoint``), and the cache logs each row stored since with its version from before.
The next cycle then decodes only what the changed rows can reach: the engagements they belong to,
before and after the change (a child record by the record it points at, a shared record by the
records pointing at it, through the cached rows),
those whose signature or memory no longer matches their evaluation mark or whose wake-up is due,
and every engagement a record so gathered belongs to, until no new one turns up. Those are
grouped exactly as the whole cache would group them; every other engagement keeps its signature.

Where that cannot be done exactly, the cycle groups every row as before (logged at DEBUG with the
reason): no checkpoint made with these packs and settings, a row whose key or reference field
changed (it moves between engagements, or its children do), a pack with a record found by the
records that point at it and not shared (several engagements may claim it), or too many
engagements to gather one by one (a shared record changed, say).
"""

from __future__ import annotations

import hashlib
import logging
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from ..engagement.grouping import Grouping
from ..engagement.linking import link_order
from ..engagement.roles import Declarations
from ..engagement.values import plain
from .pack_reads import distinct, tables_of

log = logging.getLogger(__name__)

_ROUNDS = 6  # gatherings before giving up: each adds the engagements the last one's records reach
_SHARE = 4  # more than a quarter of the engagements to gather: grouping every row is cheaper


@dataclass
class Grouped:
    """The engagements a cycle grouped, and every engagement's signature."""

    groupings: dict[str, Grouping]  # by pack name
    signatures: dict[str, str]  # every engagement found -> its signature (a digest, across packs)
    fresh: dict[str, str] = field(default_factory=dict)  # the signatures computed this cycle
    dropped: set[str] = field(default_factory=set)  # engagements gathered and no longer found
    whole: bool = True  # every row was grouped

    def present(self) -> dict[str, set[str]]:
        return {name: set(grouping.keys()) for name, grouping in self.groupings.items()}


def label(fingerprint: str, chosen) -> str:
    """What a checkpoint is made with: the packs' and settings' fingerprint, the tables read."""
    return fingerprint + "|" + ",".join(scope.cache_name for scope in distinct(chosen))


def whole(playbooks: Sequence, chosen, rows: Mapping[str, list[dict]], zone: str) -> Grouped:
    """Every cached row grouped."""
    groupings = {p.name: Grouping(p.declarations, tables_of(chosen[p.name], rows), zone) for p in playbooks}
    signatures = signed(groupings, {key for grouping in groupings.values() for key in grouping.keys()})
    return Grouped(groupings, signatures, dict(signatures))


def signed(groupings: Mapping[str, Grouping], keys) -> dict[str, str]:
    """The signature of each of ``keys`` some grouping found, across packs, as a digest."""
    present = {name: set(grouping.keys()) for name, grouping in groupings.items()}
    return {key: _digest("#".join(f"{name}={grouping.signature(key)}" for name, grouping in groupings.items()
                                  if key in present[name])) for key in sorted(keys) if any(key in p for p in present.values())}


def grouped(playbooks: Sequence, chosen, cache, made_with: str, zone: str,
            stale: Callable[[str, str], bool]) -> Grouped | None:
    """The engagements the rows changed since the checkpoint reach, grouped, and every other
    engagement's signature as kept; None when that cannot be done exactly (group every row).
    ``stale(key, signature)``: whether the engagement must be evaluated, its records unchanged."""
    kept = cache.groups(made_with)
    if kept is None:
        return _fallback("no checkpoint made with these packs and settings")
    changes = cache.changes()
    start = _changed_keys(playbooks, chosen, cache, changes)
    if isinstance(start, str):
        return _fallback(start)
    start |= {key for key, signature in kept.items() if key not in start and stale(key, signature)}
    found = _closed(playbooks, chosen, cache, start, zone, max(50, len(kept) // _SHARE))
    if isinstance(found, str):
        return _fallback(found)
    groupings, keys = found
    fresh = signed(groupings, keys)
    signatures = {key: signature for key, signature in kept.items() if key not in keys} | fresh
    log.debug("edited cycle: %d rows changed, %d of %d engagements grouped", len(changes), len(keys), len(signatures))
    return Grouped(groupings, signatures, fresh, set(keys) - set(fresh), whole=False)


def _fallback(why: str) -> None:
    log.debug("every cached row is grouped: %s", why)
    return None


def _closed(playbooks, chosen, cache, keys: set[str], zone: str, most: int):
    """The groupings of the rows of ``keys`` and of every engagement those rows belong to, and
    those keys; or why not."""
    keys = set(keys)
    for _ in range(_ROUNDS):
        if len(keys) > most:
            return f"{len(keys)} engagements to gather"
        rows = _gather(playbooks, chosen, cache, keys)
        groupings = {p.name: Grouping(p.declarations, tables_of(chosen[p.name], rows), zone) for p in playbooks}
        found = {key for grouping in groupings.values() for key in grouping.keys()}
        if found <= keys:
            return groupings, keys
        keys |= found
    return f"the records reach ever more engagements after {_ROUNDS} rounds"


def _changed_keys(playbooks, chosen, cache, changes) -> set[str] | str:
    """The engagements the changed rows belong to (their key fields and references unchanged, it
    is the same before and after); or why it cannot be told."""
    by_name: dict[str, list[tuple[str, dict | None]]] = defaultdict(list)
    for name, sys_id, old in changes:
        by_name[name].append((sys_id, old))
    keys: set[str] = set()
    for name, items in by_name.items():
        current = {row["sys_id"]: row for row in cache.rows(name, [sys_id for sys_id, _ in items])}
        for playbook in playbooks:
            tables = {scope.cache_name: scope.table for scope in chosen[playbook.name]}
            if name not in tables:
                continue
            names = {scope.table: scope.cache_name for scope in chosen[playbook.name]}
            for sys_id, old in items:
                new = current.get(sys_id)
                why = "a changed row is gone" if new is None else _unfollowable(playbook.declarations, tables[name], old, new)
                if why:
                    return f"{name} {sys_id}: {why}"
                keys |= _row_keys(playbook.declarations, names, cache, tables[name], new)
    return keys


def _unfollowable(declarations: Declarations, table: str, old: dict | None, new: dict) -> str:
    """Why the engagements of this changed row cannot be told from its new version alone ("": they can)."""
    for role, record in declarations.records.items():
        link = declarations.link_of(role)
        if link.kind == "referenced_by" and not link.shared:
            return f"{role} is found by reference, not shared (claims)"
        moved = [name for name in (link.field, link.ref) if record.table == table and name]
        if link.kind == "referenced_by" and declarations.records[str(link.of)].table == table:
            moved.append(str(link.referenced_by))
        for name in moved if old is not None else ():
            if plain(old.get(name)) != plain(new.get(name)):
                return f"its field {name} changed"
    return ""


def _row_keys(declarations: Declarations, names: Mapping[str, str], cache, table: str, row: dict) -> set[str]:
    """The engagements a row of ``table`` can belong to, in any of the roles on its table."""
    found: set[str] = set()
    for role, record in declarations.records.items():
        if record.table == table:
            found |= _role_keys(declarations, names, cache, role, row)
    return found


def _role_keys(declarations: Declarations, names: Mapping[str, str], cache, role: str, row: dict) -> set[str]:
    """The engagements the row would belong to in ``role``: by its key, or the keys of the record
    it points at, or of the records pointing at it (a shared record: every engagement sharing it)."""
    link = declarations.link_of(role)
    if link.kind == "key":
        return {plain(row.get(str(link.field)))} - {""}
    name = names.get(declarations.records[str(link.of)].table)
    if name is None:
        return set()
    if link.kind == "ref":
        others = cache.rows(name, [plain(row.get(str(link.ref)))])
    else:
        others = cache.rows_where(name, str(link.referenced_by), [plain(row.get("sys_id"))])
    return set().union(*(_role_keys(declarations, names, cache, str(link.of), other) for other in others))


def _gather(playbooks, chosen, cache, keys: set[str]) -> dict[str, list[dict]]:
    """By cache name, every cached row a role of some pack finds for ``keys`` (whatever its
    identity), and the records the dot-walk of a table's shared read walks through."""
    held: dict[str, dict[str, dict]] = defaultdict(dict)
    asked: dict[tuple[str, str, frozenset], list[dict]] = {}
    for playbook in playbooks:
        declarations = playbook.declarations
        names = {scope.table: scope.cache_name for scope in chosen[playbook.name]}
        found: dict[str, list[dict]] = {}
        for role in link_order(declarations):
            name, link = names.get(declarations.records[role].table), declarations.link_of(role)
            found[role] = _found(cache, asked, name, link, keys, found) if name else []
            held[name or ""].update((row["sys_id"], row) for row in found[role])
    for scope in distinct(chosen):
        if scope.own is not None and scope.route:
            _walked(cache, scope, held)
    return {name: [rows[sys_id] for sys_id in sorted(rows)] for name, rows in held.items() if name}


def _found(cache, asked, name: str, link, keys: set[str], found: Mapping[str, list[dict]]) -> list[dict]:
    if link.kind == "key":
        field, values = str(link.field), keys
    elif link.kind == "ref":
        field, values = str(link.ref), {plain(row.get("sys_id")) for row in found[str(link.of)]}
    else:
        field, values = "sys_id", {plain(row.get(str(link.referenced_by))) for row in found[str(link.of)]}
    question = (name, field, frozenset(values))
    if question not in asked:
        asked[question] = cache.rows(name, values) if field == "sys_id" else cache.rows_where(name, field, values)
    return asked[question]


def linked_fields(playbooks: Sequence) -> set[str]:
    """The fields an edited cycle finds cached rows by (keys, references), besides sys_id: the cache
    indexes them after a full grouping, so that the first edited cycle does not build the indexes."""
    fields: set[str] = set()
    for playbook in playbooks:
        for role in playbook.declarations.records:
            link = playbook.declarations.link_of(role)
            field = {"key": link.field, "ref": link.ref, "referenced_by": link.referenced_by}.get(link.kind)
            fields |= {str(field)} if field else set()
    return fields


def _walked(cache, scope, held: dict[str, dict[str, dict]]) -> None:
    """Add the records each hop of ``scope``'s own dot-walked query reaches from its rows: the
    pack's rows are filtered through them (pack_reads.tables_of)."""
    rows = list(held.get(scope.cache_name, {}).values())
    for hop, table in zip(str(scope.own).split("."), scope.route):
        rows = cache.rows(table, {plain(row.get(hop)) for row in rows})
        held[table].update((row["sys_id"], row) for row in rows)


def _digest(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()
