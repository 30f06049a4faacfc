"""What a write changes, as people read it: ``BP: 2026-12-10 → 2026-12-11``, ``state: Open → Closed Complete``.

Given the pack's field names (``schema``, a ``pack_records.FieldNames``), a text carrying the
roadmap is compared label by label (the title, then each
date that differs), and a state field shows the state's name; without it, or when a value cannot
be read, the field's text is shown before and after, cut at ``width`` characters.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import timezone

from ..playbook.pack_records import FieldNames
from ..errors import RoadmapError
from ..state.journal import TRUNCATION_MARK, JournalEntry
from ..engagement.roadmap import parse_short_description
from ..engagement.roadmap_labels import RoadmapLabels

NO_VALUE = "—"
NOTE_NAMES = {"work_notes": "work note", "comments": "comment"}  # a note is added, it replaces nothing
# Lower-case in a state's name, as ServiceNow shows it: "Work in Progress".
_SMALL_WORDS = frozenset({"in", "of", "on", "and"})


def format_entries(entries: Iterable[JournalEntry], schema: FieldNames | None = None) -> list[tuple[str, ...]]:
    """Rows for a CLI table, in the order of ``journal.ENTRY_COLUMNS``.

    The verification cell also carries the error text, so a failed action says why.
    """
    return [
        (
            entry.time.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ"),
            entry.run_id,
            entry.rule,
            entry.engagement,
            entry.target,
            entry.number,
            entry.kind,
            format_change(entry.before, entry.after, schema=schema, table=entry.table),
            entry.outcome,
            "; ".join(text for text in (entry.verification, entry.error) if text),
        )
        for entry in entries
    ]


def format_change(before: Mapping[str, str], after: Mapping[str, str], width: int = 60, *,
                  schema: FieldNames | None = None, table: str = "") -> str:
    """``field: from → to`` for each field, ``—`` standing for no value."""
    fields = list(after) + [name for name in before if name not in after]
    return "; ".join(
        part for name in fields for part in _field_change(name, before.get(name), after.get(name), width, schema, table)
    )


def _field_change(name: str, old: str | None, new: str | None, width: int,
                  schema: FieldNames | None, table: str) -> list[str]:
    if schema is not None and name in NOTE_NAMES:
        return [f"{NOTE_NAMES[name]}: {_cell(new, width)}"]
    if schema is not None and old and new and (table, name) in schema.roadmap:
        labelled = roadmap_changes(old, new, schema.labels)
        if labelled:
            return labelled
    names = {value: state_name(state) for value, state in schema.state_names(table, name).items()} if schema else {}
    if names:
        old, new = names.get(old or "", old), names.get(new or "", new)
    return [f"{name}: {_cell(old, width)} → {_cell(new, width)}"]


def roadmap_changes(old: str, new: str, labels: RoadmapLabels) -> list[str]:
    """``Label: from → to`` for the title and each roadmap date that differs; [] when unreadable."""
    try:
        before, after = parse_short_description(old, labels), parse_short_description(new, labels)
    except RoadmapError:
        return []
    parts = [f"title: {_cell(before.title, 60)} → {_cell(after.title, 60)}"] if before.title != after.title else []
    for field, (mine, theirs) in before.roadmap.changes(after.roadmap).items():
        parts.append(f"{labels.title_of(field)}: {_cell(_text(mine), 60)} → {_cell(_text(theirs), 60)}")
    return parts


def state_name(name: str) -> str:
    """``work_in_progress`` → ``Work in Progress``."""
    words = name.split("_")
    return " ".join(word if index and word in _SMALL_WORDS else word.capitalize() for index, word in enumerate(words))


def _text(value: object) -> str:
    return "" if value is None else str(value)


def _cell(value: str | None, width: int) -> str:
    text = " ".join((value or "").split())
    if not text:
        return NO_VALUE
    return text if len(text) <= width else text[: width - 1] + TRUNCATION_MARK
