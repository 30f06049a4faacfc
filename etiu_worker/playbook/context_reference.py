"""The README's reference of the names every condition and template reads, one line per name.

Generated from ``context_names.BUILT_IN`` so that a name added to the context without a meaning
fails a test (tests/test_rules_reference.py) instead of going undocumented.
"""

from __future__ import annotations

from .context_names import BUILT_IN, CHECK_NAMES

# What each built-in name is, in the order the README lists them; the names a note template
# alone reads (an action's) come last.
MEANINGS = {
    "now": "This cycle's instant (aware, UTC): compare it with `dates.*` and step times.",
    "today": "Today's date on the engagement's wall clock (its zone).",
    "zone": "The engagement's time zone (from `[engagement] zone`).",
    "key": "The engagement key (`[engagement] key`).",
    "client": "The engagement's display name (`[engagement] name`), else its key.",
    "engagement": "The engagement: `key`, `zone`, `name`, `problems`, `records` (every record once), and each "
                  "`[context]` group as a tuple of its records.",
    "records": "Each role's record by role name (`records.change`), or none.",
    "found": "Each role's records by role name, as a tuple (every record of a `many = \"each\"` role).",
    "problems": "What the playbook cannot trust about the engagement's records (`key`, `message`, `number`): "
                "an engagement with problems is skipped by every rule without `on_broken_engagement`.",
    "dates": "The pack's `[dates]`, by name (a datetime, a date, a range of days, or none).",
    "latches": "The pack's `[latches.*]`, by name (below).",
    "calendar": "The pack's business calendar, `[calendar]` (below).",
    "contacts": "The pack's `[contacts]`, by name.",
    "numbers": "The pack's `[playbook]` numbers, by name.",
    "codes": "Each code-identified role's code, by role name.",
    "params": "The rule's own `[rule.params]`.",
    "rule": "The rule itself (`name`, `description`, `order`).",
    "window": "With `[checks.planned_window]`: the planned window against the expected start (`applies`, "
              "`verified`, `problem`, `hint`, `expected_start`, `expected_end`, `actual_start`, `actual_end`, "
              "`local_start`, `local_end`, `hours`).",
    "roadmap": "With `[checks.roadmap_sync]`: the agreed roadmap, one attribute per declared label, none when unset.",
    "sync": "With `[checks.roadmap_sync]`: how the carriers' roadmaps agree (`agreed`, `carried`, `conflicts`, "
            "`stale`, `consistent`).",
    "prod_upgrade_utc": "With `[checks.roadmap_sync]`: for each `local_datetime` label NAME, `NAME_utc` is its "
                        "instant (here the etiu pack's `prod_upgrade`), none while unset.",
    "prod_upgrade_local": "The same instant on the engagement's wall clock (`NAME_local`).",
    "target": "In a note template: the role (or `each:` target) the action writes to.",
    "record": "In a note, `key` or `where` of an `each:<role>` action: the record it is about.",
    "step": "In a `create` of a checklist: the step the record is made for.",
    "problem": "In the note of an action with `target = \"problems\"`: the problem it flags.",
    "ticket": "In a note template: the first record carrying the roadmap, as the sample check renders it.",
    "changes": "In `update_roadmap`'s note: the roadmap fields it changes, `{name: (old, new)}`.",
    "error": "In an `overflow_template`: why the roadmap does not fit (`problem`, `expected`).",
}


# Names with a generated reference of their own in the README (step_reference).
ELSEWHERE = ("steps",)


def context_reference() -> list[str]:
    """The README's lines about the names a condition reads besides the roles, one per name."""
    names = list(MEANINGS)
    undocumented = [name for name in (*BUILT_IN, *CHECK_NAMES) if name not in MEANINGS and name not in ELSEWHERE]
    if undocumented:
        raise LookupError(f"the context name {undocumented[0]!r} has no meaning: say what it is in context_reference")
    return [f"- `{name}`: {MEANINGS[name]}" for name in names]
