"""The tables several packs read, each read once per cycle with one query covering every pack.

A table the packs read with different queries is read with their OR (``^NQ``), cached once under
its own name, and each pack gets the rows its own query selects, filtered here with the encoded
query language's own rules (sandbox/query.py): one list request per table, however many packs.

A pack's query that dot-walks (``change_request.parent.numberISNOTEMPTY``) is followed here
through the cached rows of the tables it walks, so it can only be filtered here when each of
those tables is read with the rest of the walk among its queries (``parent.numberISNOTEMPTY`` for
change_request, ``numberISNOTEMPTY`` for the case): every record the walk can reach is then in
the cache. The shipped packs' queries all chain so. A query that does not is read on its own, as
before: its pack's own cache name (``pack:table``) and watermark, so that no delta hides from it
the rows only its query selects.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from ..sandbox import query as encoded_query
from ..servicenow.query import Query
from .read import scope_routes, scopes

_UTC = ZoneInfo("UTC")


@dataclass(frozen=True)
class Scope:
    """One pack's part of a list read: the cache name the rows are kept under, the table, what is
    read (one query, or the packs' queries ORed), the pack's own query when the rows read must be
    filtered by it (None: every row read is the pack's), and the table of each of its dot-walk's hops."""

    cache_name: str
    table: str
    query: Query | tuple[Query, ...]
    own: Query | None = None
    route: tuple[str, ...] = ()


def pack_scopes(playbooks: Sequence) -> dict[str, list[Scope]]:
    """Each pack's scopes, by pack name, in the order each pack declares its tables."""
    wanted = {p.name: [(table, query, scope_routes(p.declarations).get(table, ()))
                       for table, query in scopes(p.declarations)] for p in playbooks}
    shared = _shared(wanted)
    return {pack: [_scope(pack, *item, shared) for item in items] for pack, items in wanted.items()}


def _scope(pack: str, table: str, query: Query, route: tuple[str, ...], shared: dict[str, tuple[Query, ...]]) -> Scope:
    together = shared.get(table, ())
    if query not in together:
        return Scope(f"{pack}:{table}", table, query)
    if len(together) == 1:
        return Scope(table, table, together[0], route=route)
    return Scope(table, table, together, query, route)


def _shared(wanted: Mapping[str, list[tuple[str, Query, tuple[str, ...]]]]) -> dict[str, tuple[Query, ...]]:
    """Each table's queries read together under its name: every distinct query, less those that
    cannot be filtered here exactly, until none is left that cannot."""
    items = list(dict.fromkeys(item for listed in wanted.values() for item in listed))
    shared: dict[str, tuple[Query, ...]] = {}
    for table, query, _ in items:
        shared[table] = tuple(dict.fromkeys((*shared.get(table, ()), query)))
    changed = True
    while changed:
        changed = False
        for table, query, route in items:
            together = shared[table]
            if len(together) > 1 and query in together and not _followable(str(query), route, shared):
                shared[table] = tuple(one for one in together if one != query)
                changed = True
    return shared


def _followable(text: str, route: tuple[str, ...], shared: Mapping[str, tuple[Query, ...]]) -> bool:
    """Whether each hop of the query ``text`` leads into a table read with the rest of the walk."""
    if not route:
        return True
    rest = text.split(".", 1)[1]
    return rest in {str(query) for query in shared.get(route[0], ())} and _followable(rest, route[1:], shared)


def distinct(chosen: dict[str, list[Scope]]) -> list[Scope]:
    """Every list read once, in the order the packs name them."""
    return list({scope.cache_name: scope for scopes_of in chosen.values() for scope in scopes_of}.values())


def cache_names(chosen: dict[str, list[Scope]], pack: str) -> dict[str, list[str]]:
    """The cache names of each table, ``pack``'s own first: the worker's verified writes for that
    pack's engagements go into its own copy, and update the rows the other copies already hold
    (a row another copy's query does not select must not enter it)."""
    names = {scope.table: [scope.cache_name] for scope in chosen.get(pack, [])}
    for scope in distinct(chosen):
        if scope.cache_name not in names.setdefault(scope.table, []):
            names[scope.table].append(scope.cache_name)
    return names


def tables_of(pack_scopes_: list[Scope], rows: Mapping[str, list[dict]]) -> dict[str, list[dict]]:
    """One pack's records by table, from the rows read by cache name: on a table read for several
    packs, the rows its own query selects."""
    by_id: dict[str, dict[str, dict]] = {}
    return {scope.table: _selected(scope, rows, by_id) for scope in pack_scopes_}


def _selected(scope: Scope, rows: Mapping[str, list[dict]], by_id: dict[str, dict[str, dict]]) -> list[dict]:
    read = rows.get(scope.cache_name, [])
    if scope.own is None:
        return read
    for table in scope.route:
        if table not in by_id:
            by_id[table] = {row.get("sys_id", ""): row for row in rows.get(table, [])}
    walk = _walker(scope.route, by_id)
    known = _known(scope.table, scope.route, rows)
    selects = encoded_query.compile_filter(encoded_query.parse(str(scope.own)), known, walk, _UTC)
    return [row for row in read if selects(row)]


def _walker(route: tuple[str, ...], by_id: Mapping[str, Mapping[str, dict]]):
    """The value at a (dot-walked) path of a row, each hop looked up among its table's cached rows."""
    def value_of(record: dict, path: str) -> str:
        *hops, last = path.split(".")
        for hop, table in zip(hops, route):
            record = by_id[table].get(str(record.get(hop, "")))
            if record is None:
                return ""  # an empty or dangling reference: as an empty value on the instance
        return str(record.get(last, ""))
    return value_of


def _known(table: str, route: tuple[str, ...], rows: Mapping[str, list[dict]]):
    """Whether the instance knows each field of a path: a list without ``sysparm_fields`` answers
    every field of a row, so a field no row of its table has is one the instance drops the term
    of (and the query then selects every row, as here)."""
    def known(path: str) -> bool:
        for field, of in zip(path.split("."), (table, *route)):
            sample = rows.get(of) or [{}]
            if sample[0] and field not in sample[0]:
                return False
        return True
    return known
