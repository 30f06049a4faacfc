"""Engagements built from raw ServiceNow records. No I/O.

An engagement is one client's upgrade: its ETIU tickets, its Master Change Request and that
change request's CTASKs, tied together by the engagement key in ``correlation_id``. Records
arrive as ServiceNow sends them (every value a string); this module turns them into typed,
frozen objects and notes, as ``problems``, whatever the playbook cannot trust.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from types import MappingProxyType
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..config import CodeSchema, SchemaSettings
from ..errors import RoadmapError
from .roadmap import ShortDescription, parse_short_description, prod_upgrade_to_utc
from .records import Problem  # one class for the problems of any engagement

SN_DATETIME = "%Y-%m-%d %H:%M:%S"
# The ticket roles: one per code the schema settings name, in their order.
ROLES = tuple(CodeSchema.model_fields)


def parse_sn_datetime(value: str) -> datetime | None:
    """A ServiceNow UTC date-time string as an aware datetime; None when empty."""
    if not value:
        return None
    return datetime.strptime(value, SN_DATETIME).replace(tzinfo=timezone.utc)


def format_sn_datetime(value: datetime) -> str:
    return value.astimezone(timezone.utc).strftime(SN_DATETIME)


@dataclass(frozen=True)
class Ticket:
    table: str
    sys_id: str
    number: str
    code: str
    role: str | None
    state: str  # the state's name from the schema (e.g. "work_in_progress"), or "unknown"
    state_value: str
    short_description: str
    parsed: ShortDescription | None
    updated_on: datetime | None
    work_start: datetime | None
    raw: Mapping[str, str] = field(repr=False, compare=False)

    @property
    def is_closed(self) -> bool:
        return self.state.startswith("closed")

    @property
    def is_open(self) -> bool:
        return self.state in ("open", "work_in_progress")


@dataclass(frozen=True)
class ChangeRequest:
    table: str
    sys_id: str
    number: str
    state: str
    state_value: str
    planned_start: datetime | None
    planned_end: datetime | None
    timezone_name: str
    updated_on: datetime | None
    raw: Mapping[str, str] = field(repr=False, compare=False)


@dataclass(frozen=True)
class ChangeTask:
    table: str
    sys_id: str
    number: str
    state: str
    state_value: str
    short_description: str
    change_request: str
    is_planned_dates: bool
    updated_on: datetime | None
    raw: Mapping[str, str] = field(repr=False, compare=False)

    @property
    def is_closed(self) -> bool:
        return self.state == "closed"


@dataclass(frozen=True)
class Engagement:
    key: str
    tickets: tuple[Ticket, ...]
    change: ChangeRequest | None
    ctasks: tuple[ChangeTask, ...]
    zone: ZoneInfo
    problems: tuple[Problem, ...] = ()

    def ticket(self, role: str) -> Ticket | None:
        """The one ticket in this role, or None when there is none (or, a problem, several)."""
        found = [ticket for ticket in self.tickets if ticket.role == role]
        return found[0] if len(found) == 1 else None

    @property
    def planned_dates_ctask(self) -> ChangeTask | None:
        found = [task for task in self.ctasks if task.is_planned_dates]
        # When people re-open the switch by adding a new one, the latest is the one that counts.
        return max(found, key=lambda task: task.updated_on or datetime.min.replace(tzinfo=timezone.utc), default=None)

    @property
    def is_broken(self) -> bool:
        return bool(self.problems)


class EngagementBuilder:
    """Groups raw records by engagement key and types them according to the schema."""

    def __init__(self, schema: SchemaSettings, default_timezone: str) -> None:
        self.schema = schema
        self.default_timezone = default_timezone
        self.role_of_code = {code: role for role, code in schema.codes.model_dump().items()}
        self.ticket_state_names = _names_by_value(schema.ticket_states.model_dump())
        self.change_state_names = _names_by_value(schema.change_states.model_dump())
        self.ctask_state_names = _names_by_value(schema.ctask_states.model_dump())

    def build_tables(self, tables: Mapping[str, Iterable[Mapping[str, str]]]) -> list[Engagement]:
        """The engagements of the rows read by table (the reader's answer)."""
        schema = self.schema
        return self.build(*(tables.get(table, ()) for table in (schema.ticket.table, schema.change.table, schema.ctask.table)))

    def build(
        self,
        tickets: Iterable[Mapping[str, str]],
        changes: Iterable[Mapping[str, str]],
        ctasks: Iterable[Mapping[str, str]],
    ) -> list[Engagement]:
        tickets_by_key: dict[str, list[Mapping[str, str]]] = defaultdict(list)
        changes_by_key: dict[str, list[Mapping[str, str]]] = defaultdict(list)
        for record in tickets:
            tickets_by_key[record.get(self.schema.ticket.engagement, "")].append(record)
        for record in changes:
            changes_by_key[record.get(self.schema.change.engagement, "")].append(record)
        ctasks_by_change: dict[str, list[Mapping[str, str]]] = defaultdict(list)
        for record in ctasks:
            ctasks_by_change[_reference(record.get(self.schema.ctask.change_request, ""))].append(record)
        keys = sorted((set(tickets_by_key) | set(changes_by_key)) - {""})
        return [
            self.engagement(key, tickets_by_key[key], changes_by_key[key], ctasks_by_change)
            for key in keys
        ]

    def engagement(
        self,
        key: str,
        ticket_records: list[Mapping[str, str]],
        change_records: list[Mapping[str, str]],
        ctasks_by_change: Mapping[str, list[Mapping[str, str]]],
    ) -> Engagement:
        problems: list[Problem] = []
        tickets = tuple(self.ticket(record, problems) for record in ticket_records)
        _check_duplicate_codes(tickets, problems)
        change = self.change_request(change_records, problems)
        ctask_records = ctasks_by_change.get(change.sys_id, []) if change else []
        ctasks = tuple(self.ctask(record, problems) for record in ctask_records)
        zone = self.zone(change, problems)
        tickets = tuple(self.place_prod_upgrade(ticket, zone, problems) for ticket in tickets)
        return Engagement(key, tickets, change, ctasks, zone, tuple(problems))

    def ticket(self, record: Mapping[str, str], problems: list[Problem]) -> Ticket:
        schema = self.schema.ticket
        code = record.get(schema.code, "")
        number = record.get("number", "")
        where = dict(table=schema.table, sys_id=record.get("sys_id", ""), number=number)
        role = self.role_of_code.get(code)
        if role is None:
            problems.append(Problem(f"unknown-code:{number}", f"{number} has the unknown ETIU code {code!r}", **where))
        state_value = record.get(schema.state, "")
        state = _state_name(self.ticket_state_names, state_value, problems, where)
        text = record.get(schema.short_description, "")
        parsed = None
        try:
            parsed = parse_short_description(text)
        except RoadmapError as error:
            problems.append(Problem(f"roadmap:{number}", f"the roadmap in {number}'s short description cannot be read: {error.problem}; expected {error.expected}", **where))
        return Ticket(
            table=schema.table,
            sys_id=record.get("sys_id", ""),
            number=number,
            code=code,
            role=role,
            state=state,
            state_value=state_value,
            short_description=text,
            parsed=parsed,
            updated_on=_datetime_or_problem(record, "sys_updated_on", problems, where),
            work_start=_datetime_or_problem(record, schema.work_start, problems, where),
            raw=MappingProxyType(dict(record)),
        )

    def place_prod_upgrade(self, ticket: Ticket, zone: ZoneInfo, problems: list[Problem]) -> Ticket:
        """The ticket as is, or, when its prod upgrade does not exist in the client's zone (clocks
        springing forward) or contradicts its zone label, a problem and the ticket with its roadmap
        set aside, so that no fact is computed from a time the client did not agree to."""
        prod = ticket.parsed.roadmap.prod_upgrade if ticket.parsed else None
        if prod is None:
            return ticket
        try:
            prod_upgrade_to_utc(prod, zone)
        except RoadmapError as error:
            where = dict(table=ticket.table, sys_id=ticket.sys_id, number=ticket.number)
            problems.append(Problem(f"roadmap:{ticket.number}", f"{ticket.number}'s short description: {error.problem}; expected {error.expected}", **where))
            return replace(ticket, parsed=None)
        return ticket

    def change_request(self, records: list[Mapping[str, str]], problems: list[Problem]) -> ChangeRequest | None:
        if not records:
            return None
        schema = self.schema.change
        if len(records) > 1:
            numbers = ", ".join(sorted(record.get("number", "?") for record in records))
            problems.append(Problem("duplicate-change", f"several change requests carry this engagement: {numbers}", schema.table))
        record = records[0]
        number = record.get("number", "")
        where = dict(table=schema.table, sys_id=record.get("sys_id", ""), number=number)
        state_value = record.get(schema.state, "")
        state = _state_name(self.change_state_names, state_value, problems, where)
        return ChangeRequest(
            table=schema.table,
            sys_id=record.get("sys_id", ""),
            number=number,
            state=state,
            state_value=state_value,
            planned_start=_datetime_or_problem(record, schema.planned_start, problems, where),
            planned_end=_datetime_or_problem(record, schema.planned_end, problems, where),
            timezone_name=record.get(schema.timezone, "") or self.default_timezone,
            updated_on=_datetime_or_problem(record, "sys_updated_on", problems, where),
            raw=MappingProxyType(dict(record)),
        )

    def ctask(self, record: Mapping[str, str], problems: list[Problem]) -> ChangeTask:
        schema = self.schema.ctask
        number = record.get("number", "")
        text = record.get(schema.short_description, "")
        state_value = record.get(schema.state, "")
        return ChangeTask(
            table=schema.table,
            sys_id=record.get("sys_id", ""),
            number=number,
            state=self.ctask_state_names.get(state_value, "unknown"),
            state_value=state_value,
            short_description=text,
            change_request=_reference(record.get(schema.change_request, "")),
            is_planned_dates=schema.planned_dates_match.casefold() in text.casefold(),
            updated_on=_datetime_or_problem(record, "sys_updated_on", problems, dict(table=schema.table, sys_id=record.get("sys_id", ""), number=number)),
            raw=MappingProxyType(dict(record)),
        )

    def zone(self, change: ChangeRequest | None, problems: list[Problem]) -> ZoneInfo:
        name = change.timezone_name if change else self.default_timezone
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            where = dict(table=change.table, sys_id=change.sys_id, number=change.number) if change else {}
            problems.append(Problem(f"timezone:{name}", f"the client time zone {name!r} is not an IANA zone such as America/New_York", **where))
            return ZoneInfo(self.default_timezone)


def _state_name(names: Mapping[str, str], value: str, problems: list[Problem], where: Mapping[str, str]) -> str:
    """The schema's name for a state value; an unknown one is a problem for the sanity rule."""
    if value in names:
        return names[value]
    number = where.get("number", "")
    problems.append(Problem(f"unknown-state:{number}:{value}", f"{number} is in state {value!r}, which the playbook does not know", **where))
    return "unknown"


def _names_by_value(states: Mapping[str, str]) -> dict[str, str]:
    return {value: name for name, value in states.items()}


def _reference(value: object) -> str:
    """A reference field's sys_id, whichever shape ServiceNow sent it in."""
    if isinstance(value, Mapping):
        return str(value.get("value", ""))
    return str(value or "")


def _datetime_or_problem(
    record: Mapping[str, str], name: str, problems: list[Problem], where: Mapping[str, str]
) -> datetime | None:
    value = record.get(name, "")
    try:
        return parse_sn_datetime(value)
    except (TypeError, ValueError):
        number = where.get("number", "")
        problems.append(Problem(f"bad-date:{number}:{name}", f"{number} has {name} = {str(value)[:40]!r}, not a date-time like 2026-11-24 23:00:00", **where))
        return None


def _check_duplicate_codes(tickets: Iterable[Ticket], problems: list[Problem]) -> None:
    by_code: dict[str, list[Ticket]] = defaultdict(list)
    for ticket in tickets:
        by_code[ticket.code].append(ticket)
    for code, same in sorted(by_code.items()):
        if len(same) > 1:
            numbers = ", ".join(sorted(ticket.number for ticket in same))
            problems.append(Problem(f"duplicate-code:{code}", f"{len(same)} tickets carry the code {code}: {numbers}; keep one and close the others as Closed Skipped", same[0].table, same[0].sys_id, same[0].number))
