"""Smoke test of the benchmark (``bench/``): a few engagements of the ETIU pack and of the five-pack
mix, no latency.

It asserts what holds whatever N and whatever the engine's progress: the instance the bench seeds,
the request counts of a quiet ETIU cycle, the naive baseline's arithmetic, and that the report
prints the machine, the date and a row for every target. Never a time, which depends on the
machine, and never a target's verdict that the work of issue 13 is still to change.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # bench/ is a folder of the repository, not an installed package
    sys.path.insert(0, str(REPO))

from bench import mix, seed, targets  # noqa: E402
from bench import run as bench  # noqa: E402
from bench.tables import render  # noqa: E402
from etiu_worker.sandbox import Sandbox  # noqa: E402

N = 20
PAGE_SIZE = 1000


@pytest.fixture(scope="module")
def results():
    return bench.run([N], latency=0.0, page_size=PAGE_SIZE, plan_repeats=1, log=lambda message: None)


@pytest.fixture(scope="module")
def etiu(results):
    return next(size for size in results.sizes if size.workload == "etiu")


@pytest.fixture(scope="module")
def five_packs(results):
    return next(size for size in results.sizes if size.workload == "mix")


def test_the_sandbox_holds_five_tickets_a_change_request_and_a_ctask_per_etiu_engagement(etiu):
    assert etiu.rows == {seed.TICKETS: 5 * N, seed.CHANGES: N, seed.CTASKS: N}
    assert etiu.cycles["cold"].data["engagements"] == N


def test_the_mix_splits_the_engagements_evenly_over_the_five_shipped_packs(five_packs):
    assert five_packs.packs == dict.fromkeys(mix.PACKS, N // 5)
    assert five_packs.cycles["cold"].data["engagements"] == N
    assert five_packs.cycles["cold"].data["skipped"] == 0


def test_the_scaled_mix_gives_every_copy_of_a_demo_story_its_own_key():
    sb = Sandbox()
    seeded = mix.seed_mix(sb.store, 53, sb.store.now().astimezone(sb.store.zone).date())
    assert sum(seeded.count().values()) == 53
    for roots in seeded.roots.values():
        assert len(set(roots)) == len(roots)
    numbers = [record["number"] for record in sb.store.query(mix.CASE)]
    assert len(numbers) == len(set(numbers))


def test_a_quiet_etiu_cycle_lists_each_table_once_and_writes_nothing(etiu):
    cycle = etiu.cycles["unchanged"]
    assert cycle.server == {f"GET {table}": 1 for table in seed.TABLES}
    assert cycle.writes == 0 and cycle.data["writes"] == 0


def test_a_date_a_person_changed_is_carried_to_the_four_siblings(etiu):
    cycle = etiu.cycles["edited"]
    assert etiu.edited == 1
    assert cycle.server.get(f"PATCH {seed.TICKETS}") == cycle.written_records == 4


def test_the_etiu_cold_cycle_reads_at_most_the_floor_plus_one_list_per_table_and_reads_back_in_batches(etiu):
    cold = etiu.cycles["cold"]
    floor = cold.floor_reads(PAGE_SIZE)
    assert all(cold.lists()[table] <= floor[table] + 1 for table in seed.TABLES), cold.lists()
    backs, allowance = cold.read_backs(), cold.batch_allowance()
    assert backs and all(count <= allowance.get(table, 0) for table, count in backs.items()), (backs, allowance)


def test_an_etiu_cycle_after_the_state_folder_was_lost_writes_nothing_again(etiu):
    lost = etiu.cycles["state lost"]
    assert lost.writes == 0, lost.server
    assert 0 < lost.reads("lookup") <= sum(-(-count // 100) for count in etiu.rows.values())


def test_every_cycle_tells_its_worker_cpu_and_the_engagements_it_evaluated(results):
    for size in results.sizes:
        for cycle in size.cycles.values():
            assert cycle.cpu > 0
            assert 0 <= cycle.evaluated <= cycle.data["engagements"]  # a quiet cycle may evaluate none


def test_the_naive_baseline_sends_three_queries_per_engagement_and_one_list(etiu, five_packs):
    assert etiu.naive.how == "measured"  # at N=20 it reads every engagement, at the run's latency
    assert etiu.naive.requests == etiu.naive.counted == 3 * N + 1
    assert five_packs.naive is None  # it reads the ETIU pack's tables only


def test_the_report_prints_the_machine_the_date_and_a_row_per_target_and_size(results):
    text = render(results)
    for heading in ("- machine:", "- date:", "- command:", "## Worker CPU per cycle", "| target |", "naive pysnow"):
        assert heading in text
    rows = [line for line in text.splitlines() if line.startswith("| ") and line.endswith(("PASS |", "FAIL |", "n/a |"))]
    for name in targets.NAMES:
        assert any(row.startswith(f"| {name} |") for row in rows), name
    per_size = {target.name for target in results.targets if target.n == N}
    assert len(per_size) == 8  # the request counts and the CPU per write, judged at every size
    assert len(rows) == len(results.targets)


def test_targets_at_sizes_not_run_are_shown_as_not_applicable(results):
    unrun = [target for target in results.targets if target.n in (5000, 20000)]
    assert unrun and all(target.ok is None and target.measured == "not run" for target in unrun)


def test_python_dash_m_bench_runs_from_the_repository():
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--sizes", "5", "--latency", "0", "--plan-repeats", "1", "--packs", "etiu"],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("# etiu-worker benchmark")
    assert "python -m bench --sizes 5 --latency 0 --plan-repeats 1 --packs etiu" in done.stdout
    assert "## Targets" in done.stdout
