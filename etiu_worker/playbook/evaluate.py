"""Match: evaluate a rule's conditions against one engagement, and say why it did not match."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from jinja2 import TemplateError as JinjaTemplateError

from .rules import Condition, Playbook, Rule
from .scope import scope_of
from .timefilters import explain_comparison


@dataclass(frozen=True, slots=True)
class ConditionResult:
    """One condition's value, or the error that kept it from one (``error`` as Python said it,
    ``hint`` as an admin can act on it, when there is a better way to say it)."""

    text: str
    value: bool
    error: str = ""
    hint: str = ""

    @property
    def reason(self) -> str:
        """Why the condition could not be evaluated, in the words that help most."""
        return self.hint or self.error


@dataclass(frozen=True, slots=True)
class RuleResult:
    """Whether a rule matched one engagement, with each condition's result or why it was skipped."""

    rule: str
    engagement: str
    matched: bool
    conditions: tuple[ConditionResult, ...] = ()
    skipped: str = ""  # why the rule was not evaluated at all

    def why(self) -> str:
        if self.skipped:
            return f"skipped: {self.skipped}"
        failed = next((c for c in self.conditions if not c.value), None)
        if failed is None:
            return f"matched: all {len(self.conditions)} conditions hold"
        if failed.error:
            return f"not matched: {failed.text!r} could not be evaluated: {failed.reason}"
        return f"not matched: {failed.text!r} is false"


def evaluate_conditions(playbook: Playbook, conditions: tuple[Condition, ...], context: Mapping[str, Any]) -> tuple[ConditionResult, ...]:
    """Every condition in order, stopping at the first that does not hold; the names are merged
    with the pack's globals once for all of them (``Scope``)."""
    results = []
    scope = scope_of(context) if conditions else context
    for condition in conditions:
        try:
            value = bool(_value(condition, playbook, scope))
            results.append(ConditionResult(condition.text, value))
        except (JinjaTemplateError, TypeError, ValueError, AttributeError) as error:
            results.append(_failed(condition, error))
            break
        if not value:
            break
    return tuple(results)


def evaluate_rule(playbook: Playbook, rule: Rule, engagement_key: str, broken: bool, context: Mapping[str, Any]) -> RuleResult:
    if broken and not rule.on_broken_engagement:
        return RuleResult(rule.name, engagement_key, False, skipped="the engagement has problems flagged by the sanity rule")
    results = evaluate_conditions(playbook, rule.when, context)
    matched = all(result.value for result in results) and len(results) == len(rule.when)
    return RuleResult(rule.name, engagement_key, matched, results)


def _value(condition: Condition, playbook: Playbook, scope: Any) -> Any:
    if type(condition) is Condition:  # its evaluate is compiled(**context): the scope does the same
        return scope.evaluate(condition.compiled)
    return condition.evaluate(playbook.env, scope)


def _failed(condition: Condition, error: Exception) -> ConditionResult:
    raw = f"{type(error).__name__}: {error}"
    hint = explain_comparison(error) if isinstance(error, TypeError) else ""
    return ConditionResult(condition.text, False, raw, hint if hint != raw else "")
