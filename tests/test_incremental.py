"""Incremental evaluation: which engagements a cycle evaluates, their wake-ups, the journal's marks.

In-process cycles against the demo sandbox on a clock the test moves; the property test
(test_incremental_property.py) shows that what is planned never differs from a full evaluation.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from jinja2.sandbox import ImmutableSandboxedEnvironment

from etiu_worker.actions.loading import load_packs
from etiu_worker.config import load_settings
from etiu_worker.cycle import runner
from etiu_worker.playbook.clock_reads import _unsafe_use, clock_use
from etiu_worker.playbook.timefilters import register_time
from etiu_worker.playbook.wakeups import next_midnight
from etiu_worker.state.journal import Journal
from etiu_worker.state.journal_open import DATABASE_NAME
from etiu_worker.state.journal_schema import MIGRATIONS

from safety_helpers import FIXED_DAY, converge_as_time_moves, in_process_settings, run_cycle, seeded_sandbox
from test_faults_all_packs import MIX

TICKETS = "u_etiu_ticket"


@pytest.fixture
def demo(moved, tmp_path):
    """The demo sandbox after the worker has converged on it, and the worker's settings."""
    sb = seeded_sandbox(FIXED_DAY)
    sb.store.now = moved
    settings = in_process_settings(sb, tmp_path / "state")
    converge_as_time_moves(settings, moved, 4)
    yield sb, settings
    sb.stop()


def evaluated(settings) -> list[str]:
    cycle = run_cycle(settings)
    assert cycle.report is not None, cycle.error
    return cycle.report.plan.evaluated


def test_a_quiet_cycle_evaluates_no_engagement(demo, moved):
    _, settings = demo
    moved.at += timedelta(minutes=5)
    assert evaluated(settings) == []


def test_a_quiet_cycle_keeps_every_open_flag(demo, moved):
    _, settings = demo
    with Journal.open(settings.state.dir) as journal:
        before = sorted((f.engagement, f.rule, f.key) for f in journal.open_flags())
    moved.at += timedelta(minutes=5)
    run_cycle(settings)
    with Journal.open(settings.state.dir) as journal:
        assert sorted((f.engagement, f.rule, f.key) for f in journal.open_flags()) == before
    assert before, "the demo raised no flag: the test would prove nothing"


def test_a_persons_edit_evaluates_that_engagement_alone(demo, moved):
    sb, settings = demo
    ticket = sb.store.query(TICKETS, "correlation_id=ENG-ACME")[0]
    sb.store.update(TICKETS, ticket["sys_id"], {"work_notes": "looked at it"}, user="dana.coordinator")
    moved.at += timedelta(minutes=5)
    assert evaluated(settings) == ["ENG-ACME"]


def test_the_next_local_midnight_evaluates_every_engagement_of_that_day(demo, moved):
    _, settings = demo
    moved.at = next_midnight(moved.at, ZoneInfo("Pacific/Kiritimati")) + timedelta(days=1, hours=14)
    assert len(evaluated(settings)) > 0


def test_a_full_evaluation_comes_every_full_evaluation_hours(demo, moved):
    _, settings = demo
    settings = settings.model_copy(update={"state": settings.state.model_copy(
        update={"full_evaluation_hours": 0.5, "full_resync_hours": 1000})})
    moved.at += timedelta(minutes=10)
    assert evaluated(settings) == []
    moved.at += timedelta(minutes=25)
    report = run_cycle(settings).report
    assert len(report.plan.evaluated) == report.plan.total > 0


def test_a_changed_setting_that_shapes_planning_evaluates_every_engagement(demo, moved):
    _, settings = demo
    moved.at += timedelta(minutes=5)
    settings = settings.model_copy(update={"worker": settings.worker.model_copy(update={"default_timezone": "Europe/Paris"})})
    report = run_cycle(settings).report
    assert len(report.plan.evaluated) == report.plan.total > 0


def test_plan_shows_a_full_evaluation(demo, moved):
    _, settings = demo
    moved.at += timedelta(minutes=5)
    report = runner.plan_once(settings)
    assert len(report.plan.evaluated) == report.plan.total > 0


def test_a_journal_from_before_incremental_evaluation_migrates_with_no_evaluation_recorded(tmp_path):
    state = tmp_path / "state"
    state.mkdir()
    db = sqlite3.connect(state / DATABASE_NAME)
    for statements in MIGRATIONS[:3]:
        for statement in statements:
            db.execute(statement)
    db.execute("INSERT INTO engagement_state (key, state, updated_at) VALUES ('ENG-1', '{}', '2026-01-01')")
    db.execute("PRAGMA user_version = 3")
    db.commit()
    db.close()
    with Journal.open(state) as journal:
        assert journal.evaluations() == {}
        assert journal.engagement_state_texts() == {"ENG-1": "{}"}


def test_every_shipped_pack_reads_the_clock_in_ways_a_wake_up_follows():
    settings = load_settings()
    settings = settings.model_copy(update={"rules": settings.rules.model_copy(update={"packs": list(MIX)})})
    for playbook in load_packs(settings):
        assert clock_use(playbook).unsafe == "", playbook.name


@pytest.mark.parametrize("source", ["now >= dates.cutoff", "prod_upgrade_utc <= now", "now in dates.week",
                                    "business_days_between(x, now) >= 2", "(now | local_day) > dates.day", "now",
                                    "key|{{ business_days_between(x, now) // 3 }}"])
def test_a_comparison_of_now_with_a_value_of_the_context_can_be_followed(source):
    assert _unsafe_use(_env(), source) == ""


@pytest.mark.parametrize("source", ["now >= x | plus('2h')", "now - x > y", "key|{{ now }}", "(now | plus('1d')) > x"])
def test_arithmetic_on_now_cannot_be_followed_and_is_evaluated_every_cycle(source):
    assert "reads now" in _unsafe_use(_env(), source)


def test_the_next_local_midnight_is_in_the_clients_zone():
    at = datetime(2026, 3, 8, 4, 30, tzinfo=timezone.utc)  # 23:30 in New York, the evening before spring forward
    assert next_midnight(at, ZoneInfo("America/New_York")) == datetime(2026, 3, 8, 5, 0, tzinfo=timezone.utc)


def _env():
    env = ImmutableSandboxedEnvironment()
    register_time(env)
    return env
