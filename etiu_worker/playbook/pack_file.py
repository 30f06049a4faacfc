"""pack.toml: what a pack is called, the numbers and contacts its rules share, its business
calendar, its records ([engagement], [records.*]) and the built-in checks it parameterises.

A folder in the old layout has the same tables in ``playbook.toml``, where ``[pack]`` and the
records are optional (the shipped pack's records are then used). The old ``[schema]`` is still
read, over the records, for one release.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cached_property
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ..config import SchemaSettings
from ..engagement.roadmap_labels import RoadmapLabels, load_labels
from ..errors import RulesError
from .file_messages import describe, line_of
from .report_file import PhaseFile, ReportFile

PACK_FILE = "pack.toml"
LEGACY_PLAYBOOK_FILE = "playbook.toml"
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# The instance is searched for the worker's notes by this mark and the footer's last words.
WORKER_MARK = "etiu-worker"
REF_ENDING = "· ref {ref}"


@dataclass(frozen=True)
class NoteMarks:
    """How the worker marks what it posts: a flag's marker by severity, and the footer every note
    ends with (naming the rule and the note's reference, by which it is found again)."""

    problem: str
    warning: str
    footer: str

    def marker(self, severity: str) -> str:
        return self.warning if severity == "warning" else self.problem


class PackTable(_Strict):
    """``[pack]``: the pack's name (unique among the packs a worker runs), what it is for, and how
    its notes are marked."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_-]*$")
    title: str = Field(min_length=1)
    description: str = Field(min_length=1)
    flag_marker: str = Field("[FLAG]", min_length=1)
    warning_marker: str = Field("[WARNING]", min_length=1)
    note_footer: str = f"— {WORKER_MARK} · rule {{rule}} {REF_ENDING}"
    # The engagements this pack claims when a worker runs several: conditions over the engagement
    # context, all of which must hold (none: every engagement the pack builds).
    match: list[str] = Field(default_factory=list)

    @field_validator("match", mode="before")
    @classmethod
    def _one_or_many(cls, match: object) -> object:
        return [match] if isinstance(match, str) else match

    @field_validator("note_footer")
    @classmethod
    def _findable(cls, footer: str) -> str:
        if WORKER_MARK not in footer or not footer.endswith(REF_ENDING) or "{rule}" not in footer:
            raise ValueError(f"must name {WORKER_MARK}, the rule ({{rule}}) and end with {REF_ENDING!r}: the worker "
                             f"finds its notes again by them, e.g. \"— {WORKER_MARK} · rule {{rule}} {REF_ENDING}\"")
        return footer

    @property
    def marks(self) -> NoteMarks:
        return NoteMarks(self.flag_marker, self.warning_marker, self.note_footer)


class CalendarFile(_Strict):
    """``[calendar]``: the weekend days by name, and the holidays."""

    weekend: list[str] = Field(default_factory=lambda: ["saturday", "sunday"])
    holidays: list[date] = Field(default_factory=list)


class PlaybookNumbers(BaseModel):
    """``[playbook]``: the numbers every rule of the pack shares, by name (conditions read them as
    ``numbers.NAME``); ``planned_window_hours`` is the deprecated name of ``[checks.planned_window]
    hours``."""

    model_config = ConfigDict(extra="allow", frozen=True)

    planned_window_hours: float = Field(3, gt=0)

    @model_validator(mode="after")
    def _numbers_only(self) -> "PlaybookNumbers":
        for name, value in (self.model_extra or {}).items():
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ValueError(f"{name} = {value!r} is not a number: [playbook] holds the pack's numbers")
        return self

    @property
    def numbers(self) -> dict[str, float]:
        """Every number but the deprecated one, by name."""
        return dict(self.model_extra or {})


class RoadmapSyncTable(_Strict):
    """``[checks.roadmap_sync]``: the roles whose records carry the roadmap in a text field (its
    alias ``field``), and how long a title carrying it may be."""

    fit: int = Field(160, ge=60, le=4000)
    roles: list[str] = Field(default_factory=list)
    field: str = "title"
    labels: dict[str, Any] = Field(default_factory=dict)  # checked by etiu_worker/engagement/roadmap_labels.py

    @cached_property
    def roadmap_labels(self) -> RoadmapLabels:
        """``labels`` compiled (pack_checks.checks_of has refused a bad table, naming the key)."""
        return load_labels(self.labels)


class PlannedWindowTable(_Strict):
    """``[checks.planned_window]``: the role whose two date-time fields (aliases ``start`` and
    ``end``) must hold the ``expected`` instant and ``hours`` after it, once ``applies`` holds."""

    role: str = "change"
    start: str = "planned_start"
    end: str = "planned_end"
    hours: float = Field(3, gt=0)
    applies: str = Field(min_length=1)
    expected: str = "prod_upgrade_utc"


class ChecksTable(_Strict):
    """``[checks]``: the built-in checks the pack declares (a check not declared does not run)."""

    roadmap_sync: RoadmapSyncTable | None = None
    planned_window: PlannedWindowTable | None = None

    @property
    def declared(self) -> set[str]:
        """The names of the checks declared."""
        return {name for name in type(self).model_fields if getattr(self, name) is not None}


class PackFile(_Strict):
    """The whole of pack.toml (or of an old-layout playbook.toml), checked; ``engagement`` and
    ``records`` are checked by etiu_worker/engagement/role_loading.py, ``schema`` is the old
    shape of the records, read for one release."""

    pack: PackTable | None = None
    playbook: PlaybookNumbers = PlaybookNumbers()
    contacts: dict[str, str] = Field(default_factory=lambda: {"scheduling_lead": "the scheduling lead", "bp_skip_approver": "the engagement manager"})
    calendar: CalendarFile = CalendarFile()
    engagement: dict[str, Any] | None = None
    records: dict[str, Any] | None = None
    checks: ChecksTable = ChecksTable()
    context: dict[str, Any] = Field(default_factory=dict)  # checked by playbook/context_names.py
    dates: dict[str, Any] = Field(default_factory=dict)  # compiled by playbook/moments.py
    latches: dict[str, Any] = Field(default_factory=dict)
    steps: dict[str, Any] = Field(default_factory=dict)  # loaded by playbook/steps.py
    schema_: SchemaSettings = Field(SchemaSettings(), alias="schema")
    phases: list[PhaseFile] = Field(default_factory=list)
    report: ReportFile = ReportFile()

    @property
    def weekend_days(self) -> frozenset[int]:
        """The weekend as weekday numbers (Monday is 0)."""
        return frozenset(WEEKDAYS.index(day.lower()) for day in self.calendar.weekend)


def read_toml(path: Path) -> tuple[str, dict[str, Any]]:
    """The text of a TOML file of a pack, and its data; a syntax error names the file."""
    text = path.read_text(encoding="utf-8")
    try:
        return text, tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise RulesError(f"{path}: not valid TOML: {error}") from None


def read_pack_file(path: Path, *, needs_pack_table: bool) -> PackFile:
    """pack.toml (``needs_pack_table``) or an old-layout playbook.toml, checked."""
    text, data = read_toml(path)
    try:
        pack = PackFile(**data)
    except ValidationError as error:
        raise RulesError(describe(path, text, error, rule="")) from None
    if needs_pack_table and pack.pack is None:
        raise RulesError(
            f"{path}: [pack] is missing: give the pack its name, title and description, e.g. "
            f'[pack] name = "{path.parent.name.lower()}" title = "..." description = "..."'
        )
    for day in pack.calendar.weekend:
        if day.lower() not in WEEKDAYS:
            raise RulesError(f"{path}:{line_of(text, day)}: calendar.weekend: {day!r} is not a weekday name such as 'saturday'")
    return pack
