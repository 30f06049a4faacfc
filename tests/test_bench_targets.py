"""The benchmark's targets judged on figures made up for the purpose: which are PASS, FAIL or n/a
at 5,000 and 20,000 engagements, without running anything (the figures are not timings of this
machine)."""

from __future__ import annotations

import sys
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # bench/ is a folder of the repository, not an installed package
    sys.path.insert(0, str(REPO))

from bench import seed, targets  # noqa: E402
from bench.results import Cycle, Results, SizeResult  # noqa: E402
from bench.tables import render  # noqa: E402

TABLES = seed.TABLES


def cycle(name, *, cpu, writes=0, records=0, lists=1, latency=0.02, wall=1.0, evaluated=None):
    data = {"cpu": cpu, "wall": wall, "engagements": 5000, "evaluated": evaluated, "writes": writes,
            "written_records": {seed.TICKETS: records} if records else {}, "noted_records": records,
            "parts": {"sync": {f"GET {table}": lists for table in TABLES}}, "rows_read": {}, "peak_mb": 150.0}
    server = {f"GET {table}": lists for table in TABLES}
    if writes:
        server[f"PATCH {seed.TICKETS}"] = writes
    return Cycle(name, data, server, {}, TABLES, latency)


def size(n, *, quiet_cpu, peak, cold_latency=0.02, cold_writes=100, cold_records=100):
    cycles = {"cold": cycle("cold", cpu=0.1, writes=cold_writes, records=cold_records, latency=cold_latency, wall=50),
              "unchanged": cycle("unchanged", cpu=quiet_cpu, evaluated=0),
              "edited": cycle("edited", cpu=1.2, writes=200, records=200),
              "state lost": cycle("state lost", cpu=1.0)}
    return SizeResult(n, "etiu", dict.fromkeys(TABLES, n), cycles, 1, 50, None, peak, None, 1000, 0.02, 1.0, TABLES)


def judged(*sizes):
    results = Results("python -m bench", datetime.now(timezone.utc), 0.02, 5000, list(sizes))
    results.targets = targets.evaluate(results)
    return {(target.name, target.n): target for target in results.targets}, results


def test_the_quiet_cpu_limit_is_half_a_second_at_5000_and_one_second_at_20000():
    found, _ = judged(size(5000, quiet_cpu=0.4, peak=150), size(20000, quiet_cpu=1.2, peak=500))
    assert found[(targets.QUIET_CPU, 5000)].ok is True
    assert found[(targets.QUIET_CPU, 20000)].ok is False


def test_an_edited_cycle_may_spend_one_second_plus_its_writes():
    found, _ = judged(size(5000, quiet_cpu=0.1, peak=150))
    edited = found[(targets.EDITED_CPU, 5000)]
    assert edited.ok is True  # 1.2 s against 1 s + 200 writes x 1.5 ms = 1.3 s
    assert "= 1.30 s" in edited.limit


def test_peak_memory_is_judged_at_200_mb_at_5000_and_600_mb_at_20000():
    found, _ = judged(size(5000, quiet_cpu=0.1, peak=250), size(20000, quiet_cpu=0.1, peak=550))
    assert found[(targets.PEAK, 5000)].ok is False
    assert found[(targets.PEAK, 20000)].ok is True


def test_a_cold_cycle_run_at_no_latency_is_not_judged_on_its_wall_time():
    found, _ = judged(size(5000, quiet_cpu=0.1, peak=150, cold_latency=0.0))
    assert found[(targets.COLD_WALL, 5000)].ok is None


def test_two_writes_to_one_record_miss_the_floor():
    found, _ = judged(size(5000, quiet_cpu=0.1, peak=150, cold_writes=120, cold_records=100))
    assert found[(targets.COLD_WRITES, 5000)].ok is False
    found, _ = judged(size(5000, quiet_cpu=0.1, peak=150))
    assert found[(targets.COLD_WRITES, 5000)].ok is True


def test_the_cpu_per_engagement_counts_the_engagements_the_cycle_evaluated():
    _, results = judged(size(5000, quiet_cpu=0.1, peak=150))
    text = render(results)
    assert "| 5,000 | nothing changed | 0.10 | 0 | - | 0 | - |" in text
    assert "| 5,000 | cold | 0.10 | 100 | 1.00 | all | 0.02 |" in text
