"""The journal records the kinds of action the actions registry declares, without knowing them."""

from __future__ import annotations

from pathlib import Path

import pytest

from etiu_worker.actions import KINDS
from etiu_worker.state.journal import ActionRecord, Journal


def action(kind: str) -> ActionRecord:
    return ActionRecord(run_id="run1", rule="a_rule", engagement="ENG-1", table="change_request",
                        sys_id="a" * 32, number="CHG0030001", target="change", kind=kind)


def test_the_worker_journal_records_every_kind_the_actions_registry_declares(tmp_path: Path) -> None:
    with Journal.open(tmp_path, action_kinds=KINDS) as journal:
        for kind in KINDS:
            journal.record_action(action(kind))
        assert sorted(entry.kind for entry in journal.entries()) == sorted(KINDS)


def test_a_journal_given_the_registry_refuses_a_kind_it_does_not_declare(tmp_path: Path) -> None:
    with Journal.open(tmp_path, action_kinds=KINDS) as journal:
        with pytest.raises(ValueError, match=r"unknown action kind 'create_record': expected one of \['comment',"):
            journal.record_action(action("create_record"))
        assert journal.entries() == []


def test_a_journal_given_no_list_records_a_kind_a_new_action_declares(tmp_path: Path) -> None:
    with Journal.open(tmp_path) as journal:
        journal.record_action(action("create_record"))
        assert [entry.kind for entry in journal.entries()] == ["create_record"]


@pytest.mark.parametrize("kind", ["", "Set State", "set-state", "flag; DROP TABLE actions", "2nd_note"])
def test_a_kind_that_is_not_a_name_is_refused(tmp_path: Path, kind: str) -> None:
    with Journal.open(tmp_path) as journal:
        with pytest.raises(ValueError, match="is not a name of lower-case letters, digits and _"):
            journal.record_action(action(kind))
