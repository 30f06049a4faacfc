"""What a condition or template can read on ``steps``, for the README's generated reference.

Each name comes from the fields of the state classes, so a field added without a meaning here
fails ``step_reference()`` (and its test) instead of going undocumented.
"""

from __future__ import annotations

from dataclasses import fields

from .step_states import GroupState, StepsState, StepState

STEP_MEANINGS = {
    "key": "The step's name in the engagement: `group.id`, or the group's name for a one-step group.",
    "group": "The name of the step's group.",
    "id": "The step's id in its group; its record carries it in its step field.",
    "title": "The step's title.",
    "owner": "Who does the step (a name the pack chooses, e.g. `customer`).",
    "optional": "True when the pack says the step may be skipped.",
    "state": "What its record's state means: pending, open, done, skipped, canceled, or missing (no record).",
    "done": "Its record is done.",
    "skipped": "Its record is skipped; the steps after it go on.",
    "canceled": "Its record is canceled; the steps after it stay blocked.",
    "ready": "Every predecessor is done or skipped, and the step is not done, skipped or canceled.",
    "blocked": "Not ready, and not done, skipped or canceled: a predecessor is not done or skipped.",
    "blocked_by": "The keys of the predecessors it waits for.",
    "started": "Its record went in progress (or is done).",
    "started_at": "When its record went in progress (an instant), or none.",
    "done_at": "When its record was done (its closed time, else its update time), or none.",
    "start": "When its clock started: see `start_from`; none until known.",
    "duration": "Its duration with its unit (`2bd`), or none.",
    "due": "Its clock's start plus its duration in the engagement's calendar and zone, or none.",
    "overdue": "Past due, not closed and not paused.",
    "warn": "At least `warn_at` of its duration used, not closed and not paused (overdue included).",
    "share": "The share of its duration used, to now or to when it was done (1.0 = all of it), or none.",
    "out_of_order": "Done while a predecessor is not done or skipped, or done before a predecessor was.",
    "paused": "Its `paused_when` holds; while paused it is never overdue or warned.",
    "projected_finish": "When it was done, or is projected to be: the longest path through what is not done.",
    "why": "What holds, in words: `blocked by P2, P3`, `overdue: due 2026-12-01 15:00 EST`.",
}
GROUP_MEANINGS = {
    "name": "The group's name.",
    "title": "The group's title.",
    "role": "The record role whose records are its steps.",
    "single": "True when the group is written as its one step.",
    "items": "Its steps by id, in order: `steps.launch.items.L5.done`.",
    "next": "Its ready steps, in order.",
    "done": "Every step of it is done or skipped (true for a mirror with no step kept).",
    "overdue": "One of its steps is overdue.",
    "warn": "One of its steps is warned.",
    "out_of_order": "One of its steps was done out of order.",
    "projected_finish": "The latest projected finish of its steps.",
    "why": "`done`, `next: L3`, or what each open step waits for.",
    "missing": "Its steps that have no record yet, in order: what a `create` of the group would make.",
}
ENGAGEMENT_MEANINGS = {
    "groups": "Every group by name, one-step groups as groups: `steps.groups.review.items.review`.",
    "next": "Every ready step of the engagement.",
    "done": "Every group is done.",
    "projected_finish": "The latest projected finish of all steps: compare it with a deadline.",
}


def step_reference() -> list[str]:
    """The README's lines about ``steps`` in conditions and templates, one per name."""
    return [
        *_lines("steps", StepsState, ENGAGEMENT_MEANINGS),
        "- `steps.<group>`: a group (below); a group written as one step reads as that step.",
        *_lines("steps.<group>", GroupState, GROUP_MEANINGS),
        *_lines("steps.<group>.items.<id>", StepState, STEP_MEANINGS),
    ]


def _lines(prefix: str, kind: type, meanings: dict[str, str]) -> list[str]:
    names = [field.name for field in fields(kind)]
    undocumented = [name for name in names if name not in meanings]
    if undocumented:
        raise LookupError(f"{kind.__name__}.{undocumented[0]} has no meaning: say what it means in step_reference")
    return [f"- `{prefix}.{name}`: {meanings[name]}" for name in names]
