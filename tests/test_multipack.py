"""Several packs in one run, end to end over HTTP: the etiu pack and a data-only go-live pack over
the same records, their [pack] match splitting the demo engagements, one engagement claimed by
both."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from etiu_worker.sandbox import Sandbox
from etiu_worker.state.journal import Journal
from integration_helpers import CYCLE_TABLES, PASSWORD, REPO, copy_pack, describe, etiu, state_dir, worker_env, writes

GOLIVE_PACK = REPO / "tests" / "packs" / "golive"
GOLIVE_ONLY = "ENG-ACME"  # only the go-live pack's match holds
CLAIMED_BY_BOTH = "ENG-GLOBEX"  # both packs' matches hold


def with_match(folder: Path, match: str) -> Path:
    """``folder``'s pack with ``match = MATCH`` in its [pack] table."""
    pack_file = folder / "pack.toml"
    text = pack_file.read_text(encoding="utf-8")
    pack_file.write_text(text.replace("[pack]\n", f"[pack]\nmatch = {json.dumps(match)}\n", 1), encoding="utf-8")
    return folder


def two_packs(tmp_path: Path) -> str:
    """rules.packs for etiu (every engagement but the go-live one) then go-live (it and the shared one)."""
    etiu_pack = with_match(copy_pack(tmp_path), f"key != '{GOLIVE_ONLY}'")
    golive = with_match(Path(shutil.copytree(GOLIVE_PACK, tmp_path / "golive")), f"key in ['{GOLIVE_ONLY}', '{CLAIMED_BY_BOTH}']")
    return json.dumps([str(etiu_pack), str(golive)])


@pytest.fixture(scope="module")
def cycles(tmp_path_factory):
    """plan, then two runs, then the report, on the demo instance with both packs."""
    tmp_path = tmp_path_factory.mktemp("multipack")
    with Sandbox(seed_demo=True, password=PASSWORD).start(port=0) as sandbox:
        env = worker_env(tmp_path, sandbox, RULES__PACKS=two_packs(tmp_path))
        plan = etiu(["plan"], env)
        first = etiu(["run", "--once"], env)
        sandbox.reset_requests()
        second = etiu(["run", "--once"], env)
        yield {"plan": plan, "first": first, "second": second, "requests": dict(sandbox.requests),
               "second_writes": writes(sandbox), "report": etiu(["report"], env),
               "report_json": etiu(["report", "--format", "json"], env),
               "view": etiu(["report", "--view", "live-this-week"], env), "env": env, "state": state_dir(tmp_path)}


def journal_of(cycles, engagement: str):
    with Journal.open_read_only(cycles["state"]) as journal:
        return journal.entries(engagement=engagement, limit=1000)


def test_the_first_run_of_two_packs_acts_on_the_engagements_of_the_etiu_pack(cycles):
    assert cycles["first"].returncode == 0, describe(cycles["first"])
    assert journal_of(cycles, "ENG-INITECH"), "the etiu pack's engagement should need writes on the first cycle"


def test_an_engagement_only_the_data_only_pack_claims_gets_no_write(cycles):
    assert journal_of(cycles, GOLIVE_ONLY) == []


def test_an_engagement_both_packs_claim_is_flagged_once_and_nothing_else_is_written_for_it(cycles):
    entries = journal_of(cycles, CLAIMED_BY_BOTH)

    assert [(entry.kind, entry.rule, entry.outcome) for entry in entries] == [("flag", "engagement_sanity", "done")]
    assert "is claimed by packs etiu and golive" in entries[0].after["work_notes"]


def test_a_second_run_of_two_packs_writes_nothing_and_reads_each_shared_table_once(cycles):
    assert cycles["second"].returncode == 0, describe(cycles["second"])
    assert cycles["second_writes"] == {}
    assert cycles["requests"] == {("GET", table): 1 for table in CYCLE_TABLES}
    assert "Nothing to do" in cycles["second"].stdout


def test_plan_and_run_say_how_many_engagements_each_pack_took(cycles):
    for result in (cycles["plan"], cycles["first"]):
        assert "packs: etiu 13 engagements, golive 1 engagement" in result.stdout, describe(result)


def test_the_report_shows_each_pack_under_its_title_with_the_engagements_it_claims(cycles):
    result = cycles["report"]

    assert result.returncode == 0, describe(result)
    assert "ETIU engagements (pack etiu)" in result.stdout
    assert "Go-lives (pack golive)" in result.stdout
    assert "is claimed by packs etiu and golive" in result.stdout


def test_the_report_as_json_names_each_engagements_pack_once(cycles):
    items = json.loads(cycles["report_json"].stdout)
    packs = {item["engagement"]: item["pack"] for item in items}

    assert len(items) == len(packs) == 14
    assert packs[GOLIVE_ONLY] == "golive"
    assert packs[CLAIMED_BY_BOTH] == "etiu"


def test_a_view_of_the_second_pack_is_offered_and_shows_that_pack_alone(cycles):
    result = cycles["view"]

    assert result.returncode == 0, describe(result)
    assert " of 1 engagements (view live-this-week)" in result.stdout  # the go-live pack's one engagement
    assert " of 13 engagements" not in result.stdout


def test_a_view_no_configured_pack_has_is_a_usage_error_listing_the_packs_views(cycles):
    result = etiu(["report", "--view", "no-such-view"], cycles["env"])

    assert result.returncode == 2, describe(result)
    assert "no-prod-upgrade" in result.stderr and "live-this-week" in result.stderr
