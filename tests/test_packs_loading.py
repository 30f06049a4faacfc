"""Which packs a worker loads, from where, and what it says when a pack folder is wrong.

A pack is a folder (pack.toml, rules/, templates/, fixtures/). The settings name the packs
(`rules.packs`, or `rules.path` for one folder); a rules folder in the old layout and the
settings' old `[schema]` keys still work for one release, each with one deprecation warning.
"""

from __future__ import annotations

import logging
import os
import shutil

import pytest

import playbook_helpers as h
from etiu_worker.config import load_settings
from etiu_worker.errors import EXIT_INVALID_CONFIG, RulesError
from etiu_worker.playbook import pack_folders, pack_schema
from etiu_worker.actions.loading import load_packs, runtime_packs, runtime_playbook
from etiu_worker.playbook.packs import configured_names
from integration_helpers import describe, etiu, sandbox, worker_env  # noqa: F401 - fixture


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    """No ETIU_* setting of the developer's shell, and every deprecation warning not yet given."""
    for name in list(os.environ):
        if name.upper().startswith("ETIU_"):
            monkeypatch.delenv(name)
    monkeypatch.setattr(pack_folders, "_warned", set())
    monkeypatch.setattr(pack_schema, "_warned", set())


def settings_with(monkeypatch, **variables: str):
    for name, value in variables.items():
        monkeypatch.setenv(f"ETIU_{name}", value)
    return load_settings()


def pack_copy(tmp_path, name: str = "etiu", edits: dict[str, str] | None = None):
    """A copy of the shipped pack in tmp_path/<name>, with text of its pack.toml replaced (every
    occurrence: the five ticket roles share a table)."""
    folder = tmp_path / name
    shutil.copytree(h.SHIPPED_PACK, folder)
    for old, new in (edits or {}).items():
        text = (folder / "pack.toml").read_text(encoding="utf-8")
        assert old in text, f"{old!r} is not in pack.toml"
        (folder / "pack.toml").write_text(text.replace(old, new), encoding="utf-8")
    return folder


def legacy_copy(tmp_path):
    """The shipped pack as a rules folder in the old layout: playbook.toml beside the rules."""
    rules, _ = h.copy_playbook(tmp_path)
    return rules


def warnings_of(caplog) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.levelno == logging.WARNING]


# --- which packs load -------------------------------------------------------------------------


def test_by_default_the_shipped_etiu_pack_loads_with_its_eight_rules_and_its_schema(monkeypatch, caplog):
    [playbook] = load_packs(settings_with(monkeypatch))

    assert playbook.name == "etiu"
    assert playbook.files.root == h.SHIPPED_PACK
    assert len(playbook.rules) == 8
    assert playbook.declarations.records["validation"].table == "u_etiu_ticket" and playbook.codes["validation"] == "ETIU03"
    assert warnings_of(caplog) == []


def test_rules_path_names_one_pack_folder_whose_pack_toml_is_read(monkeypatch, tmp_path):
    folder = pack_copy(tmp_path, edits={"hours = 3": "hours = 4",
                                        'table = "u_etiu_ticket"': 'table = "x_acme_etiu"'})

    playbook = runtime_playbook(settings_with(monkeypatch, RULES__PATH=str(folder)))

    assert playbook.planned_window_hours == 4
    assert playbook.declarations.records["validation"].table == "x_acme_etiu"
    assert playbook.files.templates_dir == folder / "templates"


def test_rules_packs_takes_shipped_names_and_folders_and_loads_each_in_order(monkeypatch, tmp_path):
    other = second_pack(tmp_path)

    playbooks = load_packs(settings_with(monkeypatch, RULES__PACKS=f'["etiu", "{other}"]'))

    assert [playbook.name for playbook in playbooks] == ["etiu", "second"]
    assert playbooks[1].files.rules_dir == other / "rules"


def test_a_run_takes_every_pack_rules_packs_lists_in_order(monkeypatch, tmp_path):
    other = second_pack(tmp_path)

    playbooks = runtime_packs(settings_with(monkeypatch, RULES__PACKS=f'["etiu", "{other}"]'))

    assert [playbook.name for playbook in playbooks] == ["etiu", "second"]

