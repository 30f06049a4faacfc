"""The offline rule tester: run the playbook against engagement fixtures, no instance needed.

A fixture is a TOML file holding the records as ServiceNow would return them (field names from
the schema, values as strings), the moment to evaluate at, optionally the worker's memory of the
engagement, and optionally what is expected to match:

    now = 2026-11-20T15:00:00Z
    [[records.u_etiu_ticket]]  # rows of any table the pack's roles live in, by table
    [[tickets]]          # (or, as before: rows of the ticket roles' table,
    [[change_requests]]  #  of the change role's table
    [[change_tasks]]     #  and of the planned-dates role's table)
    [memory.ENG-ACME]    # what earlier cycles remembered (optional)
    [[audit]]            # sys_audit rows of the tickets' short descriptions (optional; without
                         # them the history is unavailable): number (or documentkey), oldvalue,
                         # newvalue, sys_created_on, and optionally user, record_checkpoint
    [expect]             # matched = ["rule", ...], not_matched = [...] (optional)
"""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .engine import plan_cycle
from ..errors import RulesError
from ..playbook.evaluate import RuleResult
from ..engagement.history import changes_from_rows
from ..engagement.values import format_sn_datetime
from ..playbook.context import pack_engagements
from ..playbook.pack_schema import legacy_table
from ..playbook.roadmap_check import carrier_field
from ..playbook.names import did_you_mean


@dataclass
class FixtureResult:
    path: Path
    results: list[RuleResult]
    writes: list
    failures: list[str] = field(default_factory=list)

    def render(self) -> str:
        lines = [f"== {self.path}"]
        for result in self.results:
            mark = "MATCH" if result.matched else "  -  "
            lines.append(f"{mark} {result.engagement:<16} {result.rule:<26} {result.why()}")
        for write in self.writes:
            change = ", ".join(f"{k}={v}" for k, v in write.fields.items())
            note = (write.note.splitlines()[0][:70] + "…") if write.note else ""
            lines.append(f"  would {write.kind} on {write.target} {write.number or '(new)'}: {change} {note}".rstrip())
        lines += [f"FAILED expectation: {failure}" for failure in self.failures]
        return "\n".join(lines)

    @property
    def passed(self) -> bool:
        return not self.failures


