"""Writing a roadmap back into a short description: fields in order, within the length limit.

Writing puts the fields in the order the roadmap's labels declare them, omits unset ones, appends the extras, and fits the
whole into ``max_length`` by shortening the title only: a date is never dropped or shortened.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..errors import RoadmapError
from .roadmap_fields import (
    DEFAULT_MAX_LENGTH,
    ELLIPSIS,
    FIELD_SEPARATOR,
    Roadmap,
    _clean_extra,
    _clean_title,
    _quote,
)
from .roadmap_labels import RoadmapLabels


def format_short_description(
    title: str,
    roadmap: Roadmap,
    *,
    max_length: int = DEFAULT_MAX_LENGTH,
    extras: Iterable[str] = (),
) -> str:
    """Write ``<title> | <fields in label order> | <extras>`` in at most ``max_length`` chars.

    An overflowing title is cut (at a word boundary when that keeps at least half of it) and
    ends with "…"; when nothing of it fits it is left out. Dates are never dropped or cut:
    when they do not fit even without a title, ``RoadmapError`` says how many characters they
    need. A title or extra that would read back as a label is refused, so that what is written
    always parses back to the same roadmap.
    """
    if max_length < 1:
        raise ValueError(f"max_length must be positive, got {max_length}")
    title = _clean_title(title)
    labels = roadmap.labels
    _refuse_labels(title, "title", labels)
    kept_extras = [extra for extra in (_clean_extra(extra) for extra in extras) if extra]
    for extra in kept_extras:
        _refuse_labels(extra, "extra text", labels)
    dates = FIELD_SEPARATOR.join(
        f"{labels.title_of(name)}: {value}" for name, value in roadmap.items() if value is not None
    )
    body = FIELD_SEPARATOR.join(([dates] if dates else []) + kept_extras)
    if len(_joined(title, body)) <= max_length:
        return _joined(title, body)
    room = max_length - len(body) - len(FIELD_SEPARATOR) if body else max_length
    shortened = _shorten(title, room)
    if len(_joined(shortened, body)) > max_length:
        raise _overflow(dates, body, max_length)
    return _joined(shortened, body)


def _joined(title: str, body: str) -> str:
    return FIELD_SEPARATOR.join(part for part in (title, body) if part)


def _shorten(title: str, room: int) -> str:
    """The title cut to ``room`` characters, "…" included; empty when not even one letter fits."""
    if len(title) <= room:
        return title
    keep = room - len(ELLIPSIS)
    if keep < 1:
        return ""
    head = title[:keep]
    boundary = head.rfind(" ")
    # Cut at a word boundary unless the cut already falls on one or that would lose too much.
    if not title[keep].isspace() and boundary >= keep // 2:
        head = head[:boundary]
    head = _clean_title(head)
    return head + ELLIPSIS if head else ""


def _overflow(dates: str, body: str, max_length: int) -> RoadmapError:
    extra_note = f" and the extra text {len(body) - len(dates)} more" if len(body) > len(dates) else ""
    return RoadmapError(
        f"the dates alone need {len(dates)} characters{extra_note}, more than the {max_length} "
        f"a short description may hold here",
        body, max_length, f"a max_length of at least {len(body)}, or less extra text",
    )


def _refuse_labels(text: str, what: str, labels: RoadmapLabels) -> None:
    label = labels.matcher.search(text)
    if label is not None:
        raise RoadmapError(
            f"the {what} {_quote(text)} contains the roadmap label {label.group()!r}, "
            f"which would read back as a date",
            text, label.start(), f"a {what} without a known label followed by ':'",
        )
