"""A damaged state file: the cache is rebuilt from the instance, the journal stops the worker with
exit 3 and what to do (never exit 70, never a traceback). Each case runs the real CLI against the
sandbox over loopback, on a state folder a first run filled.
"""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path

import pytest

from etiu_worker.state.cache import CACHE_NAME, CACHE_VERSION
from etiu_worker.state.journal import DATABASE_NAME, SCHEMA_VERSION, Journal
from etiu_worker.state.files import damage
from integration_helpers import (
    CYCLE_TABLES,
    describe,
    error_line,
    etiu,
    sandbox,  # noqa: F401 - a fixture
    state_dir,
    used_state,  # noqa: F401 - a fixture
    worker_env,
)

LOST_JOURNAL = (
    "the state folder has no journal; the instance is the authority, the worker will look up "
    "what it already did"
)


def empty(path: Path) -> None:
    path.write_bytes(b"")


def random_bytes(path: Path) -> None:
    path.write_bytes(random.Random(9).randbytes(8192))


def truncated_half(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def from_the_future(version: int):
    def write(path: Path) -> None:
        with sqlite3.connect(path) as db:
            db.execute(f"PRAGMA user_version = {version}")
        db.close()
    return write


@pytest.mark.parametrize(("damaging", "problem"), [
    (random_bytes, "(it is not an SQLite database)"),
    (truncated_half, "(it is truncated ("),
    (from_the_future(SCHEMA_VERSION + 1),
     f"has schema version {SCHEMA_VERSION + 1}, newer than this etiu-worker knows ({SCHEMA_VERSION})"),
], ids=["random bytes", "truncated half", "a future schema"])
@pytest.mark.parametrize("command", [["run", "--once"], ["plan"], ["journal"], ["report"]])
def test_a_damaged_journal_stops_with_exit_3_naming_the_file_and_how_to_move_it_aside(
        tmp_path, sandbox, used_state, damaging, problem, command):
    journal = state_dir(tmp_path) / DATABASE_NAME
    damaging(journal)
    before = journal.read_bytes()

    result = etiu(command, used_state)

    assert result.returncode == 3, describe(result)
    line = error_line(result)
    assert str(journal) in line and problem in line, line
    assert f"mv {journal} {journal}.broken" in line and "the instance is the authority" in line, line
    assert "Traceback" not in result.stderr
    assert sum(sandbox.requests.values()) == 0, "stopped before any request"
    assert journal.read_bytes() == before, "the damaged journal is left for the user to move"


def test_a_zero_length_journal_is_a_new_journal_and_says_so(tmp_path, sandbox, used_state):
    journal = state_dir(tmp_path) / DATABASE_NAME
    empty(journal)

    result = etiu(["run", "--once"], used_state)

    assert result.returncode == 0, describe(result)
    assert LOST_JOURNAL in result.stderr and "WARNING" in result.stderr
    with Journal.open(state_dir(tmp_path)) as reopened:
        assert len(reopened.runs()) == 1
        assert reopened.metadata()["instance_url"] == sandbox.url


def test_a_lost_journal_beside_a_cache_is_a_new_journal_and_says_so(tmp_path, used_state):
    (state_dir(tmp_path) / DATABASE_NAME).unlink()

    result = etiu(["run", "--once"], used_state)

    assert result.returncode == 0, describe(result)
    assert LOST_JOURNAL in result.stderr


def test_a_first_run_on_a_new_state_folder_warns_of_nothing(tmp_path, sandbox):
    result = etiu(["run", "--once"], worker_env(tmp_path, sandbox))

    assert result.returncode == 0, describe(result)
    assert "WARNING" not in result.stderr, result.stderr


@pytest.mark.parametrize(("damaging", "problem"), [
    (empty, "(it is empty)"),
    (random_bytes, "(it is not an SQLite database)"),
    (truncated_half, "(it is truncated ("),
    (from_the_future(CACHE_VERSION + 1), f"(it was written by a newer etiu-worker (version {CACHE_VERSION + 1}))"),
], ids=["zero-length", "random bytes", "truncated half", "a future version"])
def test_a_damaged_cache_is_deleted_and_every_record_read_again(tmp_path, sandbox, used_state, damaging, problem):
    cache = state_dir(tmp_path) / CACHE_NAME
    damaging(cache)

    result = etiu(["run", "--once"], used_state)

    assert result.returncode == 0, describe(result)
    warning = next(line for line in result.stderr.splitlines() if "record cache" in line)
    assert "WARNING" in warning and str(cache) in warning and problem in warning, warning
    assert "it is only a cache, this cycle reads every record again" in warning
    for table in CYCLE_TABLES:
        assert f"full read of {table}" in result.stderr
    assert damage(cache) is None
    with sqlite3.connect(cache) as db:
        # The cache also keeps the names of the consultants (sys_user) for the report.
        cached = {row[0] for row in db.execute("SELECT sys_id FROM records WHERE tbl != 'sys_user'")}
    assert cached == {row["sys_id"] for table in CYCLE_TABLES for row in sandbox.store.query(table)}


@pytest.mark.parametrize(("damaging", "problem"), [
    (random_bytes, "(it is not an SQLite database)"),
    (truncated_half, "(it is truncated ("),
], ids=["random bytes", "truncated half"])
def test_report_on_a_damaged_cache_says_to_run_once_to_rebuild_it(tmp_path, used_state, damaging, problem):
    cache = state_dir(tmp_path) / CACHE_NAME
    damaging(cache)

    result = etiu(["report"], used_state)

    assert result.returncode == 3, describe(result)
    line = error_line(result)
    assert str(cache) in line and problem in line and "run --once" in line, line


@pytest.mark.parametrize("command", [["run", "--once"], ["journal"]])
def test_a_journal_damaged_inside_its_pages_is_found_when_read_and_stops_with_exit_3(tmp_path, used_state, command):
    journal = state_dir(tmp_path) / DATABASE_NAME
    data = bytearray(journal.read_bytes())
    page_size = int.from_bytes(data[16:18], "big")
    # Page 1 (the header and the schema) intact, every table's pages garbage, the size unchanged.
    data[page_size:] = random.Random(3).randbytes(len(data) - page_size)
    journal.write_bytes(bytes(data))

    result = etiu(command, used_state)

    assert result.returncode == 3, describe(result)
    line = error_line(result)
    assert str(journal) in line and f"mv {journal} {journal}.broken" in line, line
    assert "Traceback" not in result.stderr
