"""pack.toml's data for the coordinator's report: ``[[phases]]`` and ``[report]``, as written.

Each condition is Jinja text here; ``report_pack`` compiles and checks them against the pack's
sample engagement. Colours and shapes are names from a small palette the report page knows.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

COLOURS = ("blue", "sky", "amber", "green", "forest", "grey", "red", "gold", "purple", "teal")
Colour = Literal["blue", "sky", "amber", "green", "forest", "grey", "red", "gold", "purple", "teal"]
# A marker is drawn filled in its colour, or as an outline of it.
MarkerStyle = Literal[
    "blue", "sky", "amber", "green", "forest", "grey", "red", "gold", "purple", "teal",
    "blue-outline", "sky-outline", "amber-outline", "green-outline", "forest-outline", "grey-outline",
    "red-outline", "gold-outline", "purple-outline", "teal-outline",
]
Shape = Literal["circle", "ring", "diamond", "square", "bar"]
Conditions = str | list[str]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PhaseFile(_Strict):
    """``[[phases]]``: a phase an engagement is in when its conditions all hold; the first wins."""

    name: str = Field(pattern=r"^[a-z][a-z0-9 ]*[a-z0-9]$")
    when: Conditions
    description: str = ""
    colour: Colour = "grey"
    # An aside (records a person must fix) shows as the phase, but how far the engagement got
    # (``stage``) is the next phase that holds.
    aside: bool = False


class DeadlineFile(_Strict):
    """``[[report.deadlines]]``: a named date shown as a deadline until ``met`` holds."""

    date: str
    label: str = Field(min_length=1)
    met: Conditions = Field(default_factory=list)


class ColumnFile(_Strict):
    """``[[report.columns]]``: a value of each row, in the table (``label``), the JSON/CSV (``field``) or both."""

    value: str
    label: str = ""
    field: str = Field("", pattern=r"^([a-z][a-z0-9_]*)?$")
    short: str = ""  # its name in a one-line record (the report piped, or wider than the terminal)


class ViewFile(_Strict):
    """``[[report.views]]``: a standing question, the rows for which ``when`` holds."""

    name: str = Field(pattern=r"^[a-z][a-z0-9-]*$")
    title: str = Field(min_length=1)
    description: str = ""
    when: Conditions
    detail: str = ""  # the label of the column shown beside each engagement


class BandFile(_Strict):
    """``[[report.timeline.bands]]``: from one date to another, or the days of a range of days."""

    label: str = Field(min_length=1)
    colour: Colour = "grey"
    light: bool = False
    start: str = ""
    end: str = ""
    days: str = ""


class MarkerFile(_Strict):
    """``[[report.timeline.markers]]``: a date drawn as a shape, styled by whether ``done`` holds."""

    date: str
    label: str = Field(min_length=1)
    shape: Shape = "circle"
    style: MarkerStyle = "grey"
    done: Conditions = Field(default_factory=list)
    done_style: MarkerStyle | None = None
    note: str = ""
    done_note: str = ""


class FlagPlaceFile(_Strict):
    """``[[report.timeline.flags]]``: where a rule's flags go, and what they are called there."""

    rule: str
    kind: str = ""
    label: str = ""
    at: list[str] = Field(default_factory=list)  # date names (the first that is set) or "today"


class TimelineFile(_Strict):
    """``[report.timeline]``: what each engagement's timeline spans and draws."""

    span: list[str] = Field(default_factory=list)  # date names; empty: every date a band or marker draws
    empty: str = "No dates to draw yet."
    bands: list[BandFile] = Field(default_factory=list)
    markers: list[MarkerFile] = Field(default_factory=list)
    flags: list[FlagPlaceFile] = Field(default_factory=list)
    steps: bool = False  # draw each of the pack's steps as a bar (conditions' ``steps``), from its start to its end


class ReportFile(_Strict):
    """``[report]``: the report's title, deadlines, columns, views and timeline."""

    title: str = "Engagements"
    unreadable_phase: str = ""  # the phase of an engagement whose conditions cannot be computed
    deadlines: list[DeadlineFile] | None = None  # none: every declared date still ahead
    columns: list[ColumnFile] = Field(default_factory=list)
    views: list[ViewFile] = Field(default_factory=list)
    timeline: TimelineFile = TimelineFile()
