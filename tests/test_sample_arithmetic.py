"""A key, title or note that computes with a value the sample engagement leaves unset (``x // 2``
on a date that is none) is the pack's mistake: refused at load as a RulesError naming the rule's
file and action, with what to write instead, not an internal error."""

from __future__ import annotations

import pytest

import generic_helpers as g
from etiu_worker.actions.loading import load_pack
from etiu_worker.errors import RulesError
from etiu_worker.playbook.pack_folders import pack_folder


def pack(tmp_path, key: str):
    g.pack_with(tmp_path, f'[[rule.actions]]\ntype = "work_note"\ntarget = "change"\nkey = "{key}"\ntemplate = "note.j2"\n',
                templates={"note.j2": "A note."})
    return load_pack(pack_folder(tmp_path / "vip"))


@pytest.mark.parametrize("key, says", [
    ("{{ none // 2 }}", "TypeError: unsupported operand type(s) for //: 'NoneType' and 'int'"),
    ("{{ 1 // 0 }}", "ZeroDivisionError: integer division or modulo by zero"),
])
def test_a_key_computing_with_an_unset_value_is_refused_at_load_naming_the_action(tmp_path, key, says):
    with pytest.raises(RulesError) as refused:
        pack(tmp_path, key)

    message = str(refused.value)
    assert message.startswith(str(tmp_path / "vip" / "rules" / "10_act.toml"))
    assert f"actions[0] (work_note): fails on the sample engagement: {says}; test the value first" in message


def test_a_key_that_tests_the_value_first_loads(tmp_path):
    assert pack(tmp_path, "{{ (none // 2) if none is not none else 0 }}").rules[0].name == "act"