def second_pack(tmp_path):
    """A copy of the shipped pack under another name, in tmp_path/second."""
    return pack_copy(tmp_path, "second", {'name = "etiu"': 'name = "second"'})


def edited_pack(old: str, new: str):
    return lambda tmp_path: {"RULES__PATH": str(pack_copy(tmp_path, edits={old: new}))}


def edited_key(new_key: str, pack_edits: dict[str, str] | None = None):
    """A copy of the shipped pack whose cancelled-schedule flag has ``new_key`` for its key."""
    def make(tmp_path):
        folder = pack_copy(tmp_path, edits=pack_edits)
        h.edit(folder / "rules" / "10_roadmap_in_sync.toml", 'key = "cancelled"', f"key = {new_key!r}")
        return {"RULES__PATH": str(folder)}
    return make


KEY_LINE = (h.SHIPPED_PACK / "rules" / "10_roadmap_in_sync.toml").read_text().splitlines().index('key = "cancelled"') + 1
REMEMBERED_KEY = "{tmp}/etiu/rules/10_roadmap_in_sync.toml:" + f"{KEY_LINE}: rule roadmap_in_sync, actions[3].key: "
POSTS_AGAIN = (": it would post again after a lost state folder: key it on the records' data (a field, a date of a "
               "record, the fields still missing), which the worker reads again from the instance")


def removed(folder, part: str):
    """The pack folder, without its sub-folder ``part``."""
    shutil.rmtree(folder / part)
    return folder


def without_pack_toml(tmp_path):
    folder = pack_copy(tmp_path)
    (folder / "pack.toml").unlink()
    return {"RULES__PATH": str(folder)}


BAD_PACKS = {
    "a folder without pack.toml": (
        without_pack_toml,
        "{tmp}/etiu/pack.toml is missing: a pack folder holds pack.toml ([pack], [playbook], [contacts], [calendar], "
        "[engagement], [records.*]), rules/, templates/ and fixtures/; start from the shipped pack with etiu-worker rules init DIR"),
    "a pack without its rules folder": (
        lambda tmp_path: {"RULES__PATH": str(removed(pack_copy(tmp_path), "rules"))},
        "rules folder {tmp}/etiu/rules does not exist: the pack {tmp}/etiu needs its rules/ folder"),
    "a pack without its templates folder": (
        lambda tmp_path: {"RULES__PATH": str(removed(pack_copy(tmp_path), "templates"))},
        "templates folder {tmp}/etiu/templates does not exist: the pack {tmp}/etiu needs its templates/ folder"),
    "a folder that does not exist": (
        lambda tmp_path: {"RULES__PATH": str(tmp_path / "nowhere")},
        "pack folder {tmp}/nowhere does not exist: set rules.packs or rules.path (ETIU_RULES__PATH)"),
    "a pack.toml without [pack]": (
        edited_pack('[pack]\nname = "etiu"', '[pack_info]\nname = "etiu"'),
        "{tmp}/etiu/pack.toml:"),
    "a pack.toml that is not named": (
        edited_pack('[pack]\nname = "etiu"\n', "[pack]\n"),
        "{tmp}/etiu/pack.toml:4: pack.name: Field required"),
    "an unknown key in the pack's [records.*]": (
        edited_pack('table = "u_etiu_ticket"', 'tabel = "u_etiu_ticket"'),
        "{tmp}/etiu/pack.toml: records.kickoff.tabel: is not a known key (did you mean 'table'?)"),
    "a note key on the moment a latch was first seen": (
        edited_key("cancelled|{{ latches.schedule.at }}"),
        REMEMBERED_KEY + "'cancelled|{{{{ latches.schedule.at }}}}' reads latches.schedule.at, the moment the worker "
        "first saw the latch hold" + POSTS_AGAIN),
    "a note key on a latch that remembers now": (
        edited_key("cancelled|{{ latches.schedule.value }}",
                   {'value = "change.planned_start if change is not none else none"': 'value = "now"'}),
        REMEMBERED_KEY + "'cancelled|{{{{ latches.schedule.value }}}}' reads latches.schedule.value, a moment the "
        "latch remembers (its value reads now)" + POSTS_AGAIN),
    "a note key on a date computed from when a latch was first seen": (
        edited_key("cancelled|{{ dates.asked | local_day }}",
                   {'[dates]\n': "[dates]\nasked = \"latches.schedule.at | plus('1bd')\"\n"}),
        REMEMBERED_KEY + "'cancelled|{{{{ dates.asked | local_day }}}}' reads dates.asked, a date computed from "
        "latches.schedule.at" + POSTS_AGAIN),
    "a shipped pack name misspelt": (
        lambda tmp_path: {"RULES__PACKS": '["etiuu"]'},
        "there is no shipped pack 'etiuu' (did you mean 'etiu'?): the shipped packs are aurea-crm-cloud, "
        "aurea-cx-managed, etiu, pisaas-monthly, vip-upgrade; a pack folder of your own is a path such as ./etiuu"),
    "rules.path and rules.packs both set": (
        lambda tmp_path: {"RULES__PATH": str(h.SHIPPED_PACK), "RULES__PACKS": '["etiu"]'},
        "rules.path and rules.packs are both set"),
    "two packs of the same name": (
        lambda tmp_path: {"RULES__PACKS": f'["etiu", "{pack_copy(tmp_path)}"]'},
        "{tmp}/etiu/pack.toml: the pack name 'etiu' is also the name of the pack in " + str(h.SHIPPED_PACK / "pack.toml")),
    "templates.path with several packs": (
        lambda tmp_path: {"RULES__PACKS": f'["etiu", "{second_pack(tmp_path)}"]',
                          "TEMPLATES__PATH": str(h.SHIPPED_PACK / "templates")},
        "templates.path (ETIU_TEMPLATES__PATH) is set, but rules.packs lists several packs"),
}


