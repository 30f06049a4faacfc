"""The roadmap's labels as a pack declares them: ``load_labels`` checks the table, ``RoadmapLabels``
is what parsing, writing and the data form go by. No I/O: the caller passes the table.

A pack's ``[checks.roadmap_sync.labels]`` lists the fields in writing order, each with the label
the worker writes, the other spellings people type (plain text, never a regex) and the type of its
value::

    go_live = { label = "Go-live", aliases = ["Go live date"], type = "local_datetime" }

A spelling matches case-insensitively, with spaces and hyphens between its words interchangeable
(``Go-live``, ``go live``, ``GO - LIVE``), optionally followed by the word ``date``, then ``:``.
Every mistake is one ``RulesError`` of the form ``pack.toml: checks.roadmap_sync.labels.x.type: ...``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from ..errors import RulesError
from ..spelling import did_you_mean

# The type of a field's value: a date; a local wall-clock time with an optional zone label (a
# ``ProdUpgrade``); or a date also written as a range ``first - last``, which reads as its first day.
DATE, LOCAL_DATETIME, DATE_OR_RANGE = "date", "local_datetime", "date_or_range"
TYPES = (DATE, LOCAL_DATETIME, DATE_OR_RANGE)
TABLE_PATH = "checks.roadmap_sync.labels"
# A Roadmap's own attributes and methods: a field of that name could not be read as one.
RESERVED_NAMES = ("changes", "items", "labels", "merged", "replace", "values")

_FIELD_NAME = re.compile(r"[a-z][a-z0-9_]*")
_SPELLING = re.compile(r"[^\W_]+(?:[\s-]+[^\W_]+)*")
_BETWEEN_WORDS = re.compile(r"[\s-]+")


class LabelDeclaration(BaseModel):
    """One field of ``[checks.roadmap_sync.labels]``: its label, other spellings and value type."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    label: str
    aliases: tuple[str, ...] = ()
    type: Literal["date", "local_datetime", "date_or_range"]


@dataclass(frozen=True)
class Label:
    """A declared field: its name, the label written, every spelling read, its value's type."""

    name: str
    title: str
    spellings: tuple[str, ...]
    type: str

    @property
    def pattern(self) -> str:
        """The spellings as one regex: words apart by any run of spaces and hyphens, longest first."""
        words = (_BETWEEN_WORDS.split(spelling.strip()) for spelling in self.spellings)
        alternatives = sorted({r"[\s-]+".join(map(re.escape, w)) for w in words}, key=lambda p: (-len(p), p))
        return "|".join(alternatives)


@dataclass(frozen=True)
class RoadmapLabels:
    """The fields a roadmap holds, in writing order, and the matcher that finds their labels."""

    fields: tuple[Label, ...]
    pattern: str = field(init=False, repr=False, compare=False)
    matcher: re.Pattern[str] = field(init=False, repr=False, compare=False)
    # Derived once: every roadmap read and parse asks for them (see __post_init__).
    names: tuple[str, ...] = field(init=False, repr=False, compare=False)
    index: Mapping[str, int] = field(init=False, repr=False, compare=False)
    _by_name: Mapping[str, Label] = field(init=False, repr=False, compare=False)
    _titles: Mapping[str, str] = field(init=False, repr=False, compare=False)
    _of_type: Mapping[str, tuple[str, ...]] = field(init=False, repr=False, compare=False)
    _hash: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        groups = "|".join(f"(?P<field{index}>{label.pattern})" for index, label in enumerate(self.fields))
        # No label declared: a pattern that never matches, so that every text is all title.
        pattern = rf"(?<!\w)(?:{groups})(?:\s+date)?\s*:" if groups else r"(?!)"
        names = tuple(label.name for label in self.fields)
        derived = {
            "pattern": pattern, "matcher": re.compile(pattern, re.IGNORECASE), "names": names,
            "index": MappingProxyType({name: i for i, name in reversed(list(enumerate(names)))}),
            "_by_name": MappingProxyType({label.name: label for label in reversed(self.fields)}),
            "_titles": MappingProxyType({label.name: label.title for label in self.fields}),
            "_of_type": MappingProxyType({kind: tuple(label.name for label in self.fields if label.type == kind)
                                          for kind in TYPES}),
            "_hash": hash(self.fields),
        }
        for key, value in derived.items():
            object.__setattr__(self, key, value)

    def __hash__(self) -> int:
        # The fields decide equality; hashed once, as the parse cache hashes the labels on every call.
        return self._hash

    def __reduce__(self) -> tuple[Any, ...]:
        return RoadmapLabels, (self.fields,)  # the derived parts are rebuilt, not pickled

    @property
    def titles(self) -> dict[str, str]:
        """Field name to the label the worker writes."""
        return {label.name: label.title for label in self.fields}

    def title_of(self, name: str) -> str:
        return self._titles[name]

    def type_of(self, name: str) -> str:
        label = self._by_name.get(name)
        if label is None:
            raise StopIteration  # as the search over the fields it replaces did
        return label.type

    def names_of_type(self, kind: str) -> tuple[str, ...]:
        known = self._of_type.get(kind)
        return known if known is not None else tuple(label.name for label in self.fields if label.type == kind)

    def field_of(self, match: re.Match[str]) -> str:
        """The field whose label ``match`` (of ``pattern``, possibly inside a larger one) found."""
        return next(label.name for index, label in enumerate(self.fields) if match.group(f"field{index}") is not None)


