"""Messages about a TOML file of a pack: the line a key is on, and a pydantic error as one line
that names the file, the line, the rule and the key."""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError


def describe(path: Path, text: str, error: ValidationError, rule: str, within: tuple = ()) -> str:
    """The first error pydantic found in a file as ``file:line: rule NAME, key.path: what is wrong``;
    ``within`` is the key path of the table that was validated (an action's, for its kind's model)."""
    first = error.errors()[0]
    loc = tuple(within) + tuple(first["loc"])
    key = ".".join(str(part) for part in loc)
    last = str(loc[-1]) if loc else ""
    line = line_of(text, last) if last and not last.isdigit() else ""
    if first["type"] == "missing":  # the key is not in the file: point at its table instead
        line = line_of(text, f"[{'.'.join(str(part) for part in loc[:-1])}]").replace("?", "")
    if len(loc) > 3 and loc[:2] == ("rule", "actions") and isinstance(loc[2], int):
        line = action_line(text, loc[2], last).replace("?", "") or line
    message = first["msg"]
    if first["type"] == "extra_forbidden":
        message = "is not a known key (see the README's section on rules files)"
    elif first["type"] == "literal_error":
        message = f"{first['input']!r} is not allowed here; use {first['ctx']['expected']}"
    rule_part = f" rule {rule}," if rule and rule != "?" else ""
    location = f"{path}:{line}" if line else str(path)
    return f"{location}:{rule_part} {key}: {message}"


def unknown_kind(path: Path, text: str, rule: str, index: int, given: object, kinds: tuple[str, ...]) -> str:
    """An action whose ``type`` is missing or names no kind, with the kinds there are."""
    line = action_line(text, index).replace("?", "")
    location = f"{path}:{line}" if line else str(path)
    what = f"{given!r} is not a known action" if given is not None else "the action has no type"
    return f"{location}: rule {rule}, rule.actions.{index}.type: {what}; use one of {', '.join(kinds)}"


def action_line(text: str, index: int, key: str = "type") -> str:
    """The line of ``key`` in the index-th ``[[rule.actions]]``: several actions of a file may
    share a type or a key, so the first match in the file can be another action's."""
    seen = -1
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip().startswith("[[rule.actions]]"):
            seen += 1
        elif seen == index and line.strip().startswith(key):
            return str(number)
    return "?"


def line_of(text: str, needle: str) -> str:
    """The 1-based line where ``needle`` first appears, or ``?``."""
    for number, line in enumerate(text.splitlines(), start=1):
        if needle and needle in line:
            return str(number)
    return "?"