@pytest.mark.parametrize("make, message", BAD_PACKS.values(), ids=BAD_PACKS.keys())
def test_a_wrong_pack_setting_or_folder_is_refused_saying_where_and_what(monkeypatch, tmp_path, make, message):
    settings = settings_with(monkeypatch, **make(tmp_path))

    with pytest.raises(RulesError) as refused:
        load_packs(settings)

    assert refused.value.exit_code == EXIT_INVALID_CONFIG
    line = h.SHIPPED_PACK.joinpath("pack.toml").read_text().splitlines().index('table = "u_etiu_ticket"') + 1
    assert message.format(tmp=tmp_path, line=line) in str(refused.value)


def test_a_note_key_on_what_a_latch_remembers_of_a_record_loads(monkeypatch, tmp_path):
    # latches.schedule remembers the change's planned start: after a lost state folder it is set
    # again from the change, so the key is the same.
    settings = settings_with(monkeypatch, **edited_key("cancelled|{{ latches.schedule.value }}")(tmp_path))

    [pack] = load_packs(settings)

    [rule] = [rule for rule in pack.rules if rule.name == "roadmap_in_sync"]
    assert rule.actions[3].key == "cancelled|{{ latches.schedule.value }}"


# --- the old layout and the old settings, for one release ---------------------------------------


def test_an_old_layout_rules_folder_loads_as_the_etiu_pack_with_one_warning(monkeypatch, tmp_path, caplog):
    folder = legacy_copy(tmp_path)
    settings = settings_with(monkeypatch, RULES__PATH=str(folder))

    [playbook] = load_packs(settings)
    load_packs(settings)

    assert playbook.name == "etiu" and len(playbook.rules) == 8
    assert playbook.files.templates_dir == h.SHIPPED_PACK / "templates"
    [warning] = warnings_of(caplog)
    assert f"{folder} is a rules folder in the old layout" in warning
    assert "pack folder (pack.toml, rules/, templates/, fixtures/)" in warning and "etiu-worker rules init" in warning


