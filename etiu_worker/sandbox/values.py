"""Values as the instance stores them: every field a string; and "every field" for dropped writes."""

from __future__ import annotations

Record = dict[str, str]


class _Everything:
    """Stands for "every field" where a set of dropped field names is expected."""

    def __contains__(self, name: object) -> bool:
        return True


EVERYTHING = _Everything()


def text(value: object) -> str:
    """A written JSON value as ServiceNow stores it: a string, "" for null, "true"/"false"."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):  # a reference written back as read: {"value": sys_id, "link": ...}
        return text(value.get("value", ""))
    if isinstance(value, (list, tuple)):
        return ",".join(text(item) for item in value)
    return str(value)
