"""The sandbox's records: decoded in memory, written through to SQLite.

Every record is a flat dict of strings. A stored dict is never changed in place (an update stores
a new dict), so a list handed out by ``select`` stays valid while the HTTP handler renders it.
Reads never touch SQLite: it is only the durable copy, read once when the store opens.

The public methods (``insert``, ``get``, ``query``, ``update``, ``delete``, ``journal``) are a
person working in the UI or a test arranging data: they may set system fields, and they return
copies. The HTTP handler uses ``create``, ``modify`` and ``select``, which behave like the Table API.
Both stamp records with ``instance_now()`` (``now()`` plus ``clock_offset``), and every update of an
audited table leaves its ``sys_audit`` rows (inserts too when ``audit_inserts`` is set).
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Container, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from . import audit, dates, query
from .indexes import Indexes
from .schema import AUDIT_TABLE, PROPERTIES_TABLE, SYS_DATE_TIMES, SYS_FIELDS, TableSpec, spec
from .values import EVERYTHING, Record, text

__all__ = ["EVERYTHING", "Record", "Store", "text"]
_SELECTION_CACHE = 32
_NOTHING: frozenset[str] = frozenset()


class Store:
    def __init__(self, path: str | os.PathLike[str] | None = None, *, user: str = "consultant",
                 timezone: str = "UTC") -> None:
        self.now: Callable[[], datetime] = dates.utc_now  # the true time; tests may replace it
        self.clock_offset = timedelta(0)  # how far the instance's clock is from ``now``
        self.audit_inserts = False  # ServiceNow's glide.sys.audit_inserts, false by default
        self.user = user  # author of the writes made through the public methods
        self.zone = ZoneInfo(timezone)
        self.lock = threading.RLock()  # guards every read and write; the HTTP handler holds it while rendering
        self._db: sqlite3.Connection | None = sqlite3.connect(
            os.fspath(path) if path else ":memory:", check_same_thread=False, isolation_level=None
        )
        self._bulk_depth = 0
        self._tables: dict[str, dict[str, Record]] = {}
        self._seen: dict[str, set[str]] = {}  # fields present on schemaless tables
        self._journal: dict[tuple[str, str, str], list[str]] = {}  # (table, sys_id, element) -> entries
        self._user_names: dict[str, str] = {}  # sys_user.user_name -> name
        self._numbers: dict[str, int] = {}  # highest number used per table
        self._version = 0  # moves on every write: a cached selection may dot-walk into any table
        self._indexes = Indexes()
        self._selections: OrderedDict[tuple[str, str], tuple[int, list[Record]]] = OrderedDict()
        self._open_database()
        self._load()

    # ----- public: a person in the UI, or a test arranging data -----

    def insert(self, table: str, fields: dict[str, object], *, user: str | None = None) -> Record:
        """Create a record; system fields given (sys_id, sys_updated_on, ...) are kept."""
        with self.lock:
            return dict(self._insert(table, fields, user or self.user, system=True, drop=_NOTHING))

    def get(self, table: str, sys_id: str) -> Record | None:
        with self.lock:
            record = self.record(table, sys_id)
            return dict(record) if record else None

    def query(self, table: str, encoded_query: str = "") -> list[Record]:
        with self.lock:
            return [dict(record) for record in self.select(table, encoded_query)]

    def update(self, table: str, sys_id: str, fields: dict[str, object], *, user: str | None = None) -> Record:
        """Edit a record; a given sys_updated_on/sys_updated_by wins over the clock and the user."""
        with self.lock:
            record = self._update(table, sys_id, fields, user or self.user, system=True, drop=_NOTHING)
            if record is None:
                raise LookupError(f"no {table} record with sys_id {sys_id}")
            return dict(record)

    def delete(self, table: str, sys_id: str) -> bool:
        with self.lock:
            record = self._tables.get(table, {}).pop(sys_id, None)
            if record is None:
                return False
            self._unindex(table, record, deleted=True)
            self._changed(table)
            self._execute("DELETE FROM records WHERE tbl = ? AND sys_id = ?", (table, sys_id))
            return True

    def journal(self, table: str | None = None, sys_id: str | None = None,
                element: str | None = None) -> list[Record]:
        """Journal entries (sys_journal_field rows), oldest first."""
        wanted = {"name": table, "element_id": sys_id, "element": element}
        with self.lock:
            return [
                dict(entry) for entry in self._tables.get("sys_journal_field", {}).values()
                if all(value is None or entry.get(key) == value for key, value in wanted.items())
            ]

    def is_empty(self) -> bool:
        """No records, the instance's own properties aside."""
        with self.lock:
            return not any(rows for table, rows in self._tables.items() if table != PROPERTIES_TABLE)

    def instance_now(self) -> datetime:
        """The instance's clock, which stamps every record and journal entry and the Date header."""
        return self.now() + self.clock_offset

    def has_table(self, table: str) -> bool:
        """Declared, or installed by putting a record in it (schemaless); else "Invalid table"."""
        return spec(table) is not None or table in self._tables

    @contextmanager
    def bulk(self) -> Iterator[None]:
        """Group many writes in one SQLite transaction (seeding thousands of records)."""
        with self.lock:
            self._bulk_depth += 1
            if self._bulk_depth == 1:
                self._execute("BEGIN")
            try:
                yield
            finally:
                self._bulk_depth -= 1
                if self._bulk_depth == 0:
                    self._execute("COMMIT")

    def close(self) -> None:
        """Close the database; the records stay readable, writes raise."""
        with self.lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    # ----- the Table API's view, used by the HTTP handler -----

    def create(self, table: str, fields: dict[str, object], user: str, drop: Container[str] = _NOTHING) -> Record:
        """POST: system fields are ignored except sys_id; fields in ``drop`` are silently not stored."""
        with self.lock:
            return self._insert(table, fields, user, system=False, drop=drop)

    def modify(self, table: str, sys_id: str, fields: dict[str, object], user: str,
               drop: Container[str] = _NOTHING) -> Record | None:
        """PUT/PATCH: a partial update; None when the record does not exist."""
        with self.lock:
            return self._update(table, sys_id, fields, user, system=False, drop=drop)

    def record(self, table: str, sys_id: str) -> Record | None:
        return self._tables.get(table, {}).get(sys_id)

    def select(self, table: str, encoded_query: str = "") -> list[Record]:
        """The matching records in query order. Shared and cached: do not change the list."""
        with self.lock:
            key = (table, encoded_query or "")
            cached = self._selections.get(key)
            if cached and cached[0] == self._version:
                self._selections.move_to_end(key)
                return cached[1]
            result = self._evaluate(table, encoded_query)
            self._selections[key] = (self._version, result)
            if len(self._selections) > _SELECTION_CACHE:
                self._selections.popitem(last=False)
            return result

    def knows(self, table: str, path: str) -> bool:
        """Whether ``path`` (a field, or a dot-walk through references) exists on ``table``."""
        resolved = self._resolve(table, path)
        if resolved is None:
            return False
        table, last = resolved
        declared = spec(table)
        return declared.declares(last) if declared else last in self._seen.get(table, SYS_FIELDS)

    def is_date_time(self, table: str, path: str) -> bool:
        """Whether ``path`` names a date-time field, whose query operands are read in the user's zone."""
        resolved = self._resolve(table, path)
        if resolved is None:
            return False
        declared = spec(resolved[0])
        return declared.is_date_time(resolved[1]) if declared else resolved[1] in SYS_DATE_TIMES

    def value_of(self, table: str) -> Callable[[Record, str], str]:
        """A reader of a field, or of a dot-walk through references, on records of ``table``."""
        def read(record: Record, path: str) -> str:
            if "." not in path:
                return record.get(path, "")
            current_table, current = table, record
            *hops, last = path.split(".")
            for hop in hops:
                target = self._reference_target(current_table, hop)
                current = self.record(target, current.get(hop, "")) if target else None
                if current is None:
                    return ""
                current_table = target
            return current.get(last, "")

        return read

    def journal_entries(self, table: str, sys_id: str, element: str) -> list[Record]:
        """The entries of one journal field of one record, oldest first."""
        entries = self._tables.get("sys_journal_field", {})
        return [entries[entry_id] for entry_id in self._journal.get((table, sys_id, element), ())
                if entry_id in entries]

    def display_name(self, user_name: str) -> str:
        """How the UI shows a user: the sys_user name, else the user name itself."""
        return self._user_names.get(user_name) or user_name

    # ----- writing -----

    def _insert(self, table: str, fields: dict[str, object], user: str, *, system: bool,
                drop: Container[str]) -> Record:
        declared = spec(table)
        values, journals, system_values = self._split(declared, fields)
        stamp = dates.stamp(self.instance_now())
        record: Record = {name: "" for name in declared.fields} if declared else {}
        if declared:
            record.update(declared.defaults)
        record.update({name: value for name, value in values.items() if name not in drop})
        record.update(sys_id=uuid.uuid4().hex, sys_created_on=stamp, sys_created_by=user,
                      sys_updated_on=stamp, sys_updated_by=user, sys_mod_count="0")
        record.update(system_values if system else {k: v for k, v in system_values.items() if k == "sys_id"})
        if record["sys_id"] in self._tables.get(table, {}):
            raise ValueError(f"{table} already has a record with sys_id {record['sys_id']}")
        self._number(table, declared, record)
        self._store(table, record)
        if self.audit_inserts:
            self._audit(table, {}, record)
        for element, entry in journals.items():
            self._append_journal(table, record["sys_id"], element, entry, record["sys_created_by"],
                                 record["sys_created_on"])
        return record

    def _update(self, table: str, sys_id: str, fields: dict[str, object], user: str, *, system: bool,
                drop: Container[str]) -> Record | None:
        old = self.record(table, sys_id)
        if old is None:
            return None
        values, journals, system_values = self._split(spec(table), fields)
        changes = {name: value for name, value in values.items()
                   if name not in drop and old.get(name) != value}
        overrides = {k: v for k, v in system_values.items() if k != "sys_id"} if system else {}
        if not changes and not journals and not overrides:
            return old  # ServiceNow skips an update that changes nothing
        stamp = dates.stamp(self.instance_now())
        record = {**old, **changes}
        if changes or journals:
            record.update(sys_updated_on=stamp, sys_updated_by=user,
                          sys_mod_count=str(int(old.get("sys_mod_count") or 0) + 1))
        record.update(overrides)
        self._store(table, record)
        self._audit(table, old, record)
        for element, entry in journals.items():
            self._append_journal(table, sys_id, element, entry, user, stamp)
        return record

    def _split(self, declared: TableSpec | None, fields: dict[str, object]) -> tuple[Record, Record, Record]:
        """Plain values, non-empty journal entries, and system fields of a write; unknown fields go."""
        values: Record = {}
        journals: Record = {}
        system_values: Record = {}
        for name, raw in fields.items():
            value = text(raw)
            if name in SYS_FIELDS:
                system_values[name] = value
            elif declared is None:
                values[name] = value
            elif name in declared.journals:
                if value:
                    journals[name] = value
            elif name in declared.fields:
                values[name] = value
        return values, journals, system_values

    def _audit(self, table: str, old: Record, new: Record) -> None:
        declared = spec(table)
        if declared is None or not declared.audited:
            return
        for row in audit.rows(table, declared, old, new):
            self._insert(AUDIT_TABLE, row, row["user"], system=True, drop=_NOTHING)

    def _append_journal(self, table: str, sys_id: str, element: str, value: str, user: str, stamp: str) -> None:
        entry = {"element": element, "element_id": sys_id, "name": table, "value": value}
        system = {"sys_created_on": stamp, "sys_created_by": user, "sys_updated_on": stamp, "sys_updated_by": user}
        self._insert("sys_journal_field", {**entry, **system}, user, system=True, drop=_NOTHING)

    def _number(self, table: str, declared: TableSpec | None, record: Record) -> None:
        if not declared or not declared.number_prefix or record.get("number"):
            return
        highest = max(self._numbers.get(table, 0), declared.number_start - 1)
        record["number"] = f"{declared.number_prefix}{highest + 1:07d}"

    def _store(self, table: str, record: Record) -> None:
        rows = self._tables.setdefault(table, {})
        old = rows.get(record["sys_id"])
        if old is not None:
            self._unindex(table, old)
        rows[record["sys_id"]] = record
        self._index(table, record)
        self._changed(table)
        self._execute(
            "INSERT INTO records (tbl, sys_id, sys_updated_on, data) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (tbl, sys_id) DO UPDATE SET sys_updated_on = excluded.sys_updated_on, data = excluded.data",
            (table, record["sys_id"], record.get("sys_updated_on", ""), json.dumps(record)),
        )

    def _changed(self, table: str) -> None:
        self._version += 1

    # ----- indexes kept beside the records -----

    def _index(self, table: str, record: Record) -> None:
        self._indexes.add(table, record)
        declared = spec(table)
        if declared is None:
            self._seen.setdefault(table, set(SYS_FIELDS)).update(record)
        if table == "sys_journal_field":
            key = (record.get("name", ""), record.get("element_id", ""), record.get("element", ""))
            entries = self._journal.setdefault(key, [])
            if record["sys_id"] not in entries:
                entries.append(record["sys_id"])
        if table == "sys_user" and record.get("user_name"):
            self._user_names[record["user_name"]] = record.get("name", "")
        prefix = declared.number_prefix if declared else ""
        number = record.get("number", "")
        if prefix and number.startswith(prefix) and number[len(prefix):].isdigit():
            self._numbers[table] = max(self._numbers.get(table, 0), int(number[len(prefix):]))

    def _unindex(self, table: str, record: Record, *, deleted: bool = False) -> None:
        self._indexes.remove(table, record, deleted=deleted)
        if table == "sys_journal_field":
            key = (record.get("name", ""), record.get("element_id", ""), record.get("element", ""))
            entries = self._journal.get(key, [])
            if record["sys_id"] in entries:
                entries.remove(record["sys_id"])
        if table == "sys_user":
            self._user_names.pop(record.get("user_name", ""), None)

    # ----- reading -----

    def _resolve(self, table: str, path: str) -> tuple[str, str] | None:
        """The table and field a dot-walked path ends on, or None if a hop is not a reference."""
        *hops, last = path.split(".")
        for hop in hops:
            target = self._reference_target(table, hop)
            if target is None:
                return None
            table = target
        return table, last

    def _reference_target(self, table: str, field: str) -> str | None:
        declared = spec(table)
        return declared.references.get(field) if declared else None

    def _evaluate(self, table: str, encoded_query: str) -> list[Record]:
        parsed = query.parse(encoded_query)
        read = self.value_of(table)
        knows = lambda path: self.knows(table, path)  # noqa: E731 - a predicate handed on twice
        matches = query.compile_filter(parsed, knows, read, self.zone, lambda path: self.is_date_time(table, path))
        order = [(name, desc) for name, desc in parsed.order if self.knows(table, name)]
        records = self._tables.get(table, {})
        candidates = self._indexes.candidates(table, parsed, records, knows, self.zone)
        if candidates is None:
            rows = [record for record in self._indexes.default_order(table, records) if matches(record)]
        else:
            rows = self._indexes.in_default_order(table, [record for record in candidates if matches(record)])
        query.sort(rows, order, read)
        return rows

    # ----- SQLite -----

    def _open_database(self) -> None:
        self._execute("PRAGMA journal_mode = WAL")
        self._execute("PRAGMA synchronous = NORMAL")
        self._execute(
            "CREATE TABLE IF NOT EXISTS records (tbl TEXT NOT NULL, sys_id TEXT NOT NULL, "
            "sys_updated_on TEXT NOT NULL, data TEXT NOT NULL, PRIMARY KEY (tbl, sys_id))"
        )
        self._execute("CREATE INDEX IF NOT EXISTS records_updated ON records (tbl, sys_updated_on)")

    def _load(self) -> None:
        for table, data in self._execute("SELECT tbl, data FROM records ORDER BY rowid").fetchall():
            record = json.loads(data)
            self._tables.setdefault(table, {})[record["sys_id"]] = record
            self._index(table, record)

    def _execute(self, sql: str, parameters: tuple[object, ...] = ()) -> sqlite3.Cursor:
        if self._db is None:
            raise RuntimeError("the sandbox store is closed")
        return self._db.execute(sql, parameters)
