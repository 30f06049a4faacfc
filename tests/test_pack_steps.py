"""A pack's [steps.*] in conditions: the ETIU pack's validation is a step of 2 business days from
ETIU03's work start, read by its role's record and declared meanings; a step naming a role or a
field the pack does not declare is refused when the pack loads."""

from __future__ import annotations

import shutil
from datetime import datetime, timezone

import pytest

import playbook_helpers as h
from etiu_worker.actions.loading import load_pack
from etiu_worker.errors import RulesError
from etiu_worker.playbook.context import build_context, compute_facts
from etiu_worker.playbook.pack_folders import pack_folder


def steps_of(data, at=None):
    """The ``steps`` a condition reads for the fixture's one engagement."""
    [engagement] = h.engagements(data)
    now = at or h.at_of(data)
    memory = data.get("memory", {}).get(engagement.key, {})
    playbook = h.playbook()
    return build_context(engagement, compute_facts(engagement, playbook, memory, now), playbook, now)["steps"]


def test_validation_is_due_two_business_days_after_etiu03_went_to_work_in_progress():
    step = steps_of(h.load("validation_overdue")).validation

    assert step.start == datetime(2026, 11, 16, 17, 0, tzinfo=timezone.utc)  # Monday 09:00 PST
    assert step.due == datetime(2026, 11, 18, 17, 0, tzinfo=timezone.utc)  # Wednesday 09:00 PST
    assert (step.state, step.overdue) == ("open", True)


def test_validation_is_not_overdue_before_its_two_business_days_are_over():
    step = steps_of(h.load("validation_overdue"), at=datetime(2026, 11, 18, 16, 59, tzinfo=timezone.utc)).validation

    assert not step.overdue
    assert 0.999 < step.share < 1


def test_a_closed_etiu03_is_a_done_step_whatever_its_state_is_called():
    data = h.load_with("validation_overdue", {'state = "2"  # Work in Progress': 'state = "4"  # Closed Incomplete'})
    step = steps_of(data).validation

    assert (step.state, step.done, step.overdue) == ("done", True, False)


def test_without_a_validation_ticket_the_step_has_no_record_and_no_clock():
    data = h.load("validation_overdue")
    data["tickets"] = []
    step = steps_of(data).validation

    assert (step.state, step.start, step.due, step.overdue) == ("missing", None, None, False)


@pytest.mark.parametrize("old, new, message", [
    ('role = "validation"\ntitle', 'role = "validaton"\ntitle',
     "steps.validation.role: 'validaton' is not a declared role (did you mean 'validation'?)"),
    ('start_from = "validation.work_start"', 'start_from = "validation.work_begin"',
     "steps.validation.start_from: 'validation.work_begin' names no declared field"),
    ('start_from = "validation.work_start"', 'start_from = "validaton.work_start"',
     "(did you mean 'validation.work_start'?)"),
])
def test_a_step_naming_a_role_or_field_that_is_not_declared_is_refused_at_load(tmp_path, old, new, message):
    folder = tmp_path / "etiu"
    shutil.copytree(h.SHIPPED_PACK, folder)
    h.edit(folder / "pack.toml", old, new)

    with pytest.raises(RulesError) as refused:
        load_pack(pack_folder(folder))

    assert str(refused.value).startswith(f"{folder / 'pack.toml'}: ")
    assert message in str(refused.value)