def test_an_old_layout_folder_takes_its_templates_from_templates_path(monkeypatch, tmp_path):
    folder = legacy_copy(tmp_path)
    templates = tmp_path / "templates"
    h.edit(templates / "flag_window.j2", "The planned end of {{ change.number }} is empty", "Our planned end")

    playbook = runtime_playbook(settings_with(monkeypatch, RULES__PATH=str(folder), TEMPLATES__PATH=str(templates)))

    assert playbook.files.templates_dir == templates
    assert "Our planned end" in playbook.env.loader.get_source(playbook.env, "flag_window.j2")[0]


def test_templates_path_set_for_a_pack_replaces_its_templates_with_a_warning(monkeypatch, tmp_path, caplog):
    templates = tmp_path / "mine"
    shutil.copytree(h.SHIPPED_PACK / "templates", templates)

    playbook = runtime_playbook(settings_with(monkeypatch, TEMPLATES__PATH=str(templates)))

    assert playbook.files.templates_dir == templates
    [warning] = warnings_of(caplog)
    assert "templates.path (ETIU_TEMPLATES__PATH) is deprecated" in warning and str(templates) in warning


def test_a_schema_setting_overrides_the_pack_with_a_warning_naming_the_pack_toml(monkeypatch, tmp_path, caplog):
    folder = pack_copy(tmp_path, edits={'value = "ETIU03"': 'value = "VAL03"'})
    settings = settings_with(monkeypatch, RULES__PATH=str(folder), SCHEMA__TICKET__TABLE="x_acme_etiu")

    [playbook] = load_packs(settings)
    load_packs(settings)

    assert playbook.declarations.records["validation"].table == "x_acme_etiu"  # the setting wins
    assert playbook.codes["validation"] == "VAL03"  # what it does not set comes from the pack
    [warning] = warnings_of(caplog)
    assert "schema.ticket.table (ETIU_SCHEMA__TICKET__TABLE)" in warning
    assert f"now belong in [schema] in {folder / 'pack.toml'}" in warning


def test_a_schema_key_in_the_config_file_overrides_the_pack_too(tmp_path, caplog):
    config = tmp_path / "config.toml"
    config.write_text('[schema.ctask_states]\ncanceled = "8"\n', encoding="utf-8")

    [playbook] = load_packs(load_settings(config))

    assert playbook.declarations.records["planned_dates"].states["canceled"] == "8"
    assert playbook.declarations.records["planned_dates"].states["closed"] == "3"
    assert "schema.ctask_states.canceled (ETIU_SCHEMA__CTASK_STATES__CANCELED)" in warnings_of(caplog)[0]


def test_commands_that_read_only_the_state_folder_get_the_pack_schema(monkeypatch, tmp_path):
    folder = pack_copy(tmp_path, edits={'review = "0", closed = "3"': 'review = "0", closed = "30"'})

    names = configured_names(settings_with(monkeypatch, RULES__PATH=str(folder)))

    assert names.state_names("change_request", "state")["30"] == "closed"
    assert names.state_names("change_task", "state")["3"] == "closed"


def test_an_unknown_table_in_a_pack_names_the_key_of_its_pack_toml(tmp_path, sandbox):
    folder = pack_copy(tmp_path, edits={'table = "change_task"': 'table = "u_no_such_table"'})

    result = etiu(["plan"], worker_env(tmp_path, sandbox, RULES__PATH=str(folder)))

    assert result.returncode == 3, describe(result)
    assert (f"Invalid table u_no_such_table: set table in [records.planned_dates] of {folder / 'pack.toml'} "
            "to the table's real name") in result.stderr, describe(result)


def test_commands_that_read_only_the_state_folder_still_work_when_the_pack_cannot_be_read(monkeypatch, tmp_path):
    settings = settings_with(monkeypatch, RULES__PATH=str(tmp_path / "nowhere"), SCHEMA__CTASK_STATES__CLOSED="30")

    names = configured_names(settings)

    assert names.state_names("change_task", "state")["30"] == "closed"  # the shipped pack's, with the setting
