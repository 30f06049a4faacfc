"""An edited cycle: when a person changed a few records since the last cycle, the worker decodes
and groups only the rows of the engagements those records belong to, and plans what a full
evaluation plans (cycle/edited.py); what it cannot follow exactly makes it group every row.

In-process cycles against the demo sandbox on a clock the test moves.
"""

from __future__ import annotations

import logging
import shutil
import sqlite3
from collections import Counter
from datetime import timedelta

import pytest

from etiu_worker.cycle import runner
from etiu_worker.sandbox import demo as demo_data
from etiu_worker.state.cache import RecordCache

from safety_helpers import FIXED_DAY, in_process_settings, seeded_sandbox
from test_quiet_cycle import TICKETS, _move_bp_date, _writes, cycle, settled  # noqa: F401 - fixtures

PERSON = "dana.coordinator"


@pytest.fixture
def decoded(monkeypatch):
    """The sys_ids of the cached rows decoded from now on, and how many whole tables were."""
    counted = {"rows": set(), "tables": Counter()}
    rows_in, records = RecordCache._rows_in, RecordCache.records

    def counting_rows(cache, table, column, values):
        found = rows_in(cache, table, column, values)
        counted["rows"] |= {row["sys_id"] for row in found}
        return found

    def counting_records(cache, table, *each_chunk):
        counted["tables"][table] += 1
        return records(cache, table, *each_chunk)

    monkeypatch.setattr(RecordCache, "_rows_in", counting_rows)
    monkeypatch.setattr(RecordCache, "records", counting_records)
    return counted


@pytest.fixture
def debug(caplog):
    caplog.set_level(logging.DEBUG, logger="etiu_worker.cycle.edited")
    return caplog


def full_plan(settings, tmp_path, moved) -> list[tuple]:
    """What a full evaluation plans now, from a copy of the state folder (left as it was)."""
    copy = tmp_path / "copy"
    shutil.copytree(settings.state.dir, copy)
    twin = settings.model_copy(update={"state": settings.state.model_copy(update={"dir": copy})})
    return _writes(runner.plan_once(twin).plan.writes)


def records_of(sb, key: str) -> set[str]:
    """The sys_ids of the engagement's tickets, change and change tasks on the instance."""
    tickets = sb.store.query(TICKETS, f"correlation_id={key}")
    changes = sb.store.query("change_request", f"correlation_id={key}")
    tasks = [task for change in changes for task in sb.store.query("change_task", f"change_request={change['sys_id']}")]
    return {record["sys_id"] for record in (*tickets, *changes, *tasks)}


def grouped_every_row(caplog) -> bool:
    return any("every cached row is grouped" in record.getMessage() for record in caplog.records)


def test_an_edit_to_one_record_decodes_only_its_engagements_rows_and_writes_what_a_full_evaluation_plans(
        settled, moved, decoded, debug, tmp_path):
    sb, settings = settled
    _move_bp_date(sb, "ENG-ACME")
    moved.at += timedelta(minutes=5)
    planned = full_plan(settings, tmp_path, moved)
    decoded["rows"].clear()
    decoded["tables"].clear()
    report = cycle(settings, moved, 0)
    assert report.plan.evaluated == ["ENG-ACME"]
    assert _writes(outcome.write for outcome in report.outcomes) == planned != []
    assert decoded["tables"] == Counter()
    assert decoded["rows"] and decoded["rows"] <= records_of(sb, "ENG-ACME")
    assert report.plan.total == len(demo_data.ENGAGEMENTS) and not grouped_every_row(debug)


def test_the_cycle_after_an_edited_one_writes_nothing_more(settled, moved):
    sb, settings = settled
    _move_bp_date(sb, "ENG-ACME")
    assert cycle(settings, moved).outcomes
    cycle(settings, moved)
    assert cycle(settings, moved).plan.writes == []


def test_a_record_moved_to_another_engagement_re_evaluates_both_from_every_row(settled, moved, debug, tmp_path):
    sb, settings = settled
    other = next(e.key for e in demo_data.ENGAGEMENTS if e.key != "ENG-ACME")
    ticket = sb.store.query(TICKETS, "correlation_id=ENG-ACME")[-1]
    sb.store.update(TICKETS, ticket["sys_id"], {"correlation_id": other}, user=PERSON)
    moved.at += timedelta(minutes=5)
    planned = full_plan(settings, tmp_path, moved)
    report = cycle(settings, moved, 0)
    assert {"ENG-ACME", other} <= set(report.plan.evaluated)
    assert _writes(outcome.write for outcome in report.outcomes) == planned
    assert grouped_every_row(debug)


def test_a_new_record_of_a_new_engagement_is_found_and_counted(settled, moved, debug):
    sb, settings = settled
    [ticket] = sb.store.query(TICKETS, "correlation_id=ENG-ACME^u_etiu_code=ETIU01")
    fields = {name: value for name, value in ticket.items() if not name.startswith("sys_") and name != "number"}
    sb.store.insert(TICKETS, {**fields, "correlation_id": "ENG-NEWCO"}, user=PERSON)
    report = cycle(settings, moved)
    assert "ENG-NEWCO" in report.plan.evaluated
    assert report.plan.total == len(demo_data.ENGAGEMENTS) + 1 and not grouped_every_row(debug)


def test_a_deleted_record_leaves_its_engagement_at_the_next_full_read(settled, moved):
    sb, settings = settled
    for sys_id in records_of(sb, "ENG-ACME"):
        for table in (TICKETS, "change_request", "change_task"):
            sb.store.delete(table, sys_id)
    assert cycle(settings, moved).plan.total == len(demo_data.ENGAGEMENTS)  # a delta read does not see a deletion
    report = cycle(settings, moved, settings.state.full_resync_hours * 60)
    assert report.plan.total == len(demo_data.ENGAGEMENTS) - 1
    assert "ENG-ACME" not in report.plan.evaluated and report.plan.evaluated



def indexes(settings) -> set[str]:
    with sqlite3.connect(settings.state.dir / "records.sqlite3") as db:
        return {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE name LIKE 'records_by_%'")}


def test_the_first_cycle_indexes_the_fields_an_edited_cycle_finds_rows_by(moved, tmp_path):
    sb = seeded_sandbox(FIXED_DAY)
    sb.store.now = moved
    settings = in_process_settings(sb, tmp_path / "state")
    try:
        cycle(settings, moved)
        made = indexes(settings)
        _move_bp_date(sb, "ENG-ACME")
        cycle(settings, moved)
    finally:
        sb.stop()
    assert len(made) >= 2  # the engagement key, and the change request its tasks point at
    assert indexes(settings) == made
