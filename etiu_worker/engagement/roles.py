"""The record roles a pack declares in pack.toml: ``[engagement]`` and ``[records.<role>]``.

A role says which table its records live in, how a record joins an engagement (``link``), how it
is told apart from the other records of that table (``identity``), how many of it count
(``many``), what its states are called and mean, and which fields it reads and may write. The
models only hold the data; ``role_checks`` checks how the roles fit together and ``load_roles``
turns any mistake into one ``RulesError`` naming the key path. For example::

    [engagement]
    key = { role = "change", field = "correlation_id" }     # the key role carries the key
    zone = { role = "change", field = "u_client_timezone", default = "Europe/London" }
    name = { role = "case", field = "short_description", after_last = " - " }

    [records.tasks]
    table = "change_task"
    link = { ref = "change_request", of = "change" }         # or { field = ... }, { referenced_by = ..., of = ..., shared = true }
    identity = { field = "u_step" }                          # or { field, value } (a code), { field, contains } (a text)
    many = "each"                                            # or "one" (the default), "latest"
    states = { pending = "-5", open = "1", closed = "3" }
    meaning = { pending = "pending", open = "open", closed = "done" }
    fields = { assignee = { field = "assigned_to", type = "reference" } }
    writable = ["assignee"]
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationInfo, field_validator, model_validator

Meaning = Literal["pending", "open", "done", "skipped", "canceled"]
MEANINGS: tuple[str, ...] = ("pending", "open", "done", "skipped", "canceled")
FieldType = Literal["date", "datetime", "local_datetime", "reference", "text", "number", "boolean"]
FIELD_TYPES: tuple[str, ...] = ("date", "datetime", "local_datetime", "reference", "text", "number", "boolean")
Many = Literal["one", "latest", "each"]
UPDATED_ON = "sys_updated_on"


def _as_stored_text(value: Any) -> Any:
    """A number written without quotes (``closed = 3``) as the text ServiceNow stores."""
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


StoredValue = Annotated[str, BeforeValidator(_as_stored_text)]


class _Declaration(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Link(_Declaration):
    """How a record joins its engagement: it carries the key (``field``), it points at another
    role's record (``ref`` + ``of``), or another role's record points at it (``referenced_by`` +
    ``of``, with ``shared`` when one such record serves many engagements)."""

    field: str | None = None
    ref: str | None = None
    referenced_by: str | None = None
    of: str | None = None
    shared: bool = False

    @model_validator(mode="after")
    def _one_kind(self) -> Link:
        given = [name for name in ("field", "ref", "referenced_by") if getattr(self, name)]
        if len(given) != 1:
            raise ValueError(
                "give exactly one of field (the record carries the engagement key), ref (it points at "
                "another role's record) or referenced_by (another role's record points at it)"
            )
        if self.field and self.of:
            raise ValueError("of names the role a reference points at; a link by field has none")
        if not self.field and not self.of:
            raise ValueError(f"{given[0]} needs of, the role whose record is on the other end of the reference")
        if self.shared and not self.referenced_by:
            raise ValueError("shared = true needs referenced_by: a shared record is found from the records that point at it")
        return self

    @property
    def kind(self) -> Literal["key", "ref", "referenced_by"]:
        """Which of the three ways this link joins a record to the engagement."""
        if self.field:
            return "key"
        return "ref" if self.ref else "referenced_by"


class Identity(_Declaration):
    """How a role's records are told apart on their table: a code (``field`` + ``value``), a
    matched text (``field`` + ``contains``, case-insensitive) or a step id (``field`` alone)."""

    field: str
    value: StoredValue | None = None
    contains: str | None = None

    @field_validator("value", "contains")
    @classmethod
    def _not_blank(cls, text: str | None, info: ValidationInfo) -> str | None:
        if text is not None and not text.strip():
            what = "the code" if info.field_name == "value" else "the words"
            raise ValueError(f"is empty: give {what} every record of this role has in its field")
        return text

    @model_validator(mode="after")
    def _value_or_contains(self) -> Identity:
        if self.value is not None and self.contains is not None:
            raise ValueError("give value (a code) or contains (a text to match), not both")
        return self

    @property
    def kind(self) -> Literal["code", "text", "step"]:
        """code: the field equals value; text: the field contains a text; step: the field names a step."""
        if self.value is not None:
            return "code"
        return "text" if self.contains is not None else "step"

    def matches(self, value: str) -> bool:
        """True when a record whose identity field holds ``value`` belongs to this role."""
        if self.kind == "code":
            return value == self.value
        if self.kind == "text":
            return str(self.contains).casefold() in value.casefold()
        return True

    def matcher(self) -> Callable[[str], bool]:
        """``matches`` with the kind worked out once, for many records."""
        kind = self.kind
        if kind == "code":
            code = self.value
            return lambda value: value == code
        if kind == "text":
            folded = str(self.contains).casefold()
            return lambda value: folded in value.casefold()
        return lambda value: True


class FieldDeclaration(_Declaration):
    """One field a role reads, under the alias conditions and templates use."""

    field: str
    type: FieldType = "text"


class RoleDeclaration(_Declaration):
    """``[records.<role>]``: one kind of record in an engagement."""

    table: str = Field(min_length=1)
    link: Link | None = None
    identity: Identity | None = None
    many: Many = "one"
    state_field: str = "state"
    states: dict[str, StoredValue] = Field(default_factory=dict)
    meaning: dict[str, Meaning] = Field(default_factory=dict)
    fields: dict[str, FieldDeclaration] = Field(default_factory=dict)
    writable: tuple[str, ...] = ()
    noun: str = Field("record", min_length=1)  # what people call one of its records in notes: "ticket"

    def state_name(self, value: str) -> str | None:
        """The state's name for a stored state value, or None when the role does not declare it."""
        return next((name for name, stored in self.states.items() if stored == value), None)


class KeyDeclaration(_Declaration):
    """The role, and its field, whose value is the engagement key (``correlation_id``)."""

    role: str
    field: str


class ZoneDeclaration(_Declaration):
    """Where an engagement's time zone is read: a role's field, else ``default``, else the worker's."""

    role: str | None = None
    field: str | None = None
    default: str | None = None

    @model_validator(mode="after")
    def _role_with_field(self) -> ZoneDeclaration:
        if (self.role is None) != (self.field is None):
            raise ValueError("give role and field together: the role's record whose field holds the zone")
        return self


class NameDeclaration(_Declaration):
    """The engagement's display name: a role's field, or the text after its last ``after_last``."""

    role: str
    field: str
    after_last: str | None = None


class EngagementDeclaration(_Declaration):
    """``[engagement]``: how records are grouped, and the engagement's zone and name."""

    key: KeyDeclaration
    zone: ZoneDeclaration = ZoneDeclaration()
    name: NameDeclaration | None = None


class Declarations(_Declaration):
    """A pack's ``[engagement]`` and ``[records.*]``, checked to fit together."""

    engagement: EngagementDeclaration
    records: dict[str, RoleDeclaration] = Field(min_length=1)

    def link_of(self, role: str) -> Link:
        """The role's link; the key role's is its key field when pack.toml leaves it out."""
        declared = self.records[role].link
        return declared or Link(field=self.engagement.key.field)
