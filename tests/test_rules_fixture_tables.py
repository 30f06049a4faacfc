"""A `rules test` fixture may give its rows by table (`[[records.<table>]]`, any table the pack's
roles live in) instead of the old `[[tickets]]`, `[[change_requests]]` and `[[change_tasks]]`;
both say the same engagement."""

from __future__ import annotations

import pytest

import playbook_helpers as h
from etiu_worker.cycle.rule_tester import run_fixture
from etiu_worker.errors import RulesError

BY_TABLE = {"[[tickets]]": "[[records.u_etiu_ticket]]", "[[change_requests]]": "[[records.change_request]]",
            "[[change_tasks]]": "[[records.change_task]]"}


def rewritten(tmp_path, name: str, replacements: dict[str, str]):
    text = h.fixture_path(name).read_text(encoding="utf-8")
    for old, new in replacements.items():
        text = text.replace(old, new)
    path = tmp_path / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    return path


def summary(result):
    return ([(r.rule, r.engagement, r.matched) for r in result.results],
            [(w.kind, w.table, w.target, dict(w.fields), w.note) for w in result.writes])


@pytest.mark.parametrize("name", ["scheduled_closes_etiu03_opens_support_week", "window_end_not_three_hours"])
def test_a_fixture_by_table_plans_what_the_old_keys_plan(tmp_path, name):
    old = run_fixture(h.fixture_path(name), h.playbook(), h.settings())
    new = run_fixture(rewritten(tmp_path, name, BY_TABLE), h.playbook(), h.settings())

    assert new.passed and summary(new)[0] == summary(old)[0]
    assert [write[:4] for write in summary(new)[1]] == [write[:4] for write in summary(old)[1]]


def test_a_fixture_naming_a_table_the_pack_does_not_read_is_refused_with_its_tables(tmp_path):
    path = rewritten(tmp_path, "window_end_not_three_hours", {"[[change_requests]]": "[[records.change_requests]]"})

    with pytest.raises(RulesError) as refused:
        run_fixture(path, h.playbook(), h.settings())

    assert str(refused.value) == (
        f"fixture {path}: [[records.change_requests]]: the pack reads no table 'change_requests' (did you mean "
        "'change_request'?); its tables are change_request, change_task, u_etiu_ticket")
