"""A pack says how the worker marks what it posts ([pack] flag_marker, warning_marker,
note_footer): flags start with its marker, every note ends with its footer, and a footer by which
the worker could not find its notes again is refused when the pack loads."""

from __future__ import annotations

import shutil

import pytest

import playbook_helpers as h
from etiu_worker.actions.loading import load_pack, load_playbook
from etiu_worker.cycle.engine import plan_cycle
from etiu_worker.errors import RulesError
from etiu_worker.playbook.pack_folders import pack_folder

SHIPPED_MARKS = ('flag_marker = "[ETIU FLAG]"\nwarning_marker = "[ETIU WARNING]"\n'
                 'note_footer = "— etiu-worker · rule {rule} · ref {ref}"\n')


def pack_marked(tmp_path, marks: str):
    folder = tmp_path / "etiu"
    shutil.copytree(h.SHIPPED_PACK, folder)
    h.edit(folder / "pack.toml", SHIPPED_MARKS, marks)
    return load_pack(pack_folder(folder, None))


def flags_of(playbook, fixture: str):
    data = h.load(fixture)
    cycle = plan_cycle(playbook, h.engagements(data), data.get("memory", {}), h.at_of(data),
                       lambda sys_id, ref: False, h.history(data))
    return h.writes(cycle, kind="flag")


def test_a_packs_own_marker_and_footer_are_on_its_flags(tmp_path):
    playbook = pack_marked(tmp_path, 'flag_marker = "[ACME FLAG]"\nnote_footer = "— etiu-worker (Acme) · rule {rule} · ref {ref}"\n')

    [flag] = flags_of(playbook, "validation_overdue")

    assert flag.note.startswith("[ACME FLAG] ")
    assert flag.note.endswith(f"— etiu-worker (Acme) · rule validation_length · ref {flag.note_ref}")


def test_the_shipped_pack_marks_its_flags_as_before():
    [flag] = flags_of(h.playbook(), "validation_overdue")

    assert flag.note.startswith(h.FLAG + " ")
    assert flag.note.endswith(f"— etiu-worker · rule validation_length · ref {flag.note_ref}")


def test_an_old_layout_folder_without_pack_marks_its_flags_as_the_shipped_pack_does(tmp_path):
    rules, templates = h.copy_playbook(tmp_path)
    text = (rules / "playbook.toml").read_text(encoding="utf-8")
    (rules / "playbook.toml").write_text(text[: text.index("[pack]")] + text[text.index("[playbook]"):], encoding="utf-8")

    playbook = load_playbook(rules, templates, h.settings().schema)

    assert (playbook.marks.problem, playbook.marks.warning) == (h.FLAG, h.WARNING)


@pytest.mark.parametrize("footer", [
    "— sent by a robot · rule {rule} · ref {ref}",
    "— etiu-worker · rule {rule}",
    "— etiu-worker · ref {ref}",
], ids=["without the worker's name", "without the reference at the end", "without the rule"])
def test_a_footer_the_worker_could_not_find_its_notes_by_is_refused(tmp_path, footer):
    with pytest.raises(RulesError) as refused:
        pack_marked(tmp_path, f'note_footer = "{footer}"\n')

    assert "pack.note_footer: " in str(refused.value)
    assert "must name etiu-worker, the rule ({rule}) and end with '· ref {ref}'" in str(refused.value)
