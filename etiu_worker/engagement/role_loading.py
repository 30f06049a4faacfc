"""``load_roles``: a pack's ``[engagement]`` and ``[records.*]`` tables as checked ``Declarations``.

No I/O: the caller reads pack.toml and passes its tables with the file name for messages. Every
mistake is one ``RulesError`` of the form ``pack.toml: records.change.link.of: ...``.
"""

from __future__ import annotations

import types
from collections.abc import Mapping
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from ..errors import RulesError
from ..spelling import did_you_mean
from .role_checks import first_mistake
from .roles import Declarations


def load_roles(pack: Mapping[str, Any], where: str = "pack.toml") -> Declarations:
    """The pack's roles, or a ``RulesError`` naming the first mistake's key path in ``where``."""
    tables = {name: pack[name] for name in ("engagement", "records") if name in pack}
    try:
        declarations = Declarations.model_validate(tables)
    except ValidationError as error:
        raise RulesError(f"{where}: {_describe(error)}") from None
    mistake = first_mistake(declarations)
    if mistake:
        raise RulesError(f"{where}: {mistake[0]}: {mistake[1]}")
    return declarations


def _describe(error: ValidationError) -> str:
    errors = error.errors()
    # A misspelt key is also a missing one: name the misspelling, which is what to fix.
    first = next((item for item in errors if item["type"] == "extra_forbidden"), errors[0])
    loc = tuple(str(part) for part in first["loc"])
    key = ".".join(loc) or "(top)"
    return f"{key}: {_message(first, loc)}"


def _message(first: Mapping[str, Any], loc: tuple[str, ...]) -> str:
    kind = first["type"]
    if kind == "extra_forbidden":
        known = _known_keys(loc[:-1])
        return f"is not a known key{did_you_mean(loc[-1], known)}; the keys here are {', '.join(known)}"
    if kind == "missing":
        return "is missing"
    if kind == "literal_error":
        return f"{first['input']!r} is not allowed here; use {first['ctx']['expected']}"
    if kind == "value_error":
        return str(first["msg"]).removeprefix("Value error, ")
    return f"{first['msg']} (got {first['input']!r})"


def _known_keys(loc: tuple[str, ...]) -> list[str]:
    """The keys a table at ``loc`` may hold, walking the models along the path."""
    current: Any = Declarations
    for part in loc:
        current = _inner(current, part)
    current = _without_none(current)
    return sorted(current.model_fields) if _is_model(current) else []


def _inner(annotation: Any, part: str) -> Any:
    """The type one step down ``annotation`` at key ``part``: a model's field or a dict's value."""
    annotation = _without_none(annotation)
    if _is_model(annotation):
        field = annotation.model_fields.get(part)
        return field.annotation if field else None
    if get_origin(annotation) is dict:
        return get_args(annotation)[1]
    return None


def _without_none(annotation: Any) -> Any:
    if get_origin(annotation) in (Union, types.UnionType):
        rest = [arg for arg in get_args(annotation) if arg is not type(None)]
        return rest[0] if len(rest) == 1 else annotation
    return annotation


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)
