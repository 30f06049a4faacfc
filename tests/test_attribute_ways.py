"""``a.b`` in a pack's template answers exactly as Jinja's immutable sandbox does, the first time
and once the way to each (type, name) is remembered (playbook/attribute_ways.py)."""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

import pytest
from jinja2.sandbox import ImmutableSandboxedEnvironment

from etiu_worker.playbook.attribute_ways import QuickAttributes


@dataclass(frozen=True)
class Step:
    name: str
    _secret: str = "hidden"

    def title(self) -> str:
        return self.name.title()


class PerInstance:
    """Attributes that one instance has and another lacks, as a roadmap's dates."""

    def __init__(self, **values: str) -> None:
        self._values = values

    def __getattr__(self, name: str) -> str:
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(name) from None


def helper() -> str:
    return "called"


CONTEXT = {
    "dates": {"prod": "2026-12-05", "items": "a key that a method hides"},
    "frozen": MappingProxyType({"prod": "2026-12-06"}),
    "step": Step("backup"),
    "with_uat": PerInstance(uat="2026-12-01"),
    "without_uat": PerInstance(),
    "steps": ["one"],
    "helper": helper,
}

EXPRESSIONS = [
    "dates.prod",
    "dates.missing is undefined",
    "dates.items() | list | length",
    "dates.update({'prod': 'changed'})",
    "dates.pop('prod')",
    "frozen.prod",
    "frozen.missing is defined",
    "step.name",
    "step.title()",
    "step._secret is defined",
    "step.__class__ is defined",
    "step.missing is defined",
    "with_uat.uat",
    "without_uat.uat is defined",
    "steps.append('two')",
    "steps.index('one')",
    "helper.__globals__ is defined",
    "helper()",
]


def answer(env, expression: str) -> str:
    try:
        return env.from_string("{{ " + expression + " }}").render(CONTEXT)
    except Exception as error:  # the sandbox refuses by raising: the refusal is the answer
        return f"{type(error).__name__}: {error}"


@pytest.mark.parametrize("expression", EXPRESSIONS)
def test_an_attribute_answers_as_the_sandbox_does_first_and_once_remembered(expression):
    sandbox, quick = ImmutableSandboxedEnvironment(), QuickAttributes()
    expected = answer(sandbox, expression)
    assert [answer(quick, expression), answer(quick, expression)] == [expected, expected]


def test_the_sandbox_still_refuses_a_change_to_a_dict_and_a_list():
    quick = QuickAttributes()
    assert answer(quick, "dates.update({'prod': 'changed'})").startswith("SecurityError")
    assert answer(quick, "steps.append('two')").startswith("SecurityError")
    assert CONTEXT["dates"]["prod"] == "2026-12-05" and CONTEXT["steps"] == ["one"]


def test_a_name_one_instance_lacks_is_undefined_there_though_another_of_its_type_had_it():
    quick = QuickAttributes()
    assert answer(quick, "with_uat.uat") == "2026-12-01"
    assert answer(quick, "without_uat.uat is defined") == "False"
