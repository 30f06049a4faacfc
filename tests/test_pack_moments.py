"""A pack's named dates ([dates]) and latches ([latches.*]) are names its conditions and
templates read (`now >= dates.cutoff`, `latches.first_slot.set`); a latch is remembered in the
engagement's memory from one cycle to the next; a misspelt date fails when the pack loads."""

from __future__ import annotations

import shutil
from datetime import datetime, timezone

import pytest

import playbook_helpers as h
from etiu_worker.actions.loading import load_pack
from etiu_worker.cycle.engine import plan_cycle
from etiu_worker.errors import RulesError
from etiu_worker.playbook.pack_folders import pack_folder

FIXTURE = "scheduled_closes_etiu03_opens_support_week"  # prod upgrade 2026-11-24 23:00 UTC, scheduled
MOMENTS = """
[dates]
cutoff = "prod_upgrade_utc | minus('48h')"

[latches.first_slot]
when = "latches.schedule.set"
value = "prod_upgrade_utc"
"""
RULE = """
[rule]
name = "cutoff_passed"
description = "Note on the change request once the cut-off before the first scheduled slot has passed."
order = 80
when = ["dates.cutoff is not none", "now >= dates.cutoff", "latches.first_slot.set"]

[[rule.actions]]
type = "work_note"
target = "change"
key = "cutoff"
template = "cutoff_passed.j2"
"""
NOTE = "Cut-off {{ dates.cutoff.isoformat() }} passed; slot first scheduled for {{ latches.first_slot.value.isoformat() }}."


def pack_with(tmp_path, moments: str = MOMENTS, rule: str = RULE):
    folder = tmp_path / "etiu"
    shutil.copytree(h.SHIPPED_PACK, folder)
    pack = folder / "pack.toml"
    text = pack.read_text(encoding="utf-8")
    if "\n[dates]\n" in moments and "\n[dates]\n" in text:  # the shipped pack declares dates too: add to them
        dated, rest = moments.split("\n[dates]\n", 1)
        body, _, tables = rest.partition("\n[")
        text = text.replace("\n[dates]\n", "\n[dates]\n" + body + "\n", 1)
        moments = dated + ("\n[" + tables if tables else "")
    pack.write_text(text + moments, encoding="utf-8")
    (folder / "rules" / "80_cutoff_passed.toml").write_text(rule, encoding="utf-8")
    (folder / "templates" / "cutoff_passed.j2").write_text(NOTE, encoding="utf-8")
    return load_pack(pack_folder(folder, None))


def cycle(playbook, memory, at):
    data = h.load(FIXTURE)
    return plan_cycle(playbook, h.engagements(data), memory, at, lambda sys_id, ref: False, h.history(data))


def test_a_rule_reads_the_packs_date_and_latch_and_the_latch_is_remembered(tmp_path):
    playbook = pack_with(tmp_path)
    at = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)

    planned = cycle(playbook, {}, at)

    note = h.one(planned, rule="cutoff_passed")  # the date in the client's zone, 48 hours before the slot
    assert note.target == "change request"
    assert "Cut-off 2026-11-22T18:00:00-05:00 passed; slot first scheduled for 2026-11-24T23:00:00+00:00" in note.note
    [memory] = planned.memories.values()
    assert memory["latches"]["first_slot"]["set"] is True


def test_before_the_cut_off_the_rule_does_not_match_and_says_why(tmp_path):
    planned = cycle(pack_with(tmp_path), {}, datetime(2026, 11, 20, 16, 0, tzinfo=timezone.utc))

    [result] = [r for r in planned.results if r.rule == "cutoff_passed"]
    assert result.why() == "not matched: 'now >= dates.cutoff' is false"


def test_a_pack_without_latches_keeps_its_memory_as_before():
    [memory] = h.plan(FIXTURE).memories.values()
    assert "latches" not in memory


# (what is broken, the pack's [dates]/[latches], the rule's conditions, what the message says)
BROKEN = [
    ("a misspelt date in a rule", MOMENTS, '"now >= dates.cutof"', "cutof"),
    ("a latch without its value", '[latches.first_slot]\nwhen = "schedule.scheduled"\n', '"latches.first_slot.set"',
     "pack.toml: latches.first_slot: value is missing"),
]


@pytest.mark.parametrize("moments, condition, says", [row[1:] for row in BROKEN], ids=[row[0] for row in BROKEN])
def test_a_date_or_latch_written_wrongly_fails_when_the_pack_loads(tmp_path, moments, condition, says):
    rule = RULE.replace('when = ["dates.cutoff is not none", "now >= dates.cutoff", "latches.first_slot.set"]',
                        f"when = [{condition}]")
    with pytest.raises(RulesError) as refused:
        pack_with(tmp_path, moments, rule)
    assert says in str(refused.value)
