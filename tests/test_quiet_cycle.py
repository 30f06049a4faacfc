"""A quiet cycle: when nothing changed on the instance or in the journal and no wake-up is due, the
worker reads one list per table and builds no engagement; anything that may change an outcome
makes the next cycle evaluate (cycle/quiet.py).

In-process cycles against the demo sandbox on a clock the test moves.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

import pytest

from etiu_worker.cycle import engine, runner
from etiu_worker.sandbox import demo as demo_data
from etiu_worker.state.cache import CACHE_NAME, RecordCache
from etiu_worker.state.journal import Journal

from safety_helpers import FIXED_DAY, converge_as_time_moves, in_process_settings, run_cycle, seeded_sandbox

TICKETS = "u_etiu_ticket"
TABLES = (TICKETS, "change_request", "change_task")


@pytest.fixture
def settled(moved, tmp_path):
    """The demo sandbox after the worker has converged on it and one cycle more (which keeps the
    basis a quiet cycle compares with), and the worker's settings."""
    sb = seeded_sandbox(FIXED_DAY)
    sb.store.now = moved
    settings = in_process_settings(sb, tmp_path / "state")
    converge_as_time_moves(settings, moved, 5)
    moved.at += timedelta(minutes=1)
    assert run_cycle(settings).report.plan.evaluated == []
    yield sb, settings
    sb.stop()


@pytest.fixture
def decoded(monkeypatch):
    """The cached rows decoded, by table, from now on."""
    counted: Counter = Counter()
    records = RecordCache.records

    def counting(cache, table, *each_chunk):
        found = records(cache, table, *each_chunk)
        counted[table] += len(found)
        return found

    monkeypatch.setattr(RecordCache, "records", counting)
    return counted


def cycle(settings, moved, minutes: float = 5):
    moved.at += timedelta(minutes=minutes)
    result = run_cycle(settings)
    assert result.report is not None, result.error
    return result.report


def every_engagement_evaluated(report) -> bool:
    return len(report.plan.evaluated) == report.plan.total > 0


def test_a_quiet_cycle_sends_one_list_request_per_table_and_decodes_no_cached_row(settled, moved, decoded):
    sb, settings = settled
    sb.reset_requests()
    report = cycle(settings, moved)
    assert sb.requests == Counter({("GET", table): 1 for table in TABLES})
    assert decoded == Counter()
    assert report.plan.evaluated == [] and report.outcomes == []


def test_a_quiet_cycle_reports_the_engagements_the_last_cycle_found(settled, moved):
    _, settings = settled
    assert cycle(settings, moved).plan.total == len(demo_data.ENGAGEMENTS)


def test_an_edit_to_one_record_evaluates_its_engagement_and_writes_what_a_full_evaluation_plans(settled, moved):
    sb, settings = settled
    _move_bp_date(sb, "ENG-ACME")
    moved.at += timedelta(minutes=5)
    planned = _writes(runner.plan_once(settings).plan.writes)
    report = cycle(settings, moved, 0)
    assert report.plan.evaluated == ["ENG-ACME"]
    assert _writes(outcome.write for outcome in report.outcomes) == planned != []


def test_an_edit_to_one_record_is_evaluated_though_nothing_else_read_it_first(settled, moved):
    sb, settings = settled
    ticket = sb.store.query(TICKETS, "correlation_id=ENG-ACME")[0]
    sb.store.update(TICKETS, ticket["sys_id"], {"work_notes": "looked at it"}, user="dana.coordinator")
    assert cycle(settings, moved).plan.evaluated == ["ENG-ACME"]


def test_the_earliest_wake_up_passing_evaluates_the_engagements_it_wakes(settled, moved):
    _, settings = settled
    with Journal.open(settings.state.dir) as journal:
        wakes = {key: datetime.fromisoformat(wake) for key, (_, wake) in journal.evaluations().items()}
    earliest = min(wakes.values())
    moved.at = earliest - timedelta(minutes=1)
    assert cycle(settings, moved, 0).plan.evaluated == []
    moved.at = earliest + timedelta(seconds=1)
    woken = {key for key, wake in wakes.items() if wake == earliest}
    assert woken <= set(cycle(settings, moved, 0).plan.evaluated)


def test_a_changed_setting_that_shapes_planning_evaluates_every_engagement(settled, moved):
    _, settings = settled
    settings = settings.model_copy(update={"worker": settings.worker.model_copy(update={"default_timezone": "Europe/Paris"})})
    assert every_engagement_evaluated(cycle(settings, moved))


def test_a_changed_pack_evaluates_every_engagement(settled, moved, monkeypatch):
    _, settings = settled
    monkeypatch.setattr(engine.incremental, "_files", lambda playbook: ["a file changed"])
    assert every_engagement_evaluated(cycle(settings, moved))


def test_a_lost_record_cache_evaluates_every_engagement(settled, moved):
    _, settings = settled
    for path in settings.state.dir.glob(CACHE_NAME + "*"):
        path.unlink()
    assert every_engagement_evaluated(cycle(settings, moved))


def test_a_run_that_never_finished_makes_the_next_cycle_evaluate_every_engagement(settled, moved):
    _, settings = settled
    with Journal.open(settings.state.dir) as journal:
        journal.start_run()  # killed before it finished
    assert every_engagement_evaluated(cycle(settings, moved))


def test_a_full_evaluation_comes_every_full_evaluation_hours_however_quiet(settled, moved):
    _, settings = settled
    settings = settings.model_copy(update={"state": settings.state.model_copy(
        update={"full_evaluation_hours": 0.5, "full_resync_hours": 1000})})
    assert cycle(settings, moved).plan.evaluated == []
    assert every_engagement_evaluated(cycle(settings, moved, 30))


def test_a_forgotten_engagement_memory_evaluates_that_engagement(settled, moved):
    _, settings = settled
    with Journal.open(settings.state.dir) as journal:
        journal.forget_engagement("ENG-ACME")
    assert "ENG-ACME" in cycle(settings, moved).plan.evaluated


def test_a_quiet_cycle_asks_for_no_assignee_and_a_new_assignee_is_named_next_cycle(settled, moved):
    sb, settings = settled
    sb.reset_requests()
    cycle(settings, moved)
    assert sb.requests[("GET", "sys_user")] == 0
    person = sb.store.insert("sys_user", {"user_name": "new.person", "name": "New Person"})
    ticket = sb.store.query(TICKETS, "correlation_id=ENG-ACME")[0]
    sb.store.update(TICKETS, ticket["sys_id"], {"assigned_to": person["sys_id"]}, user="dana.coordinator")
    cycle(settings, moved)
    with RecordCache.open(settings.state.dir) as cache:
        assert person["sys_id"] in cache.sys_ids("sys_user")


def _move_bp_date(sb, key: str) -> None:
    """A person moves the BP date of one ticket a day later; the worker carries it to the others."""
    [ticket] = sb.store.query(TICKETS, f"correlation_id={key}^u_etiu_code=ETIU01")
    text = ticket["short_description"]
    bp = text.split("BP: ", 1)[1][:10]
    later = (datetime.fromisoformat(bp) + timedelta(days=1)).date().isoformat()
    sb.store.update(TICKETS, ticket["sys_id"], {"short_description": text.replace(f"BP: {bp}", f"BP: {later}", 1)},
                    user="dana.coordinator")


def _writes(writes) -> list[tuple]:
    return sorted((w.table, w.sys_id, tuple(sorted(w.fields.items())), w.note_ref, w.kind, w.engagement) for w in writes)
