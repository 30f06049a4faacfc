"""An engagement's record by the name of its role, as the pack declares roles.

Today's engagement model keeps its records in named slots (tickets by code, the change, the
planned-dates task); this is the one place that maps a role's name to its slot, so that steps,
dates and checks can name records by role alone.
"""

from __future__ import annotations

from typing import Any

from .model import ROLES, Engagement

# The roles that are not tickets, and the slot of the engagement model holding each.
_SLOTS = {"change": lambda engagement: engagement.change,
          "planned_dates": lambda engagement: engagement.planned_dates_ctask}


def record_roles() -> tuple[str, ...]:
    """Every role the engagement model can give a record for."""
    return (*ROLES, *_SLOTS)


def record_of(engagement: Engagement, role: str) -> Any:
    """The engagement's one record in ``role``, or None (no record, several, or a role the model
    does not hold)."""
    if role in ROLES:
        return engagement.ticket(role)
    slot = _SLOTS.get(role)
    return slot(engagement) if slot else None
