"""``[checks.roadmap_sync]``: the records whose text field carries the roadmap, read. No I/O.

The check names the roles whose records carry the roadmap (``roles``) and the alias of the text
field that holds it (``field``). Each carrier's text is read once per engagement; a roadmap that
cannot be read, or whose local time (a ``local_datetime`` label) does not exist in the client's
zone (clocks springing forward) or contradicts its zone label, is a ``roadmap:<number>`` problem of the engagement, and
that carrier's roadmap is set aside, so that no fact is computed from a time the client did not
agree to.
"""

from __future__ import annotations

from dataclasses import replace
from zoneinfo import ZoneInfo

from ..engagement.engagements import Engagement
from ..engagement.records import Problem, Record
from ..engagement.roadmap import ShortDescription, parse_short_description, prod_upgrade_to_utc
from ..engagement.roadmap_labels import LOCAL_DATETIME
from ..engagement.roles import Declarations
from ..errors import RoadmapError, RulesError
from ..spelling import did_you_mean
from .pack_file import RoadmapSyncTable
from .roadmap_sync import Carrier


def carriers(engagement: Engagement, check: RoadmapSyncTable | None) -> tuple[Carrier, ...]:
    """Every record of the check's roles, in pack order then by number, with its roadmap read."""
    if check is None:
        return ()
    last = _last_carriers
    if last is not None and last[0] is engagement and last[1] is check:
        return last[2]  # the facts, the history check and the roadmap action all ask, one after another
    found = tuple(_carrier(record, check, engagement.zone, []) for role in check.roles
                  for record in engagement.each(role))
    _remember_carriers((engagement, check, found))
    return found


# The carriers last read: an engagement and its records are frozen, so the same objects read the same.
_last_carriers: tuple[Engagement, RoadmapSyncTable, tuple[Carrier, ...]] | None = None


def _remember_carriers(last: tuple[Engagement, RoadmapSyncTable, tuple[Carrier, ...]]) -> None:
    global _last_carriers
    _last_carriers = last


def with_roadmap_problems(engagement: Engagement, check: RoadmapSyncTable | None) -> Engagement:
    """The engagement with a problem for each carrier whose roadmap cannot be read or placed."""
    if check is None:
        return engagement
    problems: list[Problem] = []
    for role in check.roles:
        for record in engagement.each(role):
            _carrier(record, check, engagement.zone, problems)
    known = {problem.key for problem in engagement.problems}
    added = tuple(problem for problem in _unique(problems) if problem.key not in known)
    return replace(engagement, problems=engagement.problems + added) if added else engagement


def client_name(engagement: Engagement, found: tuple[Carrier, ...], after_last: str | None, first_role: str | None) -> str:
    """The client's name as people wrote it: the part of a carrier's title after ``after_last``,
    the name role's carrier first; else the engagement's name."""
    if after_last:
        ordered = sorted(found, key=lambda carrier: (carrier.record.role != first_role, carrier.number))
        for carrier in ordered:
            if carrier.parsed and after_last in carrier.parsed.title:
                return carrier.parsed.title.rsplit(after_last, 1)[1].strip()
    return engagement.name


def check_roadmap_roles(check: RoadmapSyncTable | None, declarations: Declarations, where: str) -> None:
    """Refuse a carrier role that is not declared, or a field that is not one of its aliases."""
    if check is None:
        return
    roles = list(declarations.records)
    for role in check.roles:
        if role not in declarations.records:
            raise RulesError(f"{where}: checks.roadmap_sync.roles: {role!r} is not a declared role"
                             f"{did_you_mean(role, roles)}; the roles are: {', '.join(roles)}")
        fields = declarations.records[role].fields
        if check.field not in fields:
            raise RulesError(f"{where}: checks.roadmap_sync.field: {check.field!r} is not a field of records.{role}"
                             f"{did_you_mean(check.field, fields)}; give the alias of the text that carries the roadmap")


def _carrier(record: Record, check: RoadmapSyncTable, zone: ZoneInfo, problems: list[Problem]) -> Carrier:
    text = str(record.values.get(check.field) or "")
    labels = check.roadmap_labels
    where = dict(table=record.table, sys_id=record.sys_id, number=record.number)
    number = record.number
    try:
        parsed: ShortDescription | None = parse_short_description(text, labels)
    except RoadmapError as error:
        problems.append(Problem(f"roadmap:{number}", f"the roadmap in {number}'s short description cannot be read: "
                                f"{error.problem}; expected {error.expected}", **where))
        return Carrier(record, text, None)
    for name in labels.names_of_type(LOCAL_DATETIME):
        local = getattr(parsed.roadmap, name)
        try:
            prod_upgrade_to_utc(local, zone, label=labels.title_of(name)) if local is not None else None
        except RoadmapError as error:
            problems.append(Problem(f"roadmap:{number}", f"{number}'s short description: {error.problem}; "
                                    f"expected {error.expected}", **where))
            return Carrier(record, text, None)
    return Carrier(record, text, parsed)


def _unique(problems: list[Problem]) -> list[Problem]:
    seen: dict[str, Problem] = {}
    for problem in problems:
        seen.setdefault(problem.key, problem)
    return list(seen.values())


def carrier_field(check: RoadmapSyncTable | None, declarations: Declarations) -> str | None:
    """The stored field the roadmap is carried in (of the check's first role), or None."""
    if check is None or not check.roles:
        return None
    return declarations.records[check.roles[0]].fields[check.field].field
