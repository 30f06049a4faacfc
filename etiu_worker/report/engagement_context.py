"""Everything the report asks of the engagement model, in one place: the engagements built from
the cached records, the names a condition sees for one of them, its client, its assignees and
its record numbers.

The rest of the report reads only what these functions return, so a change to how engagements
are built or what conditions see changes this module alone.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from ..playbook.context import build_context, compute_facts, pack_engagements
from ..playbook.roadmap_check import carriers
from ..cycle.read import scopes
from ..cycle.people import reference_value

# The field that names who works on a record: ServiceNow's assignee, a sys_user reference (its
# sys_id, as the cache holds it) or a user name.
ASSIGNEE_FIELD = "assigned_to"


def tables_read(playbook) -> list[str]:
    """The tables the pack's engagements are built from, as the worker reads them."""
    return [table for table, _ in scopes(playbook.declarations)]


def build_engagements(playbook, tables: Mapping[str, list[dict]], default_zone: str) -> list:
    """The engagements in the cached records (with the worker's own writes laid over them)."""
    return pack_engagements(playbook, tables, default_zone)


def engagement_context(engagement, playbook, memory: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    """The names the pack's rules see for this engagement at ``now``: what the report's phases,
    dates, columns and views read too."""
    facts = compute_facts(engagement, playbook, memory, now)
    return build_context(engagement, facts, playbook, now)


def client_of(engagement, playbook, now: datetime) -> str:
    """The client's name, as the rules' ``client`` reads it."""
    return compute_facts(engagement, playbook, {}, now).client


def assignees_of(engagement, playbook) -> tuple[str, ...]:
    """Every assignee of the engagement's records, the one on most records carrying the roadmap
    first (the assignees of the other records that carry the engagement key after them)."""
    counts: Counter[str] = Counter()
    for carrier in carriers(engagement, playbook.checks.roadmap_sync):
        counts[reference_value(carrier.record.raw.get(ASSIGNEE_FIELD))] += 1
    declarations = playbook.declarations
    for role in (role for role in declarations.records if declarations.link_of(role).kind == "key"):
        for record in engagement.each(role):
            counts.setdefault(reference_value(record.raw.get(ASSIGNEE_FIELD)), 0)
    counts.pop("", None)
    return tuple(name for name, _ in sorted(counts.items(), key=lambda item: (-item[1], item[0])))


def problems_of(engagement) -> tuple[str, ...]:
    return tuple(problem.message for problem in engagement.problems)
