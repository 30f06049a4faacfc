"""Indexes beside the sandbox's records, so that look-ups by key and delta reads are not scans.

A real instance answers ``sys_idIN<100 ids>`` and ``sys_updated_on>=...`` from database indexes;
without them the sandbox's read-backs grew with the square of the table, and a benchmark measured
the sandbox instead of the worker. The indexes only narrow the rows a query's filter is tried on:
every candidate still passes the whole filter and comes back in the default order, so an indexed
answer is exactly the answer of a scan. Each index is built on the first query that can use it
(seeding thousands of records pays nothing) and kept up to date by every later write.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Callable, Collection, Mapping
from zoneinfo import ZoneInfo

from . import dates
from .query import Query, Term, as_int
from .values import Record

KEYED = frozenset({"sys_id", "correlation_id", "element_id", "documentkey"})  # looked up by value
STAMPED = "sys_updated_on"  # looked up by range
_SCRIPT = "javascript:"


class Indexes:
    def __init__(self) -> None:
        self._keys: dict[tuple[str, str], dict[str, set[str]]] = {}  # (table, field) -> lowered value -> sys_ids
        self._stamps: dict[str, list[tuple[str, str]]] = {}  # table -> sorted (sys_updated_on, sys_id)
        self._sequence: dict[str, dict[str, int]] = {}  # table -> sys_id -> order of first insertion
        self._counter = 0
        self._versions: dict[str, int] = {}  # moves on every write to the table
        self._ordered: dict[str, tuple[int, list[Record]]] = {}  # table -> (its version, default order)

    # ----- kept up to date by the store -----

    def add(self, table: str, record: Record) -> None:
        """A record stored (new, or the new version of one removed just before)."""
        sys_id = record["sys_id"]
        if sys_id not in self._sequence.setdefault(table, {}):
            self._counter += 1
            self._sequence[table][sys_id] = self._counter
        for (indexed, field), index in self._keys.items():
            if indexed == table:
                index.setdefault(record.get(field, "").lower(), set()).add(sys_id)
        if table in self._stamps:
            insort(self._stamps[table], (record.get(STAMPED, ""), sys_id))
        self._versions[table] = self._versions.get(table, 0) + 1

    def remove(self, table: str, record: Record, *, deleted: bool = False) -> None:
        """A record about to be replaced by its new version, or ``deleted``."""
        sys_id = record["sys_id"]
        for (indexed, field), index in self._keys.items():
            if indexed == table:
                index.get(record.get(field, "").lower(), set()).discard(sys_id)
        stamps = self._stamps.get(table)
        entry = (record.get(STAMPED, ""), sys_id)
        if stamps is not None and (at := bisect_left(stamps, entry)) < len(stamps) and stamps[at] == entry:
            del stamps[at]
        if deleted:
            self._sequence.get(table, {}).pop(sys_id, None)
            self._versions[table] = self._versions.get(table, 0) + 1

    # ----- used by queries -----

    def default_order(self, table: str, rows: Mapping[str, Record]) -> list[Record]:
        """Creation time, then insertion order; cached until the table changes."""
        version = self._versions.get(table, 0)
        cached = self._ordered.get(table)
        if cached is None or cached[0] != version:
            cached = self._ordered[table] = (version, self.in_default_order(table, rows.values()))
        return cached[1]

    def in_default_order(self, table: str, records: Collection[Record]) -> list[Record]:
        sequence = self._sequence.get(table, {})
        return sorted(records, key=lambda record: (record.get("sys_created_on", ""), sequence.get(record["sys_id"], 0)))

    def candidates(self, table: str, parsed: Query, rows: Mapping[str, Record], knows: Callable[[str], bool],
                   zone: ZoneInfo) -> list[Record] | None:
        """The records that may match ``parsed`` (a superset of its matches), or None to scan them all.

        An OR of whole queries (``^NQ``) is narrowed when each of them is: the union of their candidates."""
        found: set[str] = set()
        for group in parsed.groups:
            best = self._group_candidates(table, group, rows, knows, zone)
            if best is None:
                return None
            found.update(best)
        return [rows[sys_id] for sys_id in found if sys_id in rows] if parsed.groups else None

    def _group_candidates(self, table: str, group, rows: Mapping[str, Record], knows: Callable[[str], bool],
                          zone: ZoneInfo) -> Collection[str] | None:
        best: Collection[str] | None = None
        for clause in group:
            if len(clause) == 1 and knows(clause[0].field):  # an unknown field's term is dropped
                found = self._narrow(table, clause[0], rows, zone)
                if found is not None and (best is None or len(found) < len(best)):
                    best = found
        return best

    def _narrow(self, table: str, term: Term, rows: Mapping[str, Record], zone: ZoneInfo) -> Collection[str] | None:
        if term.field in KEYED and term.op in ("=", "IN"):
            return self._with_key(table, term, rows)
        if term.field == STAMPED and term.op in (">=", ">"):
            return self._since(table, dates.query_value(term.value, zone, True), rows)
        return None

    def _with_key(self, table: str, term: Term, rows: Mapping[str, Record]) -> set[str] | None:
        operands = [term.value] if term.op == "=" else [part.strip() for part in term.value.split(",")]
        if any(as_int(operand) is not None or operand.strip().startswith(_SCRIPT) for operand in operands):
            return None  # integers also equal their other spellings ("010" = "10"): scan
        index = self._keys.get((table, term.field))
        if index is None:
            index = self._keys[(table, term.field)] = {}
            for record in rows.values():
                index.setdefault(record.get(term.field, "").lower(), set()).add(record["sys_id"])
        return set().union(*(index.get(operand.lower(), ()) for operand in operands))

    def _since(self, table: str, bound: str, rows: Mapping[str, Record]) -> list[str] | None:
        if as_int(bound) is not None:
            return None  # compared as a number, not as a stamp
        stamps = self._stamps.get(table)
        if stamps is None:
            stamps = self._stamps[table] = sorted((record.get(STAMPED, ""), record["sys_id"]) for record in rows.values())
        return [sys_id for _, sys_id in stamps[bisect_left(stamps, (bound, "")):]]
