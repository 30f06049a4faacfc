"""How the journal stores times and long texts, shared by its parts.

Times are UTC ISO strings of fixed width, so they sort as text; texts longer than
``MAX_VALUE_CHARS`` are cut with a mark, so one huge field cannot bloat the state folder.
"""

from __future__ import annotations

from datetime import datetime, timezone

MAX_VALUE_CHARS = 4000
TRUNCATION_MARK = "…"


def iso(moment: datetime) -> str:
    """UTC ISO text of fixed width, so that text order is time order."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{moment!r} has no time zone: the journal keeps UTC times")
    return moment.astimezone(timezone.utc).isoformat(timespec="microseconds")


def parse(text: str) -> datetime:
    return datetime.fromisoformat(text)


def parse_optional(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def truncate(text: str) -> str:
    if len(text) <= MAX_VALUE_CHARS:
        return text
    return text[: MAX_VALUE_CHARS - len(TRUNCATION_MARK)] + TRUNCATION_MARK
