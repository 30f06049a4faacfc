"""The actions a rule can take; one module each. ``PLANNERS`` maps a rule file's ``type``."""

from .base import Plan, Write
from .create_ticket import plan_create_ticket
from .notes import plan_note
from .set_state import plan_set_state
from .update_roadmap import plan_update_roadmap

PLANNERS = {
    "set_state": plan_set_state,
    "create_ticket": plan_create_ticket,
    "update_roadmap": plan_update_roadmap,
    "work_note": plan_note,
    "comment": plan_note,
    "flag": plan_note,
}

__all__ = ["PLANNERS", "Plan", "Write"]
