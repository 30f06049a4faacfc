"""The worker's local state: journal, notes, flags, engagement memory, watermarks, runs."""

from __future__ import annotations

import os
import select
import signal
import sqlite3
import stat
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from etiu_worker.actions import KINDS
from etiu_worker.state import journal as journal_module
from etiu_worker.report.changes import format_entries
from etiu_worker.errors import EtiuError
from etiu_worker.state.journal import (
    DATABASE_NAME,
    ENTRY_COLUMNS,
    MAX_VALUE_CHARS,
    ActionRecord,
    Journal,
)

REPO_ROOT = Path(__file__).resolve().parents[1]
START = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)


class Clock:
    """Stands in for ``journal.now``: time moves only when the test says so."""

    def __init__(self, start: datetime) -> None:
        self.current = start

    def __call__(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> None:
        self.current += timedelta(**delta)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock(START)
    monkeypatch.setattr(journal_module, "now", fake)
    return fake


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    return tmp_path / "state"


@pytest.fixture
def journal(state_dir: Path, clock: Clock):
    with Journal.open(state_dir, action_kinds=KINDS) as opened:
        yield opened


def action(**overrides: object) -> ActionRecord:
    fields: dict[str, object] = {
        "run_id": "run1",
        "rule": "close_validation",
        "engagement": "ENG-1",
        "table": "u_etiu_ticket",
        "sys_id": "a" * 32,
        "number": "ETIU0001003",
        "target": "ETIU03",
        "kind": "set_state",
        "before": {"state": "1"},
        "after": {"state": "3"},
    }
    fields.update(overrides)
    return ActionRecord(**fields)  # type: ignore[arg-type]


# --- the file ----------------------------------------------------------------------------------


def test_open_creates_a_private_folder_and_database(state_dir: Path, clock: Clock) -> None:
    with Journal.open(state_dir) as journal:
        journal.record_action(action())
        wal = state_dir / f"{DATABASE_NAME}-wal"
        assert stat.S_IMODE(wal.stat().st_mode) == 0o600
    assert stat.S_IMODE(state_dir.stat().st_mode) == 0o700
    assert stat.S_IMODE((state_dir / DATABASE_NAME).stat().st_mode) == 0o600


def test_database_is_private_whatever_the_umask(state_dir: Path, clock: Clock) -> None:
    previous = os.umask(0)
    try:
        Journal.open(state_dir).close()
    finally:
        os.umask(previous)
    assert stat.S_IMODE(state_dir.stat().st_mode) == 0o700
    assert stat.S_IMODE((state_dir / DATABASE_NAME).stat().st_mode) == 0o600


def test_reopening_keeps_what_was_stored(state_dir: Path, clock: Clock) -> None:
    with Journal.open(state_dir) as journal:
        journal.save_engagement_state("ENG-1", {"remembered": "2024-05-01 11:00:00"})
    with Journal.open(state_dir) as journal:
        assert journal.engagement_state("ENG-1") == {"remembered": "2024-05-01 11:00:00"}


def test_database_from_a_newer_worker_is_refused(state_dir: Path, clock: Clock) -> None:
    Journal.open(state_dir).close()
    with sqlite3.connect(state_dir / DATABASE_NAME) as db:
        db.execute(f"PRAGMA user_version = {journal_module.SCHEMA_VERSION + 1}")
    with pytest.raises(EtiuError, match="newer than this etiu-worker"):
        Journal.open(state_dir)


def test_a_file_that_is_not_a_database_is_reported_with_its_path(state_dir: Path) -> None:
    state_dir.mkdir()
    (state_dir / DATABASE_NAME).write_bytes(b"this is not SQLite" * 100)
    with pytest.raises(EtiuError, match=DATABASE_NAME):
        Journal.open(state_dir)


def test_a_journal_of_schema_version_1_keeps_its_history_and_loses_the_unused_watermarks(state_dir: Path, clock: Clock) -> None:
    from etiu_worker.state.journal_schema import MIGRATIONS

    state_dir.mkdir()
    with sqlite3.connect(state_dir / DATABASE_NAME) as db:
        for statement in MIGRATIONS[0]:
            db.execute(statement)
        db.execute("INSERT INTO runs (id, started_at) VALUES ('old00001', '2024-05-01T12:00:00.000000+00:00')")
        db.execute("INSERT INTO watermarks VALUES ('change_request', 'x', 'y')")
        db.execute("PRAGMA user_version = 1")
    db.close()

    with Journal.open(state_dir) as journal:
        assert [run.id for run in journal.runs()] == ["old00001"]
    with sqlite3.connect(state_dir / DATABASE_NAME) as db:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    db.close()
    assert "watermarks" not in tables and {"runs", "actions", "meta"} <= tables


def test_metadata_is_set_replaced_and_removed_in_one_step(journal: Journal) -> None:
    journal.set_metadata({"instance_url": "https://a.example", "instance_name": "a"})
    journal.set_metadata({"instance_url": "https://b.example", "instance_name": None})
    assert journal.metadata() == {"instance_url": "https://b.example"}


def test_forgetting_the_instance_keeps_the_history_and_closes_its_flags(journal: Journal) -> None:
    done = journal.record_action(action())
    journal.finish_action(done, "done")
    journal.save_engagement_state("ENG-1", {"created": {"SUPPORT_WEEK": "a" * 32}})
    flag(journal, "end-before-start")

    journal.forget_the_instance()

    assert [entry.id for entry in journal.entries()] == [done]
    assert journal.all_engagement_states() == {}
    assert journal.open_flags() == []


def test_reading_a_folder_without_a_journal_is_refused_and_creates_nothing(state_dir: Path) -> None:
    with pytest.raises(EtiuError, match="holds no journal"):
        Journal.open_read_only(state_dir)
    assert not state_dir.exists()


def test_a_read_only_journal_reads_what_a_running_writer_committed(state_dir: Path, journal: Journal) -> None:
    journal.record_action(action(number="SEEN"))
    with Journal.open_read_only(state_dir) as reader:
        assert [entry.number for entry in reader.entries()] == ["SEEN"]
        with pytest.raises(EtiuError, match="cannot be used"):
            reader.record_action(action())


# --- actions -----------------------------------------------------------------------------------


def test_recorded_action_reads_back_with_every_field(journal: Journal) -> None:
    action_id = journal.record_action(action(run_id="r1", note_key=""))
    [entry] = journal.entries()
    assert entry.id == action_id
    assert entry.time == START
    assert (entry.run_id, entry.rule, entry.engagement) == ("r1", "close_validation", "ENG-1")
    assert (entry.table, entry.sys_id, entry.number, entry.target) == (
        "u_etiu_ticket", "a" * 32, "ETIU0001003", "ETIU03",
    )
    assert (entry.kind, entry.before, entry.after) == ("set_state", {"state": "1"}, {"state": "3"})
    assert (entry.outcome, entry.verification, entry.error) == ("pending", "", "")


def test_finished_action_keeps_outcome_verification_and_values_read_back(journal: Journal) -> None:
    action_id = journal.record_action(action())
    journal.finish_action(action_id, "unverified", "not verified: state is 2", after={"state": "2"})
    [entry] = journal.entries()
    assert entry.outcome == "unverified"
    assert entry.verification == "not verified: state is 2"
    assert entry.after == {"state": "2"}


def test_failed_action_keeps_its_error(journal: Journal) -> None:
    action_id = journal.record_action(action())
    journal.finish_action(action_id, "failed", error="HTTP 403: ACL refused")
    [entry] = journal.entries()
    assert (entry.outcome, entry.error, entry.after) == ("failed", "HTTP 403: ACL refused", {"state": "3"})


def test_created_ticket_learns_its_sys_id_and_number_when_finished(journal: Journal) -> None:
    action_id = journal.record_action(action(kind="create_ticket", sys_id="", number=""))
    journal.finish_action(action_id, "done", "verified", sys_id="b" * 32, number="ETIU0001004")
    [entry] = journal.entries()
    assert (entry.sys_id, entry.number) == ("b" * 32, "ETIU0001004")


def test_an_action_can_be_finished_only_once(journal: Journal) -> None:
    action_id = journal.record_action(action())
    journal.finish_action(action_id, "done", "verified")
    with pytest.raises(ValueError, match="not pending"):
        journal.finish_action(action_id, "failed", error="again")
    assert journal.entries()[0].outcome == "done"


@pytest.mark.parametrize("outcome", ["pending", "planned", "ok"])
def test_finishing_needs_a_final_outcome(journal: Journal, outcome: str) -> None:
    action_id = journal.record_action(action())
    with pytest.raises(ValueError, match="done, failed or unverified"):
        journal.finish_action(action_id, outcome)


def test_finishing_an_unknown_action_is_an_error(journal: Journal) -> None:
    with pytest.raises(ValueError, match="no action 42"):
        journal.finish_action(42, "done")


def test_dry_run_actions_are_recorded_as_planned(journal: Journal) -> None:
    journal.record_action(action(outcome="planned"))
    assert [entry.outcome for entry in journal.entries()] == ["planned"]
    assert journal.pending_actions() == []


def test_unknown_action_kind_or_outcome_is_refused(journal: Journal) -> None:
    with pytest.raises(ValueError, match="unknown action kind"):
        journal.record_action(action(kind="delete"))
    with pytest.raises(ValueError, match="pending or planned"):
        journal.record_action(action(outcome="done"))
    assert journal.entries() == []


def test_pending_action_is_visible_after_a_crash(state_dir: Path, clock: Clock) -> None:
    journal = Journal.open(state_dir)
    finished = journal.record_action(action(number="CHG0030001"))
    journal.finish_action(finished, "done", "verified")
    unknown = journal.record_action(action(number="ETIU0001003"))
    journal.close()  # the process dies before the write's outcome is known

    with Journal.open(state_dir) as reopened:
        pending = reopened.pending_actions()
    assert [(entry.id, entry.number) for entry in pending] == [(unknown, "ETIU0001003")]


def test_pending_actions_come_oldest_first(journal: Journal, clock: Clock) -> None:
    first = journal.record_action(action())
    clock.advance(seconds=1)
    second = journal.record_action(action())
    assert [entry.id for entry in journal.pending_actions()] == [first, second]


# --- listing -----------------------------------------------------------------------------------


def test_entries_are_newest_first(journal: Journal, clock: Clock) -> None:
    for number in ("ETIU0001001", "ETIU0001002", "ETIU0001003"):
        journal.record_action(action(number=number))
        clock.advance(minutes=1)
    assert [entry.number for entry in journal.entries()] == ["ETIU0001003", "ETIU0001002", "ETIU0001001"]


def test_entries_recorded_in_the_same_instant_keep_their_order(journal: Journal) -> None:
    first = journal.record_action(action())
    second = journal.record_action(action())
    assert [entry.id for entry in journal.entries()] == [second, first]


def test_entries_filter_by_engagement_rule_outcome_and_run(journal: Journal) -> None:
    journal.record_action(action(engagement="ENG-1", rule="kickoff", run_id="r1"))
    journal.record_action(action(engagement="ENG-2", rule="kickoff", run_id="r1"))
    done = journal.record_action(action(engagement="ENG-2", rule="validation", run_id="r2"))
    journal.finish_action(done, "done", "verified")

    def numbers(**filters: str) -> list[tuple[str, str]]:
        return [(entry.engagement, entry.rule) for entry in journal.entries(**filters)]

    assert numbers(engagement="ENG-2") == [("ENG-2", "validation"), ("ENG-2", "kickoff")]
    assert numbers(rule="kickoff") == [("ENG-2", "kickoff"), ("ENG-1", "kickoff")]
    assert numbers(outcome="done") == [("ENG-2", "validation")]
    assert numbers(run_id="r1") == [("ENG-2", "kickoff"), ("ENG-1", "kickoff")]
    assert numbers(engagement="ENG-2", rule="kickoff") == [("ENG-2", "kickoff")]
    assert numbers(engagement="ENG-9") == []


def test_entries_filter_by_time_from_since_up_to_until(journal: Journal, clock: Clock) -> None:
    for hour in range(4):
        journal.record_action(action(number=f"CHG{hour}"))
        clock.advance(hours=1)
    since, until = START + timedelta(hours=1), START + timedelta(hours=3)
    assert [entry.number for entry in journal.entries(since=since)] == ["CHG3", "CHG2", "CHG1"]
    assert [entry.number for entry in journal.entries(until=until)] == ["CHG2", "CHG1", "CHG0"]
    assert [entry.number for entry in journal.entries(since=since, until=until)] == ["CHG2", "CHG1"]


def test_time_filters_accept_any_time_zone(journal: Journal) -> None:
    journal.record_action(action())
    new_york = timezone(timedelta(hours=-4))
    assert len(journal.entries(since=datetime(2024, 5, 1, 8, 0, tzinfo=new_york))) == 1
    assert journal.entries(since=datetime(2024, 5, 1, 8, 1, tzinfo=new_york)) == []


def test_times_without_a_zone_are_refused(journal: Journal) -> None:
    with pytest.raises(ValueError, match="no time zone"):
        journal.entries(since=datetime(2024, 5, 1))


def test_entries_limit_keeps_the_newest(journal: Journal, clock: Clock) -> None:
    for number in ("A", "B", "C"):
        journal.record_action(action(number=number))
        clock.advance(seconds=1)
    assert [entry.number for entry in journal.entries(limit=2)] == ["C", "B"]


def test_format_entries_gives_one_printable_row_per_entry(journal: Journal) -> None:
    done = journal.record_action(action(number="CHG0030001", target="change request", kind="set_state",
                                        before={"state": "-2"}, after={"state": "-1"}))
    journal.finish_action(done, "done", "verified")
    note = {"work_notes": "Kickoff\nbooked"}
    failed = journal.record_action(action(kind="work_note", before={}, after=note))
    journal.finish_action(failed, "failed", error="HTTP 403: ACL")

    rows = format_entries(journal.entries())
    assert all(len(row) == len(ENTRY_COLUMNS) for row in rows)
    assert rows[1] == (
        "2024-05-01 12:00:00Z", "run1", "close_validation", "ENG-1", "change request",
        "CHG0030001", "set_state", "state: -2 → -1", "done", "verified",
    )
    assert rows[0][7] == "work_notes: — → Kickoff booked"
    assert rows[0][8:] == ("failed", "HTTP 403: ACL")


# --- safety ------------------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["password", "client_secret", "u_api_token", "Authorization"])
def test_credential_looking_fields_are_refused(journal: Journal, field: str) -> None:
    with pytest.raises(ValueError, match="looks like a credential"):
        journal.record_action(action(after={field: "hunter2"}))
    with pytest.raises(ValueError, match="looks like a credential"):
        journal.record_action(action(before={field: "hunter2"}))
    assert journal.entries() == []


def test_credential_looking_fields_are_refused_when_finishing(journal: Journal) -> None:
    action_id = journal.record_action(action())
    with pytest.raises(ValueError, match="looks like a credential"):
        journal.finish_action(action_id, "done", after={"x_password": "hunter2"})
    assert journal.entries()[0].outcome == "pending"


def test_long_values_are_cut_at_4000_characters(journal: Journal) -> None:
    long_note = "x" * 10_000
    journal.record_action(action(kind="work_note", before={}, after={"work_notes": long_note},
                                 error="e" * 5000))
    [entry] = journal.entries()
    assert len(entry.after["work_notes"]) == MAX_VALUE_CHARS
    assert entry.after["work_notes"].endswith("…")
    assert len(entry.error) == MAX_VALUE_CHARS


def test_values_must_be_strings(journal: Journal) -> None:
    with pytest.raises(TypeError, match="strings"):
        journal.record_action(action(after={"state": 3}))


# --- notes -------------------------------------------------------------------------------------


def test_note_is_remembered_across_reopen(state_dir: Path, clock: Clock) -> None:
    with Journal.open(state_dir) as journal:
        assert not journal.note_posted("a" * 32, "kickoff-booked")
        journal.remember_note("a" * 32, "kickoff-booked", "r1")
    with Journal.open(state_dir) as journal:
        assert journal.note_posted("a" * 32, "kickoff-booked")
        assert not journal.note_posted("b" * 32, "kickoff-booked")
        assert not journal.note_posted("a" * 32, "dates-mismatch")


def test_remembering_a_note_twice_is_harmless(journal: Journal) -> None:
    journal.remember_note("a" * 32, "kickoff-booked", "r1")
    journal.remember_note("a" * 32, "kickoff-booked", "r2")
    assert journal.note_posted("a" * 32, "kickoff-booked")


@pytest.mark.parametrize(("outcome", "posted"), [("done", True), ("unverified", True), ("failed", False)])
def test_finishing_a_note_action_remembers_the_note_unless_it_failed(
    journal: Journal, outcome: str, posted: bool
) -> None:
    action_id = journal.record_action(action(kind="work_note", note_key="kickoff-booked"))
    journal.finish_action(action_id, outcome)
    assert journal.note_posted("a" * 32, "kickoff-booked") is posted


# --- flags -------------------------------------------------------------------------------------


def flag(journal: Journal, key: str, engagement: str = "ENG-1", rule: str = "dates") -> bool:
    return journal.open_flag(engagement, rule, key, "change_request", "c" * 32, "CHG0030001",
                             f"problem {key}")


def test_a_flag_is_opened_once_per_problem(journal: Journal) -> None:
    assert flag(journal, "end-before-start") is True
    assert flag(journal, "end-before-start") is False
    assert flag(journal, "no-timezone") is True
    assert [f.key for f in journal.open_flags()] == ["end-before-start", "no-timezone"]


def test_flags_no_longer_seen_are_resolved_with_a_time(journal: Journal, clock: Clock) -> None:
    flag(journal, "end-before-start")
    flag(journal, "no-timezone")
    clock.advance(hours=2)
    resolved = journal.resolve_flags("ENG-1", "dates", {"no-timezone"})
    assert [(f.key, f.resolved_at) for f in resolved] == [("end-before-start", START + timedelta(hours=2))]
    assert [f.key for f in journal.open_flags()] == ["no-timezone"]


def test_resolving_leaves_other_engagements_and_rules_alone(journal: Journal) -> None:
    flag(journal, "k", engagement="ENG-1", rule="dates")
    flag(journal, "k", engagement="ENG-2", rule="dates")
    flag(journal, "k", engagement="ENG-1", rule="ctasks")
    assert len(journal.resolve_flags("ENG-1", "dates", set())) == 1
    assert {(f.engagement, f.rule) for f in journal.open_flags()} == {("ENG-2", "dates"), ("ENG-1", "ctasks")}


def test_many_engagements_and_rules_resolve_at_once_as_one_by_one(journal: Journal) -> None:
    flag(journal, "a", engagement="ENG-1", rule="dates")
    flag(journal, "b", engagement="ENG-1", rule="dates")
    flag(journal, "k", engagement="ENG-2", rule="dates")
    flag(journal, "k", engagement="ENG-1", rule="ctasks")
    resolved = journal.resolve_flags_of({("ENG-1", "dates"): {"b"}, ("ENG-2", "dates"): set()})
    assert sorted((f.engagement, f.key) for f in resolved) == [("ENG-1", "a"), ("ENG-2", "k")]
    assert {(f.engagement, f.rule, f.key) for f in journal.open_flags()} == {("ENG-1", "dates", "b"), ("ENG-1", "ctasks", "k")}


def test_resolving_flags_of_more_engagements_than_one_query_takes_resolves_each(journal: Journal) -> None:
    with journal.batch():
        for number in range(1200):
            flag(journal, "k", engagement=f"ENG-{number}", rule="dates")
    resolved = journal.resolve_flags_of({(f"ENG-{number}", "dates"): set() for number in range(1, 1200)})
    assert len(resolved) == 1199
    assert [(f.engagement, f.key) for f in journal.open_flags()] == [("ENG-0", "k")]
    assert journal.resolve_flags_of({}) == []


def test_a_batch_stores_every_step_or_none(state_dir: Path, journal: Journal) -> None:
    with pytest.raises(KeyError):
        with journal.batch():
            flag(journal, "end-before-start")
            journal.save_engagement_state("ENG-1", {"seen": True})
            raise KeyError("stopped")
    assert journal.open_flags() == [] and journal.engagement_state("ENG-1") == {}
    with journal.batch():
        flag(journal, "end-before-start")
        journal.save_engagement_state("ENG-1", {"seen": True})
    with Journal.open_read_only(state_dir) as reader:
        assert len(reader.open_flags()) == 1 and reader.engagement_state("ENG-1") == {"seen": True}


def test_a_batch_refuses_to_record_pending_actions_that_it_would_commit_only_at_its_end(journal: Journal) -> None:
    with pytest.raises(RuntimeError, match="committed before"):
        with journal.batch():
            journal.record_action(action())
    assert journal.pending_actions() == []


def test_a_resolved_problem_that_comes_back_is_flagged_again(journal: Journal) -> None:
    flag(journal, "end-before-start")
    journal.resolve_flags("ENG-1", "dates", set())
    assert flag(journal, "end-before-start") is True
    assert len(journal.open_flags()) == 1


def test_open_flags_can_be_listed_for_one_engagement(journal: Journal) -> None:
    flag(journal, "k1", engagement="ENG-1")
    flag(journal, "k2", engagement="ENG-2")
    [only] = journal.open_flags("ENG-2")
    assert (only.key, only.number, only.message, only.opened_at) == ("k2", "CHG0030001", "problem k2", START)
    assert only.resolved_at is None


# --- engagement memory -------------------------------------------------------------------------


def test_engagement_state_round_trips_across_reopen(state_dir: Path, clock: Clock) -> None:
    state = {"last_state": "-2", "seen": ["ETIU01", "ETIU02"], "counts": {"ctasks": 4}}
    with Journal.open(state_dir) as journal:
        assert journal.engagement_state("ENG-1") == {}
        journal.save_engagement_state("ENG-1", state)
    with Journal.open(state_dir) as journal:
        assert journal.engagement_state("ENG-1") == state


def test_saving_engagement_state_replaces_it(journal: Journal) -> None:
    journal.save_engagement_state("ENG-1", {"a": 1})
    journal.save_engagement_state("ENG-1", {"b": 2})
    assert journal.engagement_state("ENG-1") == {"b": 2}


def test_all_engagement_states_load_at_once(journal: Journal) -> None:
    journal.save_engagement_states({f"ENG-{n}": {"n": n} for n in range(5000)})
    states = journal.all_engagement_states()
    assert len(states) == 5000
    assert states["ENG-4999"] == {"n": 4999}


def test_a_forgotten_engagement_has_no_state(journal: Journal) -> None:
    journal.save_engagement_state("ENG-1", {"a": 1})
    journal.save_engagement_state("ENG-2", {"a": 2})
    journal.forget_engagement("ENG-1")
    assert journal.all_engagement_states() == {"ENG-2": {"a": 2}}


def test_engagement_state_must_be_json(journal: Journal) -> None:
    with pytest.raises(TypeError):
        journal.save_engagement_state("ENG-1", {"when": datetime.now()})


# --- runs --------------------------------------------------------------------------------------


def test_runs_get_unique_ids_and_are_listed_newest_first(journal: Journal, clock: Clock) -> None:
    first = journal.start_run()
    journal.finish_run(first, "ok", {"done": 3, "failed": 0})
    clock.advance(minutes=5)
    second = journal.start_run()  # still running, or crashed
    assert first != second and len(first) == 8

    newest, oldest = journal.runs(limit=10)
    assert (newest.id, newest.outcome, newest.finished_at) == (second, None, None)
    assert (oldest.id, oldest.outcome, oldest.counts) == (first, "ok", {"done": 3, "failed": 0})
    assert (oldest.started_at, oldest.finished_at) == (START, START)
    assert [run.id for run in journal.runs(limit=1)] == [second]


def test_finishing_an_unknown_run_is_an_error(journal: Journal) -> None:
    with pytest.raises(ValueError, match="no run"):
        journal.finish_run("nope", "ok", {})


# --- retention ---------------------------------------------------------------------------------


def test_prune_deletes_old_history_but_keeps_open_flags_and_memory(journal: Journal, clock: Clock) -> None:
    old_run = journal.start_run()
    old_done = journal.record_action(action(run_id=old_run, number="OLD-DONE"))
    journal.finish_action(old_done, "done", "verified")
    old_pending = journal.record_action(action(run_id=old_run, number="OLD-PENDING"))
    flag(journal, "still-open")
    flag(journal, "fixed")
    journal.resolve_flags("ENG-1", "dates", {"still-open"})
    journal.remember_note("a" * 32, "kickoff-booked", old_run)
    journal.save_engagement_state("ENG-1", {"a": 1})

    clock.advance(days=100)
    new_run = journal.start_run()
    journal.record_action(action(run_id=new_run, number="NEW"))

    deleted = journal.prune(retention_days=30, now=clock())

    assert deleted == {"actions": 1, "flags": 1, "runs": 1}
    assert [entry.number for entry in journal.entries()] == ["NEW", "OLD-PENDING"]
    assert [entry.id for entry in journal.pending_actions()][0] == old_pending
    assert [f.key for f in journal.open_flags()] == ["still-open"]
    assert [run.id for run in journal.runs()] == [new_run]
    assert journal.note_posted("a" * 32, "kickoff-booked")
    assert journal.engagement_state("ENG-1") == {"a": 1}


def test_prune_uses_the_clock_when_not_given_a_time(journal: Journal, clock: Clock) -> None:
    done = journal.record_action(action())
    journal.finish_action(done, "done")
    clock.advance(days=10)
    assert journal.prune(retention_days=11)["actions"] == 0
    clock.advance(days=2)
    assert journal.prune(retention_days=11)["actions"] == 1


# --- concurrent access -------------------------------------------------------------------------


def test_a_reader_is_not_locked_out_by_a_writer(state_dir: Path, journal: Journal) -> None:
    journal.save_engagement_state("ENG-1", {"value": "old"})
    writer = sqlite3.connect(state_dir / DATABASE_NAME, isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("""UPDATE engagement_state SET state = '{"value": "uncommitted"}'""")
        with Journal.open(state_dir) as reader:  # a `journal` listing while the worker runs
            assert reader.engagement_state("ENG-1") == {"value": "old"}
            assert reader.entries() == []
    finally:
        writer.close()


def test_a_writer_waits_for_a_lock_held_elsewhere(state_dir: Path, journal: Journal) -> None:
    holder = sqlite3.connect(state_dir / DATABASE_NAME, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    waiting, finished = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def write_from_another_connection() -> None:
        try:
            with Journal.open(state_dir) as other:
                # Tells the test the other writer has reached the lock (the statement's start).
                other._db.set_trace_callback(lambda sql: waiting.set() if sql == "BEGIN IMMEDIATE" else None)
                other.save_engagement_state("ENG-1", {"value": "from the other writer"})
        except BaseException as exc:  # reported to the test thread below
            errors.append(exc)
        finished.set()

    thread = threading.Thread(target=write_from_another_connection)
    thread.start()
    assert waiting.wait(timeout=30)
    assert not finished.is_set()  # it cannot get past the lock we hold
    holder.execute("COMMIT")
    holder.close()
    thread.join(timeout=30)
    assert errors == []
    assert journal.engagement_state("ENG-1") == {"value": "from the other writer"}


# --- crashes -----------------------------------------------------------------------------------

# The child writes the way a cycle does and reports each completed step on stdout.
_LOOP_CHILD = r"""
import sys
from pathlib import Path
from etiu_worker.state.journal import ActionRecord, Journal

journal = Journal.open(Path(sys.argv[1]))
for i in range(int(sys.argv[2])):
    action_id = journal.record_action(ActionRecord(
        run_id="crash", rule="r", engagement=f"ENG-{i % 50}", table="u_etiu_ticket",
        sys_id=f"{i:032x}", number=f"ETIU{i:07d}", target="ETIU03", kind="work_note",
        before={}, after={"work_notes": "x" * 500, "step": str(i)}, note_key=f"note-{i}"))
    journal.finish_action(action_id, "done", "verified")
    journal.save_engagement_state(f"ENG-{i % 50}", {"step": i, "pad": "y" * 300})
    print(i, flush=True)
"""

# The child commits a first batch, then stops inside the COMMIT of a second, much larger one
# whose pages (with a tiny cache) have already spilled into the WAL, and waits to be killed.
_MID_TRANSACTION_CHILD = r"""
import sys
from pathlib import Path
from etiu_worker.state.journal import Journal

journal = Journal.open(Path(sys.argv[1]))
journal.save_engagement_states({f"ENG-{n}": {"batch": 1} for n in range(20)})
journal._db.execute("PRAGMA cache_size = 10")

def stop_before_commit(sql):
    if sql == "COMMIT":
        print("in-transaction", flush=True)
        sys.stdin.readline()  # blocks until the parent kills us

journal._db.set_trace_callback(stop_before_commit)
journal.save_engagement_states({f"ENG-{n}": {"batch": 2, "pad": "z" * 3000} for n in range(2000)})
print("committed", flush=True)
"""


def start_child(script: str, *args: str) -> subprocess.Popen[bytes]:
    environment = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    return subprocess.Popen(
        [sys.executable, "-c", script, *args],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        bufsize=0, env=environment,
    )


def read_line(child: subprocess.Popen[bytes], timeout: float = 60.0) -> str:
    """One line from the child, failing the test (never hanging) if none comes."""
    assert child.stdout is not None
    deadline = time.monotonic() + timeout
    line = b""
    while not line.endswith(b"\n"):
        ready, _, _ = select.select([child.stdout], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            child.kill()
            pytest.fail("the child process said nothing in time")
        byte = os.read(child.stdout.fileno(), 1)
        if not byte:
            child.wait()
            assert child.stderr is not None
            pytest.fail(f"the child process exited early: {child.stderr.read().decode()}")
        line += byte
    return line.decode().strip()


def kill(child: subprocess.Popen[bytes]) -> None:
    child.send_signal(signal.SIGKILL)
    assert child.wait(timeout=30) == -signal.SIGKILL
    for stream in (child.stdin, child.stdout, child.stderr):
        stream.close()  # type: ignore[union-attr]


def assert_database_is_sound(state_dir: Path) -> None:
    with sqlite3.connect(state_dir / DATABASE_NAME) as db:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]


def test_a_kill_while_writing_leaves_every_completed_step_and_no_torn_row(state_dir: Path) -> None:
    acknowledged_steps = 60
    child = start_child(_LOOP_CHILD, str(state_dir), "100000")
    for step in range(acknowledged_steps):
        assert read_line(child) == str(step)
    kill(child)  # it is somewhere in its next steps by now

    assert_database_is_sound(state_dir)
    with Journal.open(state_dir) as journal:
        entries = journal.entries()
        states = journal.all_engagement_states()
        pending = journal.pending_actions()
        posted = [journal.note_posted(f"{i:032x}", f"note-{i}") for i in range(acknowledged_steps)]

    assert len(entries) >= acknowledged_steps
    for entry in entries:
        assert entry.after["work_notes"] == "x" * 500
        assert entry.number == f"ETIU{int(entry.after['step']):07d}"
        assert entry.outcome in ("done", "pending")
        assert entry.verification == ("verified" if entry.outcome == "done" else "")
    # Only the step cut short can be pending, and it is the last one recorded.
    assert len(pending) <= 1 and all(entry.id == entries[0].id for entry in pending)
    assert all(posted)
    assert all(set(state) == {"step", "pad"} for state in states.values())
    assert len(states) == 50


def test_a_kill_inside_a_transaction_leaves_none_of_it(state_dir: Path) -> None:
    child = start_child(_MID_TRANSACTION_CHILD, str(state_dir))
    assert read_line(child) == "in-transaction"
    wal = state_dir / f"{DATABASE_NAME}-wal"
    assert wal.stat().st_size > 1_000_000  # the uncommitted batch really reached the disk
    kill(child)

    assert_database_is_sound(state_dir)
    with Journal.open(state_dir) as journal:
        assert journal.all_engagement_states() == {f"ENG-{n}": {"batch": 1} for n in range(20)}


def test_the_database_stays_sound_after_a_kill_and_a_new_run_can_write(state_dir: Path, clock: Clock) -> None:
    child = start_child(_MID_TRANSACTION_CHILD, str(state_dir))
    assert read_line(child) == "in-transaction"
    kill(child)
    with Journal.open(state_dir) as journal:
        journal.save_engagement_state("ENG-0", {"batch": 3})
    assert_database_is_sound(state_dir)
    with Journal.open(state_dir) as journal:
        assert journal.engagement_state("ENG-0") == {"batch": 3}
        assert journal.engagement_state("ENG-1") == {"batch": 1}
