"""What an action kind tells the rules loader: its name, the keys a rules file may give it (a
pydantic model), the check of those keys against the pack, and its planner.

The kinds themselves are declared one layer up, one file each under etiu_worker/actions/, and
handed to the loader (etiu_worker/actions/loading.py): a rules file is read against the kinds the
running worker has, so the list of kinds is written once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping

from pydantic import BaseModel, ConfigDict, Field

from ..engagement.roles import Declarations
from ..errors import RulesError
from .step_model import StepPlan


class ActionFields(BaseModel):
    """The keys every action takes; a kind's model adds its own."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: str
    target: str | list[str] = ""
    template: str = ""
    key: str = ""
    when: list[str] = Field(default_factory=list)
    where: str = ""  # with an ``each:<role>`` target: the condition each record must meet

    def template_files(self) -> dict[str, str]:
        """Each key naming a template file, with the file: the loader checks that each exists."""
        return {"template": self.template}

    def inline_templates(self) -> dict[str, str]:
        """Each key holding a template written in the rules file, with its source."""
        return {"key": self.key}


@dataclass(frozen=True)
class PackRecords:
    """What an action's check reads of its pack: the records as declared, the states each name
    of a role can hold (``condition_check.StateNames``), what a target may name, the checks
    declared, the other names of roles (``[context]``), and its steps."""

    declarations: Declarations
    states: Any
    targets: tuple[str, ...]
    checks: frozenset[str]
    aliases: Mapping[str, str]
    steps: StepPlan = StepPlan({}, ())

    def role_of(self, target: str) -> str:
        """The role a target names: itself, or the role of another name of it."""
        return self.aliases.get(target, target)


# check(fields, targets, records, where) raises RulesError; plan(plan, rule, action, context) plans writes.
Check = Callable[[Any, tuple[str, ...], PackRecords, str], None]
Planner = Callable[..., None]


@dataclass(frozen=True)
class ActionKind:
    """One kind of action: ``type = NAME`` in a rules file."""

    name: str
    fields: type[ActionFields]
    plan: Planner
    check: Check | None = None
    needs_target: bool = True
    each: bool = False  # whether it may act on every record of a many-role (``target = "each:<role>"``)


def require(condition: bool, where: str, message: str) -> None:
    """Refuse an action whose keys do not fit the pack, naming where."""
    if not condition:
        raise RulesError(f"{where}: {message}")


Kinds = Mapping[str, ActionKind]
