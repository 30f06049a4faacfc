"""The names a condition or template can read at a place, for "did you mean" and the README.

One function lists them (``names_of``) so that the error messages and the README's reference
of ``calendar`` come from the same place and cannot drift apart.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any, Iterable

from jinja2.sandbox import ImmutableSandboxedEnvironment

from ..engagement.workdays import BusinessCalendar
from ..spelling import closest, did_you_mean  # noqa: F401 - re-exported for the playbook

_SAFE = ImmutableSandboxedEnvironment()

# Said here for admins where a member has no docstring (fields) or one written for programmers.
MEANINGS = {
    "holidays": "The days off of `[calendar] holidays` in pack.toml (a set of dates).",
    "weekend": "The weekdays of `[calendar] weekend`, which are not business days (numbers, Monday is 0).",
    "is_business_day": "True when `day` (a date) is neither a weekend day nor a holiday.",
    "add_business_days": "The n-th business day after `day` (before it when n < 0); n = 0 is `day` itself "
                         "when it is a business day, else the next business day.",
    "elapsed_business_days": "How many business days of work have passed from `start` to `now` (instants), "
                             "read on the wall clock of `zone`: a fraction, Monday 15:00 to Wednesday 15:00 is "
                             "2.0, a weekend or holiday counts nothing; take `| round(0, 'floor')` for whole days.",
}


def names_of(value: Any) -> list[str]:
    """What ``value.NAME`` can read in the sandbox: a mapping's keys, else public attributes."""
    if isinstance(value, Mapping):
        return sorted(str(key) for key in value)
    return sorted(name for name in dir(value) if not name.startswith("_") and _is_readable(value, name))


def _is_readable(value: Any, name: str) -> bool:
    try:
        return _SAFE.is_safe_attribute(value, name, getattr(value, name))
    except Exception:  # noqa: BLE001 - a property that fails to compute is not worth offering
        return False


def calendar_reference() -> list[str]:
    """The README's lines about ``calendar`` in conditions and templates, one per name."""
    sample = BusinessCalendar()
    return [f"- `calendar.{_signature(sample, name)}`: {_meaning(name)}" for name in names_of(sample)]


def _signature(calendar: BusinessCalendar, name: str) -> str:
    member = getattr(calendar, name)
    if not callable(member):
        return name
    parameters = inspect.signature(member).parameters.values()
    return f"{name}({', '.join(_parameter(parameter) for parameter in parameters)})"


def _parameter(parameter: inspect.Parameter) -> str:
    return parameter.name if parameter.default is inspect.Parameter.empty else f"{parameter.name}={parameter.default!r}"


def _meaning(name: str) -> str:
    text = MEANINGS.get(name) or (inspect.getdoc(getattr(BusinessCalendar, name)) or "").split("\n\n")[0]
    if not text:
        raise LookupError(f"calendar.{name} has no docstring: say what it means in names.MEANINGS")
    return " ".join(text.replace("``", "`").split())
