"""One set of names for many expressions: the names merged with the pack's globals once, not per expression.

A jinja compiled expression (``env.compile_expression``) copies the environment's globals and the
names it is called with into a new dict on every call, walking the globals' ``ChainMap`` key by
key. A rule's conditions, an action's ``when`` and a pack's dates all read the same names, so a
``Scope`` makes that copy once and gives each expression only its own fresh jinja ``Context`` over
it: the same lookups in the same order, the same values, the same errors. An expression of another
shape (its own globals, not one jinja compiled) is called as before.
"""

from __future__ import annotations

from collections import ChainMap
from collections.abc import Iterator, Mapping
from typing import Any

from jinja2.runtime import Undefined
from jinja2.utils import consume


class Scope(Mapping[str, Any]):
    """Read-only names for expressions (a ``Mapping`` over ``names``, which must not change while
    the scope is in use), with the merge jinja would make for each one made once per environment."""

    __slots__ = ("names", "_merged")

    def __init__(self, names: Mapping[str, Any]) -> None:
        self.names = names.names if isinstance(names, Scope) else names
        self._merged: dict[int, tuple[Any, dict[str, Any], set[str]]] = {}

    def __getitem__(self, key: str) -> Any:
        return self.names[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.names)

    def __len__(self) -> int:
        return len(self.names)

    def evaluate(self, compiled: Any) -> Any:
        """What ``compiled(**names)`` returns (or raises), without copying the names again."""
        template = _shared_globals_template(compiled)
        if template is None:
            return compiled(**self.names)
        environment = template.environment
        parent, keys = self._parent(environment)
        context = environment.context_class(environment, parent, template.name, template.blocks)
        context.globals_keys = keys  # what jinja sets from the template's globals, the environment's
        consume(template.root_render_func(context))
        value = context.vars["result"]
        if compiled._undefined_to_none and isinstance(value, Undefined):
            return None
        return value

    def _parent(self, environment: Any) -> tuple[dict[str, Any], set[str]]:
        found = self._merged.get(id(environment))
        if found is None or found[0] is not environment:
            # As jinja's new_context: the globals, then the names over them.
            found = (environment, dict(environment.globals, **self.names), set(environment.globals))
            self._merged[id(environment)] = found
        return found[1], found[2]


def scope_of(names: Mapping[str, Any]) -> Scope:
    """``names`` as a Scope (itself when it is one already)."""
    return names if isinstance(names, Scope) else Scope(names)


def evaluate_in(compiled: Any, names: Mapping[str, Any]) -> Any:
    """``compiled(**names)``, through the scope's one merge when ``names`` is a Scope."""
    if isinstance(names, Scope):
        return names.evaluate(compiled)
    return compiled(**names)


def _shared_globals_template(compiled: Any) -> Any:
    """The template behind a jinja compiled expression whose globals are just its environment's
    (``compile_expression`` makes every one so), or None for anything else."""
    known = _SHAPES.get(id(compiled))
    if known is not None and known[0] is compiled:
        return known[1]
    if len(_SHAPES) >= _SHAPES_KEPT:
        _SHAPES.clear()  # packs loaded and dropped (tests, reloads): start again rather than grow
    template = _shape(compiled)
    _SHAPES[id(compiled)] = (compiled, template)
    return template


# A pack's expressions live as long as the pack: their shape is looked at once, by identity.
_SHAPES: dict[int, tuple[Any, Any]] = {}
_SHAPES_KEPT = 4096


def _shape(compiled: Any) -> Any:
    template = getattr(compiled, "_template", None)
    if template is None or not hasattr(compiled, "_undefined_to_none"):
        return None
    chained = getattr(template, "globals", None)
    if not (isinstance(chained, ChainMap) and len(chained.maps) == 2 and not chained.maps[0]
            and chained.maps[1] is template.environment.globals):
        return None
    return template
