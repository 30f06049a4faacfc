"""The tables several packs read, each read once per cycle where the packs agree on its query.

A table is cached under its own name for the first pack that reads it, and for every later pack
that reads it with the same query: one list request per table, the state folder as a single pack
leaves it. A pack that reads a table the first one reads with another query gets its own cache
name for it (``pack:table``) and its own watermark, so that one query's delta never hides from
the other pack the rows only its query selects.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..servicenow.query import Query
from .read import scopes


@dataclass(frozen=True)
class Scope:
    """One list read: the cache name its rows are kept under, the table, the query."""

    cache_name: str
    table: str
    query: Query


def pack_scopes(playbooks: Sequence) -> dict[str, list[Scope]]:
    """Each pack's scopes, by pack name, in the order each pack declares its tables."""
    first: dict[str, str] = {}  # table -> the query text its own cache name is read with
    chosen: dict[str, list[Scope]] = {}
    for playbook in playbooks:
        chosen[playbook.name] = [_scope(playbook.name, table, query, first) for table, query in scopes(playbook.declarations)]
    return chosen


def _scope(pack: str, table: str, query: Query, first: dict[str, str]) -> Scope:
    text = first.setdefault(table, str(query))
    return Scope(table if text == str(query) else f"{pack}:{table}", table, query)


def distinct(chosen: dict[str, list[Scope]]) -> list[Scope]:
    """Every scope once, in the order the packs name them."""
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


def tables_of(pack_scopes_: list[Scope], rows: dict[str, list[dict]]) -> dict[str, list[dict]]:
    """One pack's records by table, from the rows read by cache name."""
    return {scope.table: rows[scope.cache_name] for scope in pack_scopes_}
