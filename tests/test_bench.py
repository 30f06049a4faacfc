"""Smoke test of the benchmark (``bench/``): 20 engagements, no latency.

It asserts the targets that hold whatever N, on request counts only: never a time, which would
depend on the machine.
"""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # bench/ is a folder of the repository, not an installed package
    sys.path.insert(0, str(REPO))

from bench import run as bench  # noqa: E402
from bench import seed  # noqa: E402

N = 20
PAGE_SIZE = 1000


@pytest.fixture(scope="module")
def size():
    results = bench.run([N], latency=0.0, page_size=PAGE_SIZE, plan_repeats=1, log=lambda message: None)
    [result] = results.sizes
    result.results = results
    return result


def test_the_sandbox_holds_five_tickets_a_change_request_and_a_ctask_per_engagement(size):
    assert size.rows == {seed.TICKETS: 5 * N, seed.CHANGES: N, seed.CTASKS: N}
    assert size.cycles["cold"].data["engagements"] == N


def test_a_cycle_with_nothing_changed_lists_each_table_once_and_writes_nothing(size):
    cycle = size.cycles["unchanged"]
    assert cycle.server == {f"GET {table}": 1 for table in seed.TABLES}
    assert cycle.writes == 0 and cycle.data["writes"] == 0


def test_the_cold_cycle_reads_at_most_the_floor_plus_one_list_per_table(size):
    cold = size.cycles["cold"]
    for table in seed.TABLES:
        floor = math.ceil(size.rows[table] / PAGE_SIZE)
        assert cold.reads("sync", table) <= floor + 1, table
    assert cold.writes > 0  # the demo stories give the worker work on a cold cycle


@pytest.mark.parametrize("name", ["cold", "edited"])
def test_read_backs_cost_at_most_one_list_per_table_per_100_written_records(size, name):
    cycle = size.cycles[name]
    backs, allowance = cycle.read_backs(), cycle.read_back_allowance()
    assert backs, "the cycle wrote, so it read back"
    for table, count in backs.items():
        assert count <= allowance.get(table, 0), (table, backs, allowance)


def test_a_date_a_person_changed_is_carried_to_the_four_siblings(size):
    cycle = size.cycles["edited"]
    assert size.edited == 1
    assert cycle.server.get(f"PATCH {seed.TICKETS}") == 4 * size.edited
    assert cycle.writes == 4 * size.edited
    assert {table: cycle.reads("sync", table) for table in seed.TABLES} == {table: 1 for table in seed.TABLES}


def test_the_naive_baseline_sends_three_queries_per_engagement_and_one_list(size):
    assert size.naive.how == "measured"  # at N=20 it reads every engagement, at the run's latency
    assert size.naive.requests == size.naive.counted == 3 * N + 1


def test_the_report_prints_the_machine_the_date_the_command_and_passes_the_targets_that_hold_whatever_n(size):
    results = size.results
    text = bench.render(results)
    for heading in ("- machine:", "- date:", "- command:", "| target |", "naive pysnow"):
        assert heading in text
    at_n = [target for target in results.targets if target.n == N]
    assert len(at_n) == 5  # nothing changed, cold, two read-back targets, state lost
    assert all(target.ok for target in at_n), [target for target in at_n if not target.ok]
    assert all(target.ok is None for target in results.targets if target.n != N)  # 5,000 and 1,000 not run


def test_python_dash_m_bench_runs_from_the_repository():
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--sizes", "5", "--latency", "0", "--plan-repeats", "1"],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("# etiu-worker benchmark")
    assert "python -m bench --sizes 5 --latency 0 --plan-repeats 1" in done.stdout


def test_a_cycle_after_the_state_folder_was_lost_writes_nothing_again(size):
    lost = size.cycles["state lost"]
    assert lost.writes == 0, lost.server
    assert lost.reads("lookup") <= math.ceil(sum(size.rows.values()) / 100)
