"""Jinja's sandboxed ``a.b``, with the sandbox's verdict on each (type, name) asked once.

A pack's conditions look up some 60 attributes per engagement (``dates.prod``, ``ticket.state``,
``latches.x.current``): through the sandbox, each is a ``getattr``, then, for a mapping, a failed
attribute and a lookup by key, then the sandbox's checks of the name and the object's type. The
checks of the immutable sandbox (``is_safe_attribute``: no name with a leading underscore, no
internals of functions, frames or code, no method that changes a list, dict or set) look at the
object's type and the name only, so their verdict is kept per pair, and so is the way to the value:

* ``attribute``: a name the sandbox lets through on that type;
* ``item``: a plain dict or mapping proxy, which has no attribute by that name: its key.

Anything else (a name refused, a missing key or attribute) goes through the sandbox as before, so
every answer, including ``undefined`` and the refusal of an unsafe name, is the sandbox's own.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

from jinja2.sandbox import ImmutableSandboxedEnvironment

_ATTRIBUTE, _ITEM, _SANDBOX = "attribute", "item", "sandbox"
_PLAIN_MAPPINGS = (dict, MappingProxyType)


class QuickAttributes(ImmutableSandboxedEnvironment):
    """The immutable sandbox, remembering per (type, name) how ``a.b`` reaches a value."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._ways: dict[tuple[type, str], str] = {}

    def getattr(self, obj: Any, attribute: str) -> Any:
        way = self._ways.get((type(obj), attribute)) or self._learn(obj, attribute)
        if way is _ATTRIBUTE:
            try:
                return getattr(obj, attribute)
            except AttributeError:
                pass
        elif way is _ITEM:
            try:
                return obj[attribute]
            except (TypeError, LookupError):
                pass
        return super().getattr(obj, attribute)

    def _learn(self, obj: Any, attribute: str) -> str:
        cls = type(obj)
        if not isinstance(attribute, str):
            way = _SANDBOX
        elif cls in _PLAIN_MAPPINGS and not hasattr(cls, attribute):
            way = _ITEM
        elif self.is_safe_attribute(obj, attribute, None):
            way = _ATTRIBUTE
        else:
            way = _SANDBOX
        self._ways[(cls, attribute)] = way
        return way