def load_fixture(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise RulesError(f"fixture {path}: not valid TOML: {error}") from None


def _with_ids(rows: list[dict[str, Any]], table: str) -> list[dict[str, str]]:
    """Fixture rows as ServiceNow rows: strings, with a stable sys_id when none is given."""
    out = []
    for index, row in enumerate(rows):
        record = {key: str(value) for key, value in row.items()}
        record.setdefault("sys_id", hashlib.md5(f"{table}:{index}:{record.get('number', '')}".encode()).hexdigest())
        out.append(record)
    return out


def run_fixture(path: Path, playbook, settings) -> FixtureResult:
    data = load_fixture(path)
    check_expect_names(path, data.get("expect", {}), [rule.name for rule in playbook.rules])
    at = data.get("now")
    if not isinstance(at, datetime):
        raise RulesError(f"fixture {path}: set now = 2026-11-20T15:00:00Z (the moment to evaluate at)")
    at = at if at.tzinfo else at.replace(tzinfo=timezone.utc)
    tables = fixture_tables(data, playbook, f"fixture {path}")
    engagements = pack_engagements(playbook, tables, settings.worker.default_timezone)
    carriers, field = carrier_rows(playbook, tables)
    history = fixture_history(data, carriers, field, f"fixture {path}") if field else None
    cycle = plan_cycle(playbook, engagements, data.get("memory", {}), at, lambda sys_id, ref: False, history)
    result = FixtureResult(path, cycle.results, cycle.writes)
    result.failures = _check_expectations(data.get("expect", {}), cycle.results)
    return result


# The fixture keys of before [[records.<table>]]: (key, the schema section naming its table, the
# prefix of the sys_ids made up for its rows).
OLD_ROW_KEYS = (("tickets", "ticket", "ticket"), ("change_requests", "change", "change"), ("change_tasks", "ctask", "ctask"))


def fixture_tables(data: dict[str, Any], playbook, where: str) -> dict[str, list[dict[str, str]]]:
    """The fixture's rows by table: ``[[records.<table>]]`` and the old keys, each a table the pack reads."""
    tables: dict[str, list[dict[str, str]]] = {}
    for key, section, prefix in OLD_ROW_KEYS:
        table = legacy_table(playbook.declarations, section)
        if table is not None:
            tables.setdefault(table, []).extend(_with_ids(data.get(key, []), prefix))
        elif data.get(key):
            raise RulesError(f"{where}: [[{key}]]: the pack has no role these rows belong to; "
                             f"write them as [[records.<table>]]")
    known = sorted({record.table for record in playbook.declarations.records.values()})
    for table, rows in (data.get("records") or {}).items():
        if table not in known:
            raise RulesError(f"{where}: [[records.{table}]]: the pack reads no table {table!r}"
                             f"{did_you_mean(table, known)}; its tables are {', '.join(known)}")
        tables.setdefault(table, []).extend(_with_ids(rows, table))
    return tables


def carrier_rows(playbook, tables: dict[str, list[dict[str, str]]]) -> tuple[list[dict[str, str]], str | None]:
    """The rows of the tables the roadmap's records live in, and the field that carries it
    (None: the pack has no roadmap), which the fixture's ``[[audit]]`` rows are about."""
    check = playbook.checks.roadmap_sync
    field = carrier_field(check, playbook.declarations)
    if check is None or field is None:
        return [], None
    names = dict.fromkeys(playbook.declarations.records[role].table for role in check.roles)
    return [row for table in names for row in tables.get(table, [])], field


EXPECT_KEYS = ("matched", "not_matched")


def check_expect_names(path: Path, expect: dict[str, Any], rules: list[str]) -> None:
    """Refuse an [expect] that names no rule: ``not_matched = ["typo"]`` would always pass."""
    text = path.read_text(encoding="utf-8")
    for key in expect:
        if key not in EXPECT_KEYS:
            raise RulesError(f"{path}:{_line_of(text, key)}: [expect] {key}: is not a known key{did_you_mean(key, EXPECT_KEYS)}; "
                             f"use {' or '.join(EXPECT_KEYS)}")
    for key in EXPECT_KEYS:
        names = expect.get(key, [])
        if not isinstance(names, list):
            raise RulesError(f"{path}:{_line_of(text, key)}: [expect] {key}: must be a list of rule names, "
                             f'such as {key} = ["{rules[0]}"]')
        for name in names:
            if name not in rules:
                raise RulesError(f"{path}:{_line_of(text, str(name))}: [expect] {key}: there is no rule {name!r}"
                                 f"{did_you_mean(str(name), rules)}; the rules are: {', '.join(rules)}")


def _line_of(text: str, needle: str) -> str:
    lines = text.splitlines()
    start = next((n for n, line in enumerate(lines) if line.strip() == "[expect]"), 0)
    found = next((n for n in range(start, len(lines)) if needle in lines[n]), None)
    return str(found + 1) if found is not None else "?"


def fixture_history(data: dict[str, Any], tickets: list[dict[str, str]], field: str, where: str = "fixture"):
    """The fixture's ``[[audit]]`` rows as the cycle's history; None when it has none (unavailable).

    A row names its ticket by ``number`` (or by ``documentkey``, the ticket's sys_id)."""
    if "audit" not in data:
        return None
    ids = {ticket.get("number", ""): ticket["sys_id"] for ticket in tickets}
    rows = [_audit_row(row, f"{where}: [[audit]] row {index}", ids, field) for index, row in enumerate(data["audit"], 1)]
    return changes_from_rows(rows, field)


def _audit_row(row: dict[str, Any], where: str, ids: dict[str, str], field: str) -> dict[str, str]:
    record = {key: _as_text(value) for key, value in row.items()}
    if "documentkey" not in record:
        number = record.pop("number", "")
        if number not in ids:
            raise RulesError(f"{where}: number = {number!r} is not a ticket of the fixture; "
                             f"name one of {', '.join(sorted(ids))} (or give its sys_id as documentkey)")
        record["documentkey"] = ids[number]
    record.setdefault("fieldname", field)
    return record


def _as_text(value: Any) -> str:
    """A fixture value as the Table API gives it (a TOML date-time as a UTC stamp)."""
    if isinstance(value, datetime):
        return format_sn_datetime(value if value.tzinfo else value.replace(tzinfo=timezone.utc))
    return str(value)


def _check_expectations(expect: dict[str, Any], results: list[RuleResult]) -> list[str]:
    matched = {result.rule for result in results if result.matched}
    failures = [f"{name} did not match" for name in expect.get("matched", []) if name not in matched]
    failures += [f"{name} matched" for name in expect.get("not_matched", []) if name in matched]
    return failures
