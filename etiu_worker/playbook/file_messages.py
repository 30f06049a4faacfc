"""Messages about a TOML file of a pack: the line a key is on, and a pydantic error as one line
that names the file, the line, the rule and the key."""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

ACTION_KINDS = ("set_state", "create_ticket", "update_roadmap", "work_note", "comment", "flag")


def describe(path: Path, text: str, error: ValidationError, rule: str) -> str:
    """The first validation error of a file as ``file:line: rule NAME, key.path: what is wrong``."""
    first = error.errors()[0]
    key = ".".join(str(part) for part in first["loc"])
    last = str(first["loc"][-1]) if first["loc"] else ""
    line = line_of(text, last) if last and not last.isdigit() else ""
    loc = first["loc"]
    if first["type"] == "missing":  # the key is not in the file: point at its table instead
        line = line_of(text, f"[{'.'.join(str(part) for part in loc[:-1])}]").replace("?", "")
    if len(loc) > 3 and loc[:2] == ("rule", "actions") and isinstance(loc[2], int):
        line = action_line(text, loc[2], last).replace("?", "") or line
    message = first["msg"]
    if first["type"] == "extra_forbidden":
        message = "is not a known key (see the README's section on rules files)"
    elif first["type"] == "literal_error" and last == "type":
        message = f"{first['input']!r} is not a known action; use one of {', '.join(ACTION_KINDS)}"
    elif first["type"] == "literal_error":
        message = f"{first['input']!r} is not allowed here; use {first['ctx']['expected']}"
    rule_part = f" rule {rule}," if rule and rule != "?" else ""
    location = f"{path}:{line}" if line else str(path)
    return f"{location}:{rule_part} {key}: {message}"


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
