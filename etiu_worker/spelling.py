"""Did you mean: the closest known name to a misspelt one, for every error message that names one."""

from __future__ import annotations

import difflib
from typing import Iterable


def closest(name: str, choices: Iterable[str], cutoff: float = 0.6) -> str | None:
    """The choice closest to a misspelt name, or None when none is close."""
    choices = list(choices)
    # A short name inside a long one ('sanity', 'engagement_sanity') is too far for difflib alone.
    close = difflib.get_close_matches(name, choices, n=1, cutoff=cutoff) or [c for c in choices if len(name) > 2 and name in c][:1]
    return close[0] if close else None


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest choice, or nothing when none is close."""
    close = closest(name, choices)
    return f" (did you mean {close!r}?)" if close else ""
