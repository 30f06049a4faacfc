"""Jinja2 for rule conditions and note templates, sandboxed.

Conditions and templates come from files that admins edit. They run in an immutable sandbox
with StrictUndefined: they cannot reach Python internals or change what they read, and a typo in
a name fails when the rules are loaded, not in the middle of a cycle.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, Callable, Mapping

from jinja2 import ChoiceLoader, FileSystemLoader, StrictUndefined, TemplateError as JinjaTemplateError, Undefined, nodes
from jinja2.parser import Parser
from jinja2.sandbox import ImmutableSandboxedEnvironment

from ..errors import TemplateError
from .code_cache import CodeCache
from .compiling import CachingEnvironment
from .timefilters import register_time

# The notes the engine posts of its own (a write that did not save), for a pack that does not
# word them in its templates folder: the pack's own file, when it has one, wins.
ENGINE_NOTES = FileSystemLoader(str(Path(__file__).parent / "engine_notes"))

# What an environment made of each source it was given: a pack's checks parse and compile one
# string in several places (a date in [dates] and in the report, a template for each of its checks).
# A source that fails is not kept: it fails again, in the same words, wherever it is read. Kept on
# the environment itself, so it goes when the environment does (a compiled template holds its
# environment: as the value of a weak map it would keep it alive).
_MADE = "_etiu_sources_made"


def _local(value: datetime | None, zone: Any) -> datetime | None:
    return value.astimezone(zone) if value is not None else None


def _when(value: datetime | date | None, with_zone: bool = True) -> str:
    """A date-time as people read it in notes: 2026-11-24 18:00 EST."""
    if value is None:
        return "(not set)"
    if isinstance(value, datetime):
        text = value.strftime("%Y-%m-%d %H:%M")
        if with_zone and value.tzinfo is not None:
            text += " " + (value.tzname() or "")
        return text.strip()
    return value.isoformat()


def _utc(value: datetime | None) -> str:
    if value is None:
        return "(not set)"
    return value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def _label(field_name: str) -> str:
    """A roadmap field in words, for a pack whose roadmap declares no labels: prod_upgrade -> prod upgrade."""
    return field_name.replace("_", " ")


def templates_folder(env: ImmutableSandboxedEnvironment) -> str:
    """The pack's templates folder, for messages (the engine's own notes behind it are not named)."""
    loaders = getattr(env.loader, "loaders", [env.loader])
    return ", ".join(getattr(loaders[0], "searchpath", [])) or "(none set)"


def use_labels(env: ImmutableSandboxedEnvironment, titles: Mapping[str, str]) -> None:
    """The ``label`` filter names a roadmap field as the pack's labels write it: prod_upgrade -> Prod upgrade."""
    env.filters["label"] = lambda field_name: titles.get(field_name) or _label(field_name)
    env.labels = repr(sorted(titles.items()))
    vars(env).pop(_MADE, None)  # what was compiled bound the filter it replaces


def _weekday(value: date | datetime | None) -> str:
    return value.strftime("%A") if value is not None else ""


def _is_none(value: Any) -> bool:
    """Jinja's ``none`` test, strict: ``misspelt is not none`` fails instead of being always true."""
    if isinstance(value, Undefined):
        value._fail_with_undefined_error()
    return value is None


def make_environment(templates_dir: Path | None = None, code_cache: CodeCache | None = None) -> ImmutableSandboxedEnvironment:
    """A pack's environment; with ``code_cache``, what it compiles is kept there and taken from there."""
    env = CachingEnvironment(
        loader=ChoiceLoader([FileSystemLoader(str(templates_dir)), ENGINE_NOTES]) if templates_dir else None,
        undefined=StrictUndefined,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        # A pack is loaded afresh for every cycle: asking the disk for each note whether its
        # template file changed (a stat per render) would only let one cycle mix two versions.
        auto_reload=False,
    )
    env.filters.update(local=_local, when=_when, utc=_utc, weekday=_weekday, label=_label)
    env.tests["none"] = _is_none
    register_time(env)
    env.code_cache = code_cache
    return env


def _made(env: ImmutableSandboxedEnvironment, kind: str, source: str, make: Callable[[], Any]) -> Any:
    made = vars(env).setdefault(_MADE, {})
    key = (kind, source)
    if key not in made:
        made[key] = make()
    return made[key]


def compiled_expression(env: ImmutableSandboxedEnvironment, source: str) -> Any:
    """``env.compile_expression(source, undefined_to_none=False)``, compiled once per environment."""
    return _made(env, "expression", source, lambda: env.compile_expression(source, undefined_to_none=False))


def parsed_template(env: ImmutableSandboxedEnvironment, source: str) -> nodes.Template:
    """``env.parse(source)``, parsed once per environment; the tree is shared: read it, never change it."""
    return _made(env, "template", source, lambda: env.parse(source))


def parsed_expression(env: ImmutableSandboxedEnvironment, source: str) -> nodes.Expr:
    """The syntax tree of an expression, parsed the way ``compile_expression`` parses it (without
    its check that nothing follows), once per environment; shared as ``parsed_template``'s is."""
    return _made(env, "parsed expression", source, lambda: Parser(env, source, state="variable").parse_expression())


def _compiled(env: ImmutableSandboxedEnvironment, source: str):
    # An inline template (an action's key or title) is rendered for every engagement each cycle;
    # compile it once per environment, as conditions are.
    return _made(env, "inline", source, lambda: env.from_string(source))


def render(env: ImmutableSandboxedEnvironment, source: str, context: dict[str, Any], *, name: str) -> str:
    """Render an inline template string; errors name where it came from."""
    try:
        return _compiled(env, source).render(context).strip()
    except JinjaTemplateError as error:
        raise TemplateError(f"{name}: {error}") from None


def render_file(env: ImmutableSandboxedEnvironment, filename: str, context: dict[str, Any]) -> str:
    try:
        return env.get_template(filename).render(context).strip()
    except JinjaTemplateError as error:
        raise TemplateError(f"template {filename}: {type(error).__name__}: {error}") from None
