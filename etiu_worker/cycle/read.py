"""Read the engagements' records: a full read on a period, otherwise only what changed.

One paginated list request per table in either case; see cache.py for the watermarks. A delta
read starts from the instance's clock at the last read less the overlap: commits that land late
(``sys_updated_on`` has one-second resolution and is stamped before the commit) are still read,
and the rows it brings back unchanged are not merged again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from ..state.cache import RecordCache
from ..config import StateSettings
from ..engagement.roles import Declarations, Identity
from .progress import SyncProgress
from ..servicenow.query import Query
from .user_zone import check_user_time_zone
from ..engagement.sharing import shared

log = logging.getLogger(__name__)
STAMP = "%Y-%m-%d %H:%M:%S"
Scoped = Query | Sequence[Query]  # one query, or several ORed


def scopes(declarations: Declarations) -> list[tuple[str, Query]]:
    """Each table the pack's roles live in, in the order it declares them, with the query that
    selects the engagements' records: the field carrying the engagement key is not empty, or, for a
    role linked by a reference, the key field of the record it points at (dot-walked: one list,
    not a query per record). A role found from the records pointing at it (``referenced_by``) is
    read by its identity: the field holding its code, or containing its words. The first role
    declared on a table chooses its query."""
    found: dict[str, Query] = {}
    for role, record in declarations.records.items():
        path = _key_path(declarations, role)
        query = Query.where(path, "ISNOTEMPTY") if path else _identity_query(record.identity)
        if record.table not in found and query is not None:
            found[record.table] = query
    return list(found.items())


def scope_routes(declarations: Declarations) -> dict[str, tuple[str, ...]]:
    """For each table of ``scopes``, the table of the record each hop of its query's dot-walk
    points at (none for a plain field): where the cached rows to follow it are."""
    found: dict[str, tuple[str, ...]] = {}
    for role, record in declarations.records.items():
        if record.table not in found and (_key_path(declarations, role) or record.identity is not None):
            found[record.table] = _route(declarations, role) if _key_path(declarations, role) else ()
    return found


def _route(declarations: Declarations, role: str) -> tuple[str, ...]:
    link = declarations.link_of(role)
    if link.kind != "ref":
        return ()
    return (declarations.records[str(link.of)].table, *_route(declarations, str(link.of)))


def _identity_query(identity: Identity | None) -> Query | None:
    """The records of a role with no key path, by its identity; None without one (not read)."""
    if identity is None:
        return None
    if identity.kind == "code":
        return Query.where(identity.field, "=", str(identity.value))
    if identity.kind == "text":
        return Query.where(identity.field, "LIKE", str(identity.contains))
    return Query.where(identity.field, "ISNOTEMPTY")


def _key_path(declarations: Declarations, role: str, seen: tuple[str, ...] = ()) -> str:
    """The (dot-walked) field that holds the engagement key for ``role``'s records; "" for a role
    found from the records pointing at it (``referenced_by``), which is read by its identity."""
    link = declarations.link_of(role)
    if link.kind == "key":
        return str(link.field)
    if link.kind == "ref" and link.of not in seen:
        further = _key_path(declarations, str(link.of), seen + (role,))
        return f"{link.ref}.{further}" if further else ""
    return ""


def read_records(client, cache: RecordCache, declarations: Declarations, state: StateSettings, at: datetime,
                 progress: SyncProgress | None = None, own_user: str = "", user: str = "") -> Mapping[str, list[dict]]:
    """The current records of each scope's table, by table.

    A delta read leaves out the rows ``own_user`` (the worker) updated last: the cache already
    holds them as verified after its writes (``remember_own_writes``), and re-reading a burst of
    the worker's own writes would cost pages on every cycle of the overlap. A full read first
    checks that ``user``, the integration user, works in UTC.
    """
    chosen = [(table, table, query) for table, query in scopes(declarations)]
    return read_scopes(client, cache, chosen, state, at, progress, own_user=own_user, user=user)


def read_scopes(client, cache: RecordCache, chosen: list[tuple[str, str, Scoped]], state: StateSettings, at: datetime,
                progress: SyncProgress | None = None, own_user: str = "", user: str = "",
                lazy: bool = False) -> Mapping[str, list[dict]]:
    """``read_records`` for (cache name, table, query) scopes: the records by cache name; with
    ``lazy``, each table's decoded from the (open) cache only when first asked for, and a quiet
    cycle asks for none. A query may be several, ORed (``^NQ``): the packs that read one table
    (pack_reads.py). A cache read with another query than this one (a pack added, a field
    renamed) is read in full again."""
    progress = progress or SyncProgress(enabled=False)
    period = timedelta(hours=state.full_resync_hours)
    overlap = timedelta(seconds=state.watermark_overlap_seconds)
    held: dict[str, list[dict]] = {}  # a full read's rows, as read: not decoded again from the cache
    for name, table, query in chosen:
        watermark, text = cache.watermark(name), encoded(query)
        # An empty watermark: the table was empty at its full read and the instance sent no clock.
        if not watermark or cache.query(name) != text or cache.full_sync_due(name, at, period):
            log.info("full read of %s", table, extra={"table": table})
            if user:
                check_user_time_zone(client, table, user)
                user = ""  # one table tells
            rows, read_at = _timed(client, lambda: _full_rows(client, table, text, progress))
            cache.replace(name, rows, at, read_at=read_at, query=text)
            held[name] = _in_cache_order(rows)  # the cache's rows, without decoding them a second time
        else:
            since = (datetime.strptime(watermark, STAMP) - overlap).strftime(STAMP)
            delta = encoded(query, _delta_terms(since, own_user))
            rows, read_at = _timed(client, lambda: client.list(table, delta))
            cache.merge(name, rows, read_at=read_at)
        del rows  # the next table's read does not share the peak with this one's answer
    tables = CachedTables(cache, [name for name, _, _ in chosen], held)
    return tables if lazy else dict(tables)


class CachedTables(Mapping):
    """The cached rows of some tables by cache name, each table decoded on first use and kept
    (the cycle uses them before it merges its own writes into the cache)."""

    def __init__(self, cache: RecordCache, names: Sequence[str], held: dict[str, list[dict]]) -> None:
        self._cache, self._names, self._held = cache, list(names), held

    def __getitem__(self, name: str) -> list[dict]:
        if name not in self._names:
            raise KeyError(name)
        if name not in self._held:
            memo: dict[str, str] = {}  # the table's texts, shared chunk by chunk as they are decoded
            self._held[name] = self._cache.records(name, lambda rows: shared(rows, memo))
        return self._held[name]

    def __iter__(self):
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)


def _full_rows(client, table: str, query: str, progress: SyncProgress) -> list[dict]:
    """A full read's rows, their texts shared page by page (one memo for the table): each page's
    raw rows go as soon as they are shared, so the table is never held twice over."""
    memo: dict[str, str] = {}
    rows: list[dict] = []
    for page in client.iter_pages(table, query, on_page=progress.on_page(table)):
        rows += shared(page, memo)
    return rows


def _in_cache_order(rows: list[dict]) -> list[dict]:
    """A full read's rows as ``cache.records`` returns them once stored: one per sys_id (the last
    read), in sys_id order."""
    by_id = {row["sys_id"]: row for row in rows}
    return [by_id[sys_id] for sys_id in sorted(by_id)]


def encoded(query: Scoped, terms: tuple[tuple[str, str, str], ...] = ()) -> str:
    """The encoded query of one query or of several ORed (``^NQ``), ``terms`` ANDed to each."""
    queries = (query,) if isinstance(query, Query) else tuple(query)
    for field, operator, value in terms:
        queries = tuple(one.and_where(field, operator, value) for one in queries)
    return "^NQ".join(str(one) for one in queries)


def _delta_terms(since: str, own_user: str) -> tuple[tuple[str, str, str], ...]:
    updated = (("sys_updated_on", ">=", since),)
    return updated + ((("sys_updated_by", "!=", own_user),) if own_user else ())


def _timed(client, read) -> tuple[list[dict], str]:
    """``read()``'s rows, and the instance's clock when it started ("" when the instance sends no
    ``Date``): the next delta reads from there (less the overlap), however old the newest row is,
    so a quiet table costs one request with no row once its last change is an overlap behind."""
    started = time.monotonic()
    rows = read()
    answered = client.instance_now()
    if answered is None:
        return rows, ""
    return rows, (answered - timedelta(seconds=time.monotonic() - started)).strftime(STAMP)


def remember_own_writes(cache: RecordCache, declarations: Declarations, outcomes, read=None,
                        cache_names: dict[str, list[str]] | None = None) -> int:
    """Put the records the worker wrote, as ServiceNow answered, into the cache once verified;
    return how many records someone else changed between the worker's read and its writes.

    Only verified writes: an answer to a write that did not save would make the cache say what
    the instance does not, and the delta read no longer brings the worker's own updates back.
    And only where the worker knows it made every update since its read: each answer's
    ``sys_mod_count`` one above the last one it knew (``read``: the records as this cycle read
    them). A record that moved otherwise is left to be read again: the caller makes the next
    delta read bring back the worker's own updates too.
    """
    names = cache_names if cache_names is not None else {table: [table] for table, _ in scopes(declarations)}
    by_table: dict[str, list[dict]] = {}
    moved = _moved_meanwhile(outcomes, read or {})
    for outcome in outcomes:
        key = (outcome.write.table, outcome.saved.get("sys_id", ""))
        if outcome.status == "done" and key[1] and key[0] in names and key not in moved:
            by_table.setdefault(key[0], []).append(outcome.saved)
    for table, rows in by_table.items():
        own, *others = names[table]
        cache.merge(own, rows)
        for name in others:
            held = cache.sys_ids(name)
            cache.merge(name, [row for row in rows if row.get("sys_id") in held])
    for table, sys_id in sorted(moved):
        log.warning("%s %s was changed by someone else while the worker wrote to it; it is read again next cycle",
                    table, sys_id, extra={"table": table})
    return len(moved)


def _moved_meanwhile(outcomes, read) -> set[tuple[str, str]]:
    """(table, sys_id) of each written record whose update count jumped past the worker's own writes."""
    known: dict[tuple[str, str], int | None] = {}
    moved: set[tuple[str, str]] = set()
    # Writes that shared one request share its answer: one update of the record, counted once.
    for outcome in {id(outcome.saved): outcome for outcome in outcomes}.values():
        key = (outcome.write.table, outcome.saved.get("sys_id", ""))
        count = _count(outcome.saved)
        if not key[1] or count is None:
            continue
        before = known.get(key, _count(read.get(key, {})))
        if before is not None and count != before + 1:
            moved.add(key)
        known[key] = count
    return moved


def _count(record) -> int | None:
    try:
        return int(record.get("sys_mod_count", ""))
    except (TypeError, ValueError):
        return None
