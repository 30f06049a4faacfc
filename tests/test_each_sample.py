"""An ``each:<role>`` action is checked at load against the sample's record of that role: its
template and ``where`` may read the aliases only that role declares, and a misspelt one is still
refused, naming the role's fields."""

from __future__ import annotations

import pytest

import generic_helpers as g
from etiu_worker.actions.loading import load_pack
from etiu_worker.errors import RulesError
from etiu_worker.playbook.pack_folders import pack_folder

EACH_TASK = """
when = ["change is not none"]

[[rule.actions]]
type = "work_note"
target = "each:{role}"
where = "record.{field} is not none"
template = "each.j2"
"""


def loaded(tmp_path, actions: str, template: str):
    """The pack of generic_helpers with one rule, loaded as `rules check` loads it (the sample too)."""
    g.pack_with(tmp_path, actions, {"each.j2": template})
    return load_pack(pack_folder(tmp_path / "vip"))


@pytest.mark.parametrize(("role", "field"), [("tasks", "step_id"), ("tasks", "work_start"), ("rollback", "title")])
def test_an_each_action_reading_an_alias_only_its_role_has_loads(tmp_path, role, field):
    playbook = loaded(tmp_path, EACH_TASK.format(role=role, field=field), f"{{{{ record.{field} }}}}")

    assert [action.targets for rule in playbook.rules for action in rule.actions] == [(f"each:{role}",)]


def test_an_each_action_reading_an_alias_its_role_lacks_is_refused_naming_the_roles_fields(tmp_path):
    with pytest.raises(RulesError) as raised:
        loaded(tmp_path, EACH_TASK.format(role="tasks", field="step_id"), "{{ record.owner }}")
    assert "record has no 'owner'; record has: " in str(raised.value) and "step_id" in str(raised.value)
