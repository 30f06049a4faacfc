"""A run keeps what its packs compiled to in the state folder, and the next run takes it from there.

The code kept is trusted only when it cannot be stale or foreign: any change to a template, a
condition, a label, or the worker itself compiles again, and a file someone else could have
written is not read.
"""

from __future__ import annotations

import os
import shutil

import pytest

import playbook_helpers as h
from etiu_worker.actions.loading import load_pack, load_packs, runtime_packs
from etiu_worker.config import Settings
from etiu_worker.cycle.rule_tester import run_fixture
from etiu_worker.errors import RulesError
from etiu_worker.state.journal import Journal
from etiu_worker.playbook.code_cache import FILE_NAME, CodeCache
from etiu_worker.playbook.pack_folders import pack_folder, shipped_pack, shipped_pack_names
from etiu_worker.playbook.templates import make_environment, render, render_file, use_labels
from etiu_worker.actions.sample import sample_context

SHIPPED = shipped_pack_names()


def five_pack_settings(state_dir, *, journal: bool = True) -> Settings:
    """The five shipped packs, with a state folder that holds a journal (one a run made) or not."""
    state_dir.mkdir(mode=0o700, exist_ok=True)
    if journal:
        Journal.open(state_dir).close()
    return Settings(rules={"packs": SHIPPED}, state={"dir": state_dir})


def loaded_twice(folder, state_dir):
    """The pack loaded into a new cache, then loaded again from what the first load kept."""
    first = CodeCache.open(state_dir)
    load_pack(folder, code_cache=first)
    first.save()
    second = CodeCache.open(state_dir)
    return load_pack(folder, code_cache=second), second


def outcome(result) -> list[tuple]:
    return [(w.rule, w.kind, w.target, w.number, dict(w.fields), w.note) for w in result.writes]


def test_a_second_run_of_unchanged_packs_compiles_nothing(tmp_path):
    settings = five_pack_settings(tmp_path / "state")
    runtime_packs(settings, keep_compiled=True)
    again = CodeCache.open(settings.state.dir)
    load_packs(settings, code_cache=again)
    assert again.misses == 0
    assert again.hits > 100  # every condition and template of the five packs


def test_a_run_keeps_the_compiled_code_readable_by_its_user_alone(tmp_path):
    settings = five_pack_settings(tmp_path / "state")
    runtime_packs(settings, keep_compiled=True)
    assert (settings.state.dir / FILE_NAME).stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize("keep_compiled, journal", [(True, False), (False, True)])
def test_a_folder_without_a_journal_and_a_command_that_is_not_a_run_keep_nothing(keep_compiled, journal, tmp_path):
    settings = five_pack_settings(tmp_path / "state", journal=journal)
    before = sorted(path.name for path in settings.state.dir.iterdir())
    runtime_packs(settings, keep_compiled=keep_compiled)
    assert sorted(path.name for path in settings.state.dir.iterdir()) == before


@pytest.mark.parametrize("name", SHIPPED)
def test_a_pack_taken_from_compiled_code_plans_every_fixture_as_a_fresh_load(name, tmp_path):
    folder = pack_folder(shipped_pack(name))
    fresh = load_pack(folder)
    cached, cache = loaded_twice(folder, tmp_path)
    assert cache.misses == 0
    fixtures = sorted(folder.fixtures_dir.glob("*.toml"))
    assert fixtures
    for fixture in fixtures:
        assert outcome(run_fixture(fixture, cached, h.settings())) == outcome(run_fixture(fixture, fresh, h.settings()))


def test_an_edited_template_is_compiled_again(tmp_path):
    copy = pack_folder(shutil.copytree(shipped_pack("etiu"), tmp_path / "etiu"))
    loaded_twice(copy, tmp_path)
    template = copy.templates_dir / "support_week_closed.j2"
    template.write_text(template.read_text(encoding="utf-8") + "\nEdited by the coordinator.\n", encoding="utf-8")
    cache = CodeCache.open(tmp_path)
    playbook = load_pack(copy, code_cache=cache)
    assert cache.misses == 1
    assert "Edited by the coordinator." in render_file(playbook.env, "support_week_closed.j2", sample_context(playbook)[1])


def test_a_constant_label_is_not_taken_from_code_compiled_with_the_old_labels(tmp_path):
    cache = CodeCache.open(tmp_path)
    before = make_environment(code_cache=cache)
    use_labels(before, {"prod_upgrade": "Go-live"})
    assert render(before, "{{ 'prod_upgrade' | label }}", {}, name="t") == "Go-live"
    cache.save()
    after = make_environment(code_cache=CodeCache.open(tmp_path))
    use_labels(after, {"prod_upgrade": "Cutover"})
    assert render(after, "{{ 'prod_upgrade' | label }}", {}, name="t") == "Cutover"


def test_a_broken_condition_is_refused_in_the_same_words_after_a_cached_run(tmp_path):
    copy = pack_folder(shutil.copytree(shipped_pack("etiu"), tmp_path / "etiu"))
    loaded_twice(copy, tmp_path)
    rule = next(copy.rules_dir.glob("*support_week_ends*.toml"))
    text = rule.read_text(encoding="utf-8")
    rule.write_text(text.replace('"dates.support_week is not none",', '"dates.support_week is not none ((",'), encoding="utf-8")
    with pytest.raises(RulesError) as uncached:
        load_pack(copy)
    with pytest.raises(RulesError) as cached:
        load_pack(copy, code_cache=CodeCache.open(tmp_path))
    assert str(cached.value) == str(uncached.value)
    assert "does not compile" in str(cached.value)


@pytest.mark.parametrize("damage", [b"", b"garbage", b"etiu-compiled-templates 1\n\x00\x01broken"])
def test_a_damaged_file_is_ignored_and_written_again(damage, tmp_path):
    (tmp_path / FILE_NAME).write_bytes(damage)
    os.chmod(tmp_path / FILE_NAME, 0o600)
    folder = pack_folder(shipped_pack("etiu"))
    _, cache = loaded_twice(folder, tmp_path)
    assert cache.misses == 0


def test_a_file_others_can_write_is_not_read(tmp_path):
    folder = pack_folder(shipped_pack("etiu"))
    loaded_twice(folder, tmp_path)
    os.chmod(tmp_path / FILE_NAME, 0o666)
    cache = CodeCache.open(tmp_path)
    load_pack(folder, code_cache=cache)
    assert cache.hits == 0