def load_labels(table: Any, where: str = "pack.toml") -> RoadmapLabels:
    """The labels ``[checks.roadmap_sync.labels]`` declares, or a ``RulesError`` naming the key path."""
    if not isinstance(table, Mapping):
        raise RulesError(f"{where}: {TABLE_PATH}: is not a table of fields, e.g. go_live = "
                         f'{{ label = "Go-live", type = "local_datetime" }}')
    labels = tuple(_label(str(name), entry, where) for name, entry in table.items())
    _refuse_shared_spellings(labels, where)
    return RoadmapLabels(labels)


def _label(name: str, entry: Any, where: str) -> Label:
    path = f"{TABLE_PATH}.{name}"
    _check_name(name, f"{where}: {path}")
    if not isinstance(entry, Mapping):
        raise RulesError(f'{where}: {path}: is not a table such as {{ label = "Go-live", type = "date" }}')
    try:
        declared = LabelDeclaration.model_validate(entry)
    except ValidationError as error:
        raise RulesError(f"{where}: {path}.{_describe(error)}") from None
    for key, spelling in [("label", declared.label)] + [(f"aliases[{i}]", a) for i, a in enumerate(declared.aliases)]:
        _check_spelling(spelling, f"{where}: {path}.{key}")
    return Label(name, declared.label.strip(), (declared.label, *declared.aliases), declared.type)


def _check_name(name: str, where: str) -> None:
    if not _FIELD_NAME.fullmatch(name):
        raise RulesError(f"{where}: is not a field name: use lower-case letters, digits and _, starting with a letter")
    if name in RESERVED_NAMES:
        raise RulesError(f"{where}: is a name the roadmap itself uses ({', '.join(RESERVED_NAMES)}); choose another")


def _check_spelling(spelling: str, where: str) -> None:
    if not spelling.strip():
        raise RulesError(f'{where}: is empty: write what people type before the colon, e.g. "Go-live"')
    if not _SPELLING.fullmatch(spelling.strip()):
        raise RulesError(f"{where}: {spelling!r} may hold only letters, digits, spaces and hyphens "
                         f"(a ':', '|', ';' or ',' would end the field)")


def _refuse_shared_spellings(labels: tuple[Label, ...], where: str) -> None:
    owner: dict[str, str] = {}
    for label in labels:
        for index, spelling in enumerate(label.spellings):
            key = _spelling_key(spelling)
            if owner.get(key, label.name) != label.name:
                at = "label" if index == 0 else f"aliases[{index - 1}]"
                optional = ' ("date" before the colon is always optional)' if key != _words(spelling) else ""
                raise RulesError(f"{where}: {TABLE_PATH}.{label.name}.{at}: {spelling!r} already starts the field "
                                 f"{owner[key]}{optional}; a spelling may start one field only")
            owner[key] = label.name


def _spelling_key(spelling: str) -> str:
    """What a spelling matches as: its words in lower case, a trailing "date" optional as in the text."""
    words = _words(spelling).split(" ")
    return " ".join(words[:-1] if len(words) > 1 and words[-1] == "date" else words)


def _words(spelling: str) -> str:
    return " ".join(_BETWEEN_WORDS.split(spelling.strip().lower()))


def _describe(error: ValidationError) -> str:
    errors = error.errors()
    first = next((item for item in errors if item["type"] == "extra_forbidden"), errors[0])
    key = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in first["loc"]).lstrip(".")
    kind = first["type"]
    if kind == "extra_forbidden":
        known = sorted(LabelDeclaration.model_fields)
        return f"{key}: is not a known key{did_you_mean(key, known)}; the keys here are {', '.join(known)}"
    if kind == "missing":
        return f"{key}: is missing"
    if kind == "literal_error":
        return f"{key}: {first['input']!r} is not a label type; use {', '.join(TYPES[:-1])} or {TYPES[-1]}"
    if kind == "string_type":
        return f'{key}: is text, what people type before the colon, e.g. "Go live" (got {first["input"]!r})'
    if kind == "tuple_type":
        return f'{key}: is a list of spellings, e.g. aliases = ["Go live"] (got {first["input"]!r})'
    return f"{key}: {first['msg']} (got {first['input']!r})"
