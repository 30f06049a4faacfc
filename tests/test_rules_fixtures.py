"""Every engagement fixture in tests/fixtures/ runs through the shipped playbook as
`etiu-worker rules test` runs it: it meets its [expect] section, no engagement is skipped, every
note is explained and marked, and every short description written fits and reads back.

The fixtures double as examples for admins; these tests keep them honest."""

from __future__ import annotations

import re

import pytest

import playbook_helpers as h
from etiu_worker.engagement.roadmap import parse_short_description
from roadmap_helpers import ETIU_LABELS

FIXTURE_NAMES = sorted(path.stem for path in h.FIXTURES.glob("*.toml"))


def test_the_shipped_playbook_loads_its_eight_rules_in_order():
    names = [rule.name for rule in h.playbook().rules]
    assert names == [
        "engagement_sanity", "roadmap_in_sync", "planned_window_verified", "prod_upgrade_scheduled",
        "validation_reminder", "validation_length", "bp_in_support_week", "support_week_ends",
    ]


def test_there_is_a_fixture_for_every_rule():
    matched_somewhere = set()
    for name in FIXTURE_NAMES:
        matched_somewhere |= h.matched(h.run(name))
    assert matched_somewhere == {rule.name for rule in h.playbook().rules}


@pytest.mark.parametrize("name", FIXTURE_NAMES)
def test_fixture_says_what_it_shows_in_a_comment_at_the_top(name):
    lines = h.fixture_path(name).read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("# "), f"{name}.toml must open with a comment saying what it shows"
    assert re.search(r"rules? [a-z_]+", " ".join(lines[:3])), f"{name}.toml: name the rule it shows in the first lines"


@pytest.mark.parametrize("name", FIXTURE_NAMES)
def test_fixture_meets_its_expectations_in_the_offline_tester(name):
    result = h.run(name)
    assert result.passed, result.render()
    assert "[expect]" in h.fixture_path(name).read_text(encoding="utf-8")


@pytest.mark.parametrize("name", FIXTURE_NAMES)
def test_fixture_is_planned_without_skipping_an_engagement(name):
    cycle = h.plan(name)
    assert cycle.skipped == {}


@pytest.mark.parametrize("name", FIXTURE_NAMES)
def test_every_note_planned_for_a_fixture_ends_with_the_rule_and_its_ref(name):
    for write in h.notes(h.plan(name)):
        footer = write.note.splitlines()[-1]
        assert footer == f"— etiu-worker · rule {write.rule} · ref {write.note_ref}"
        assert re.fullmatch(r"[0-9a-f]{12}", write.note_ref)


@pytest.mark.parametrize("name", FIXTURE_NAMES)
def test_every_flag_starts_with_its_marker_and_every_other_note_does_not(name):
    for write in h.notes(h.plan(name)):
        if write.kind == "flag":
            assert write.note.startswith((h.FLAG + " ", h.WARNING + " ")), write.note
            assert write.note_field == "work_notes"
        else:
            assert "[ETIU" not in write.note, write.note


@pytest.mark.parametrize("name", FIXTURE_NAMES)
def test_every_short_description_written_fits_and_reads_back_to_the_agreed_roadmap(name):
    data = h.load(name)
    cycle = h.plan(data)
    for write in cycle.writes:
        text = write.fields.get("short_description")
        if text is None:
            continue
        assert len(text) <= h.SHORT_DESCRIPTION_MAX, text
        assert parse_short_description(text, ETIU_LABELS).roadmap == h.agreed_roadmap(data, write.engagement), text
