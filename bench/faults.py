"""Convergence under faults at scale: does the worker end where a fault-free run ends?

    .venv/bin/python -m bench.faults --engagements 2000 --rate 0.1

Two sandboxes are seeded alike (``bench/seed.py``, the same sys_ids). On the first the worker
runs fault-free until a cycle has nothing to write: the reference. On the second, ``--rate`` of
all requests meet a fault (``Faults.realistic``: 429s, 5xx, dropped connections, answers lost
after the write was applied, empty 202s) until a cycle has nothing to write, at most
``--max-cycles``; then the instance is compared with the reference, and every worker note posted
twice on one record is counted. The worker runs in this process through ``runner.run_once`` over
HTTP, with the client's retry waits skipped (they would only add sleeping) and one clock shared
by the worker and both sandboxes, so that the two histories are of the same day.
"""

from __future__ import annotations

import argparse
import functools
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
for path in (REPO, REPO / "tests"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from bench import seed  # noqa: E402
from etiu_worker import engine, journal, runner  # noqa: E402
from etiu_worker.sandbox import Faults, Sandbox  # noqa: E402
from etiu_worker.servicenow import ServiceNowClient  # noqa: E402
from safety_helpers import (  # noqa: E402
    FIXED_MOMENT, TickingClock, deterministic_ids, in_process_settings, run_cycle, snapshot,
)


def seeded(n: int, clock) -> Sandbox:
    with deterministic_ids("etiu-bench-faults"):
        sb = Sandbox()
        sb.store.now = clock
        seed.seed(sb.store, n, FIXED_MOMENT.date())
    return sb.start(port=0)


def until_quiet(settings, limit: int) -> list:
    cycles = []
    for _ in range(limit):
        cycles.append(run_cycle(settings))
        report = cycles[-1].report
        if report is not None and not report.plan.writes and not report.failed:
            break
    return cycles


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.faults", description=__doc__.splitlines()[0])
    parser.add_argument("--engagements", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=0.1, help="share of requests that meet a fault")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--max-cycles", type=int, default=40)
    args = parser.parse_args(argv)
    clock = TickingClock(FIXED_MOMENT)
    engine.now = journal.now = clock
    runner.ServiceNowClient = functools.partial(ServiceNowClient, sleep=lambda seconds: None)
    with tempfile.TemporaryDirectory(prefix="etiu-bench-faults-") as tmp:
        clean, faulty = seeded(args.engagements, clock), seeded(args.engagements, clock)
        try:
            started = time.perf_counter()
            reference = until_quiet(in_process_settings(clean, Path(tmp) / "clean"), args.max_cycles)
            clean_seconds = time.perf_counter() - started
            faulty.faults = Faults.realistic(args.rate, seed=args.seed)
            started = time.perf_counter()
            cycles = until_quiet(in_process_settings(faulty, Path(tmp) / "faulty"), args.max_cycles)
            faulty_seconds = time.perf_counter() - started
            faulty.faults = Faults()
            expected, actual = snapshot(clean), snapshot(faulty)
        finally:
            clean.stop()
            faulty.stop()
    same = actual.records == expected.records and actual.notes == expected.notes
    print(f"engagements: {args.engagements:,}; faults: {args.rate:.0%} of requests (seed {args.seed})")
    print(f"fault-free: quiet after {len(reference)} cycles in {clean_seconds:.0f} s")
    print(f"faulty: quiet after {len(cycles)} cycles in {faulty_seconds:.0f} s; exit codes "
          f"{' '.join(str(cycle.exit_code) for cycle in cycles)}")
    print(f"instance equal to the fault-free run: {'yes' if same else 'NO'}; notes posted twice: "
          f"{len(actual.duplicate_notes)}; tickets per code above one: "
          f"{sum(1 for key, n in actual.tickets_per_code.items() if n > expected.tickets_per_code.get(key, 0))}")
    return 0 if same and not actual.duplicate_notes else 1


if __name__ == "__main__":
    sys.exit(main())
