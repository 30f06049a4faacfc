"""``each:<role>`` targets, checked when a rules file loads.

``target = "each:tasks"`` makes a note, flag, state or field action act on every record of the
many-role ``tasks``, one write per record, each rendered with ``record`` in its context;
``where = "record.step in ('L2', 'L3')"`` keeps only the records it holds for. The expansion
itself happens when the action plans (etiu_worker/actions/targets.py); here an ``each:`` target
of a role that is not declared, or that is not ``many = "each"``, a kind that acts on one record
only, and a ``where`` without an ``each:`` target are refused, naming what to write instead.
"""

from __future__ import annotations

from ..engagement.roles import Declarations
from ..errors import RulesError
from ..spelling import did_you_mean

EACH = "each:"


def each_role(target: str) -> str | None:
    """The role of an ``each:<role>`` target, or None for a target naming one record."""
    return target[len(EACH):] if target.startswith(EACH) else None


def role_of(target: str) -> str:
    """The role a target names, with or without ``each:``."""
    return each_role(target) or target


def check_each_targets(kind: str, takes_each: bool, targets: tuple[str, ...], where_text: str,
                       declarations: Declarations, where: str) -> None:
    """Refuse an ``each:`` target the pack cannot expand, and a ``where`` with nothing to filter."""
    for target in targets:
        role = each_role(target)
        if role is not None:
            _check_each(kind, takes_each, target, role, declarations, where)
    if where_text and not any(each_role(target) is not None for target in targets):
        raise RulesError(f"{where}: where filters the records of an each:<role> target, and this action targets "
                         f"{', '.join(targets) or 'nothing'}: write target = \"each:<role>\" or drop where")


def _check_each(kind: str, takes_each: bool, target: str, role: str, declarations: Declarations,
                where: str) -> None:
    roles = declarations.records
    many = [name for name, declared in roles.items() if declared.many == "each"]
    if not takes_each:
        raise RulesError(f"{where}: {kind} does not take an each: target; name the role itself (target = \"{role}\")")
    if role not in roles:
        raise RulesError(f"{where}: target {target!r}: {role!r} is not a declared role{did_you_mean(role, roles)}; "
                         f"the roles are: {', '.join(roles)}")
    if roles[role].many != "each":
        raise RulesError(f"{where}: target {target!r}: {role} is declared many = \"{roles[role].many}\", one record "
                         f"that counts; each: takes a role declared many = \"each\""
                         f" ({', '.join(many) if many else 'none here'})")
