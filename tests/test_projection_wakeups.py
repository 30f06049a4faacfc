"""Wake-ups for a step's projected finish: which reads of it a wake-up can follow, and a quiet
five-pack cycle that evaluates nothing although the aurea packs read it while steps are open.

The property test (test_incremental_property.py) shows that what is planned never differs from
a full evaluation; the history here moves the clock five hours at a time past deadlines set so that
open steps' projected finishes cross them.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from jinja2.sandbox import ImmutableSandboxedEnvironment

from etiu_worker.actions.loading import load_packs
from etiu_worker.config import load_settings
from etiu_worker.playbook.clock_reads import clock_use
from etiu_worker.playbook.projection_reads import projection_use
from etiu_worker.playbook.timefilters import register_time

from safety_helpers import FIXED_MOMENT, run_cycle
from test_faults_all_packs import MIX, mix_sandbox, mix_settings, mix_snapshot
from test_incremental_property import planned

CASES = "sn_customerservice_case"
FOLLOWED = ["dates.projected_finish | local_day > dates.deadline", "steps.projected_finish > dates.ten_weeks",
            "steps.projected_finish is not none", "key|{{ steps.dev.projected_finish | local_day }}",
            "dates.deadline < steps.projected_finish", "(steps.projected_finish | local_day).day > 3"]
UNFOLLOWED = ["steps.projected_finish | plus('1d') > dates.deadline", "key|{{ steps.projected_finish }}",
              "steps.a.projected_finish > steps.b.projected_finish", "now >= steps.projected_finish",
              "steps.projected_finish"]


def uses(source: str, dates: dict[str, str] | None = None):
    env = ImmutableSandboxedEnvironment()
    register_time(env)
    return projection_use(env, [(False, {"rules": [{"when": [source]}]})], dates or {})


@pytest.mark.parametrize("source", FOLLOWED)
def test_a_projected_finish_read_by_its_day_or_compared_with_a_fixed_value_can_be_followed(source):
    found = uses(source)
    assert found.read and found.unfollowed == ""


@pytest.mark.parametrize("source", UNFOLLOWED)
def test_any_other_read_of_a_projected_finish_cannot_be_followed(source):
    assert "projected finish in a way whose next change cannot be derived" in uses(source).unfollowed


def test_a_date_that_is_a_projected_finish_is_held_to_the_same_rules():
    dates = {"finish": "steps.projected_finish", "later": "dates.finish"}
    assert uses("dates.later | local_day > dates.deadline", dates).dates == {"finish", "later"}
    assert uses("dates.later | plus('2d') > dates.deadline", dates).unfollowed
    assert uses("x", {"buffer": "steps.projected_finish | plus('1w')"}).unfollowed


def test_the_aurea_packs_read_projected_finishes_in_ways_a_wake_up_follows():
    settings = load_settings()
    settings = settings.model_copy(update={"rules": settings.rules.model_copy(update={"packs": list(MIX)})})
    readers = {p.name: clock_use(p).projection for p in load_packs(settings) if clock_use(p).projection.read}
    assert sorted(readers) == ["aurea-crm-cloud", "aurea-cx-managed"]
    assert all(use.unfollowed == "" for use in readers.values()), readers


def converge(settings, clock) -> None:
    for _ in range(5):
        clock.at += timedelta(minutes=1)
        if not run_cycle(settings).report.plan.writes:
            return
    raise AssertionError("the worker did not converge on the five-pack demo")


@pytest.mark.expected_errors("skipped")
def test_a_quiet_five_pack_cycle_evaluates_no_engagement(moved, tmp_path):
    mix = mix_sandbox(FIXED_MOMENT.date())
    mix.sandbox.store.now = moved
    try:
        settings = mix_settings(mix.sandbox, tmp_path / "state")
        converge(settings, moved)
        moved.at += timedelta(minutes=5)
        report = run_cycle(settings).report
        assert report.plan.evaluated == [] and report.plan.total > 0
    finally:
        mix.sandbox.stop()


@pytest.mark.expected_errors("skipped")
def test_a_projected_finish_passing_a_deadline_is_flagged_in_the_cycle_a_full_evaluation_flags_it(moved, tmp_path):
    instances = [mix_sandbox(FIXED_MOMENT.date()), mix_sandbox(FIXED_MOMENT.date())]
    try:
        for mix in instances:
            mix.sandbox.store.now = moved
            for case in mix.sandbox.store.query(CASES):  # deadlines the open steps' projections will pass
                deadline = (FIXED_MOMENT + timedelta(days=2 + len(case["sys_id"]) % 4)).date().isoformat()
                mix.sandbox.store.update(CASES, case["sys_id"], {"u_deadline": deadline}, user="dana.coordinator")
        incremental = mix_settings(instances[0].sandbox, tmp_path / "incremental")
        full = mix_settings(instances[1].sandbox, tmp_path / "full")
        full = full.model_copy(update={"state": full.state.model_copy(update={"full_evaluation_hours": 0})})
        flagged = skipped = 0
        for _ in range(16):
            one, other = run_cycle(incremental), run_cycle(full)
            assert planned(one, instances[0].seeded) == planned(other, instances[0].seeded), moved.at
            flagged += sum("deadline" in w.rule for w in one.report.plan.writes)
            skipped += one.report.plan.total - len(one.report.plan.evaluated)
            moved.at += timedelta(hours=5)  # a day passes some engagements' midnights, not all
        assert mix_snapshot(instances[0]) == mix_snapshot(instances[1])
        assert flagged and skipped, "no deadline was passed, or nothing was skipped: the test proves nothing"
    finally:
        for mix in instances:
            mix.sandbox.stop()
