"""Raw records, table by table, grouped into engagements as a pack's roles declare. No I/O.

``build_engagements`` finds the engagement keys on the roles that carry them, follows each role's
link (the key field, a reference either way, a shared record), types the records, chooses the one
that counts (``one``, ``latest``, ``each``), reads the zone and display name, and notes as
problems what the playbook cannot trust: duplicates, unknown states and codes, unreadable fields,
an unknown time zone, a record two engagements claim. ``tables_to_read`` says what to read.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .engagements import Engagement
from .linking import LinkIndex, RawRecord, link_order
from .records import Problem, Record, RecordReader
from .roles import UPDATED_ON, Declarations, Identity, Link, RoleDeclaration
from .values import parse_sn_datetime, plain

_EVERY_RECORD = ("sys_id", "number", UPDATED_ON)


def build_engagements(
    declarations: Declarations,
    raw_by_table: Mapping[str, Iterable[RawRecord]],
    default_zone: str,
) -> list[Engagement]:
    """The engagements in the records, by key; ``default_zone`` when the pack names none."""
    grouping = Grouping(declarations, raw_by_table, default_zone)
    return grouping.build(grouping.keys())


class Grouping:
    """The records of one batch grouped by engagement key, raw, with a signature per key; only
    the engagements asked for are built (typed, chosen, checked), which is where the cost is.

    A key's ``signature`` changes whenever anything its built engagement is made of changes: the
    raw records found for it in each role (each by sys_id, update stamp and update count), the
    records of unknown codes it carries, and which other engagements claim one of its records.
    """

    def __init__(self, declarations: Declarations, raw_by_table: Mapping[str, Iterable[RawRecord]], default_zone: str):
        tables = {table: tuple(records) for table, records in raw_by_table.items()}
        self.declarations = declarations
        self.builder = _Builder(declarations, tables, default_zone)
        self._keys = self.builder.keys()
        self._raw = {key: self.builder.find(key) for key in self._keys}
        self.claims = _raw_claims(declarations, self._raw)
        self._contested: dict[str, list[str]] = defaultdict(list)
        for (role, sys_id), keys in sorted(self.claims.items()):
            for key in keys if len(keys) > 1 else ():
                self._contested[key].append(f"claim:{role}:{sys_id}:{','.join(keys)}")

    def keys(self) -> list[str]:
        return list(self._keys)

    def signature(self, key: str) -> str:
        """A stable text standing for everything the engagement ``key`` is built from."""
        raw = self._raw[key]
        parts = [f"{role}:{_stamps(records)}" for role, records in raw.items()]
        parts += [f"code:{_stamps(self.builder.strays(key, raw))}"]
        parts += self._contested.get(key, [])
        return "|".join(parts)

    def build(self, keys: Iterable[str]) -> list[Engagement]:
        """The engagements ``keys``, each with its problems, the claims of every key counted."""
        built = [self.builder.engagement(key) for key in keys]
        return [replace(engagement, problems=engagement.problems + _claimed(engagement, self.claims)) for engagement in built]


def tables_to_read(declarations: Declarations) -> dict[str, tuple[str, ...]]:
    """Each table the roles live in, with the fields the grouping and the aliases need."""
    fields: dict[str, set[str]] = defaultdict(set)
    for name, role in declarations.records.items():
        link = declarations.link_of(name)
        fields[role.table] |= {*_EVERY_RECORD, role.state_field, *(item.field for item in role.fields.values())}
        fields[role.table] |= {value for value in (link.field, link.ref, role.identity and role.identity.field) if value}
        if link.referenced_by:
            fields[declarations.records[str(link.of)].table].add(link.referenced_by)
    engagement = declarations.engagement
    for part in (engagement.zone, engagement.name):
        if part is not None and part.role is not None and part.field is not None:
            fields[declarations.records[part.role].table].add(part.field)
    return {table: tuple(sorted(names)) for table, names in sorted(fields.items())}


class _Builder:
    """The indexes of one batch of raw records, and how one engagement is built from them."""

    def __init__(self, declarations: Declarations, tables: Mapping[str, tuple[RawRecord, ...]], default_zone: str):
        self.declarations = declarations
        self.order = link_order(declarations)
        self.default_zone = declarations.engagement.zone.default or default_zone
        self.indexes = {
            name: LinkIndex.of(declarations.link_of(name), _matching(role.identity, tables.get(role.table, ())))
            for name, role in declarations.records.items()
        }
        self.unknown = _unknown_codes(declarations, tables)
        self.readers = {name: RecordReader(name, role) for name, role in declarations.records.items()}

    def keys(self) -> list[str]:
        """Every engagement key a record carries, whether or not its code is known."""
        indexes = [*self.indexes.values(), *(index for _, index in self.unknown)]
        return sorted({key for index in indexes if index.link.kind == "key" for key in index.by_value})

    def engagement(self, key: str) -> Engagement:
        problems: list[Problem] = []
        raw = self.find(key)
        zone = self.zone(raw, problems)
        found = {role: self.read(role, raw[role], zone, problems) for role in self.order}
        chosen = {role: self.choose(role, found[role], problems) for role in self.order}
        problems += self.unknown_codes(key, raw)
        return Engagement(key, zone, self.name(key, raw), MappingProxyType(found), MappingProxyType(chosen),
                                 _unique_keys(problems))

    def find(self, key: str) -> dict[str, list[RawRecord]]:
        found: dict[str, list[RawRecord]] = {}
        for role in self.order:
            found[role] = self.indexes[role].found_by(key, found)
        return found

    def read(self, role: str, raws: list[RawRecord], zone: ZoneInfo, problems: list[Problem]) -> tuple[Record, ...]:
        declaration = self.declarations.records[role]
        reader = self.readers[role]
        records = [reader.read(raw, zone, problems) for raw in raws]
        records.sort(key=lambda record: (record.number, record.sys_id))
        if declaration.identity and declaration.identity.kind == "step" and declaration.many == "each":
            problems += _repeated_steps(role, records)
        return tuple(records)

    def choose(self, role: str, records: tuple[Record, ...], problems: list[Problem]) -> Record | None:
        declaration = self.declarations.records[role]
        if declaration.many == "latest":
            return max(records, key=_age, default=None)
        if len(records) > 1 and declaration.many == "one":
            problems.append(_duplicates(role, declaration, records))
        return records[0] if len(records) == 1 else None

    def zone(self, raw: Mapping[str, list[RawRecord]], problems: list[Problem]) -> ZoneInfo:
        declared = self.declarations.engagement.zone
        record = self.first(declared.role, raw)
        name = plain(record.get(str(declared.field))) if record else ""
        try:
            return ZoneInfo(name or self.default_zone)
        except (ZoneInfoNotFoundError, ValueError):
            table = self.declarations.records[str(declared.role)].table
            where = _where(table, record) if record else {}
            problems.append(Problem(f"timezone:{name}", f"the client time zone {name!r} is not an IANA zone such as "
                                    f"America/New_York (read from {table}.{declared.field})", **where))
            return ZoneInfo(self.default_zone)

    def name(self, key: str, raw: Mapping[str, list[RawRecord]]) -> str:
        declared = self.declarations.engagement.name
        record = self.first(declared.role, raw) if declared else None
        if declared is None or record is None:
            return key
        text = plain(record.get(declared.field)).strip()
        if declared.after_last is not None:
            text = text.rsplit(declared.after_last, 1)[1].strip() if declared.after_last in text else ""
        return text or key

    def first(self, role: str | None, raw: Mapping[str, list[RawRecord]]) -> RawRecord | None:
        """The raw record of ``role`` the zone and the name are read from: the newest of a
        ``latest`` role, else the first found."""
        records = raw.get(role, []) if role else []
        if role and records and self.declarations.records[role].many == "latest":
            return max(records, key=_raw_age)
        return records[0] if records else None

    def strays(self, key: str, raw: Mapping[str, list[RawRecord]]) -> list[RawRecord]:
        """The records of unknown codes the engagement ``key`` finds."""
        return [record for _, index in self.unknown for record in index.found_by(key, raw)]

    def unknown_codes(self, key: str, raw: Mapping[str, list[RawRecord]]) -> list[Problem]:
        problems = []
        for (table, field), index in self.unknown:
            for record in index.found_by(key, raw):
                number, code = plain(record.get("number")), plain(record.get(field))
                problems.append(Problem(
                    f"unknown-code:{number}", f"{number} has the unknown code {code!r} in {field}: "
                    f"no role of this pack has it (known: {', '.join(_codes(self.declarations, table, field))})",
                    table, plain(record.get("sys_id")), number))
        return problems


def _where(table: str, record: RawRecord) -> dict[str, str]:
    return {"table": table, "sys_id": plain(record.get("sys_id")), "number": plain(record.get("number"))}


def _matching(identity: Identity | None, records: Iterable[RawRecord]) -> list[RawRecord]:
    if identity is None:
        return list(records)
    matches, field = identity.matcher(), identity.field
    return [record for record in records if matches(plain(record.get(field)))]


def _unknown_codes(declarations: Declarations, tables: Mapping[str, tuple[RawRecord, ...]]) -> list[tuple[tuple[str, str], LinkIndex]]:
    """For each table and field a role reads a code from, the records no role of the table
    matches, indexed once per distinct link of those roles."""
    found = []
    for (table, field), links in _code_links(declarations).items():
        claims = [_claims(role) for role in declarations.records.values() if role.table == table]
        strays = [record for record in tables.get(table, ()) if not any(claim(record) for claim in claims)]
        found += [((table, field), LinkIndex.of(link, strays)) for link in links]
    return found


def _code_links(declarations: Declarations) -> dict[tuple[str, str], list[Link]]:
    links: dict[tuple[str, str], list[Link]] = defaultdict(list)
    for name, role in declarations.records.items():
        if role.identity and role.identity.kind == "code":
            link = declarations.link_of(name)
            if link not in links[(role.table, role.identity.field)]:
                links[(role.table, role.identity.field)].append(link)
    return links


def _claims(role: RoleDeclaration) -> Callable[[RawRecord], bool]:
    """Whether a raw record is one of the role's, its identity's kind worked out once."""
    identity = role.identity
    if identity is None:
        return lambda record: True
    matches, field = identity.matcher(), identity.field
    return lambda record: matches(plain(record.get(field)))


def _codes(declarations: Declarations, table: str, field: str) -> list[str]:
    return sorted(str(role.identity.value) for role in declarations.records.values()
                  if role.table == table and role.identity and role.identity.kind == "code" and role.identity.field == field)


def _duplicates(role: str, declaration: RoleDeclaration, records: tuple[Record, ...]) -> Problem:
    numbers = ", ".join(record.number for record in records)
    first = records[0]
    identity = declaration.identity
    if identity is not None and identity.kind == "code":
        skipped = next((name for name, meaning in declaration.meaning.items() if meaning == "skipped"), None)
        how = f" as {skipped.replace('_', ' ').title()}" if skipped else ""
        return Problem(f"duplicate-code:{identity.value}", f"{len(records)} {declaration.noun}s carry the code {identity.value}: "
                       f"{numbers}; keep one and close the others{how}", first.table, first.sys_id, first.number)
    return Problem(f"duplicate-{role}", f"several {role} records belong to this engagement: {numbers}; keep one",
                   first.table, first.sys_id, first.number)


def _repeated_steps(role: str, records: list[Record]) -> list[Problem]:
    by_step: dict[str, list[Record]] = defaultdict(list)
    for record in records:
        by_step[record.step or ""].append(record)
    return [
        Problem(f"duplicate-step:{role}:{step}", f"{len(same)} {role} records are the step {step}: "
                f"{', '.join(record.number for record in same)}; keep one", same[0].table, same[0].sys_id, same[0].number)
        for step, same in sorted(by_step.items()) if step and len(same) > 1
    ]


def _raw_claims(declarations: Declarations, raw: Mapping[str, Mapping[str, list[RawRecord]]]) -> dict[tuple[str, str], list[str]]:
    """(role, sys_id) of each record that is not shared but found by reference, with the keys of
    the engagements that found it: more than one is a problem of each of them."""
    claims: dict[tuple[str, str], list[str]] = defaultdict(list)
    for key, found in raw.items():
        for role, records in found.items():
            link = declarations.link_of(role)
            sys_ids = {plain(record.get("sys_id")) for record in records} if link.kind == "referenced_by" and not link.shared else ()
            for sys_id in sorted(sys_ids):
                claims[(role, sys_id)].append(key)
    return claims


def _stamps(records: Iterable[RawRecord]) -> str:
    return ";".join(sorted(f"{_text(r.get('sys_id'))},{_text(r.get(UPDATED_ON))},{_text(r.get('sys_mod_count'))}"
                           for r in records))


def _text(value: Any) -> str:
    # ``plain`` for the common case first: most stamps are already text (this runs for every row, every cycle).
    return value if type(value) is str else plain(value)


def _claimed(engagement: Engagement, claims: Mapping[tuple[str, str], list[str]]) -> tuple[Problem, ...]:
    problems = []
    for (role, sys_id), keys in claims.items():
        if len(keys) > 1 and engagement.key in keys:
            record = next(record for record in engagement.found[role] if record.sys_id == sys_id)
            problems.append(Problem(
                f"claimed:{record.number}", f"{record.number} ({role}) is found by the engagements {', '.join(keys)}: "
                f"set link.shared = true on records.{role} if one record serves many", record.table, sys_id, record.number))
    return tuple(problems)


def _unique_keys(problems: list[Problem]) -> tuple[Problem, ...]:
    """The problems once each: a record found in two roles is read twice."""
    seen: dict[str, Problem] = {}
    for problem in problems:
        seen.setdefault(problem.key, problem)
    return tuple(seen.values())


def _age(record: Record) -> tuple[bool, Any]:
    return (record.updated_on is not None, record.updated_on or 0)


def _raw_age(record: RawRecord) -> tuple[bool, Any]:
    try:
        return (True, parse_sn_datetime(plain(record.get(UPDATED_ON))))
    except ValueError:
        return (False, 0)
