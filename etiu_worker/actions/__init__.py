"""The actions a rule can take; one module each, declaring its kind. ``KINDS`` is the one list of
them: the rules loader reads a rules file's ``type`` against it, the engine plans with it."""

from .base import Plan, Write
from .create import CREATE
from .create_ticket import CREATE_TICKET
from .notes import COMMENT, FLAG, WORK_NOTE
from .set_field import SET_FIELD
from .set_state import SET_STATE
from .update_roadmap import UPDATE_ROADMAP

KINDS = {kind.name: kind for kind in (SET_STATE, CREATE_TICKET, UPDATE_ROADMAP, WORK_NOTE, COMMENT, FLAG, SET_FIELD, CREATE)}

__all__ = ["KINDS", "Plan", "Write"]
