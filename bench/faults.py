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
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
for path in (REPO, REPO / "tests"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from bench import seed  # noqa: E402
from etiu_worker.cycle import engine, runner  # noqa: E402
from etiu_worker.state import journal  # noqa: E402
from etiu_worker.sandbox import Faults, Sandbox  # noqa: E402
from etiu_worker.servicenow.client import ServiceNowClient  # noqa: E402
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


@dataclass
class FaultRun:
    clean_cycles: int
    clean_seconds: float
    cycles: list = field(default_factory=list)  # the faulty run's cycles (safety_helpers.Cycle)
    seconds: float = 0.0
    same: bool = False  # the instance ends as the fault-free run left its twin
    duplicate_notes: int = 0
    extra_tickets: int = 0  # (engagement, code) pairs with more tickets than the fault-free run


def run(n: int, rate: float, seed: int, max_cycles: int, clock, tmp: Path) -> FaultRun:
    """The two runs; ``clock`` must already be the worker's and the journal's (see ``main``)."""
    clean, faulty = seeded(n, clock), seeded(n, clock)
    try:
        started = time.perf_counter()
        reference = until_quiet(in_process_settings(clean, tmp / "clean"), max_cycles)
        result = FaultRun(len(reference), time.perf_counter() - started)
        faulty.faults = Faults.realistic(rate, seed=seed)
        started = time.perf_counter()
        result.cycles = until_quiet(in_process_settings(faulty, tmp / "faulty"), max_cycles)
        result.seconds = time.perf_counter() - started
        faulty.faults = Faults()
        expected, actual = snapshot(clean), snapshot(faulty)
    finally:
        clean.stop()
        faulty.stop()
    result.same = actual.records == expected.records and actual.notes == expected.notes
    result.duplicate_notes = len(actual.duplicate_notes)
    result.extra_tickets = sum(1 for key, count in actual.tickets_per_code.items()
                               if count > expected.tickets_per_code.get(key, 0))
    return result


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
        result = run(args.engagements, args.rate, args.seed, args.max_cycles, clock, Path(tmp))
    print(f"engagements: {args.engagements:,}; faults: {args.rate:.0%} of requests (seed {args.seed})")
    print(f"fault-free: quiet after {result.clean_cycles} cycles in {result.clean_seconds:.0f} s")
    print(f"faulty: quiet after {len(result.cycles)} cycles in {result.seconds:.0f} s; exit codes "
          f"{' '.join(str(cycle.exit_code) for cycle in result.cycles)}")
    print(f"instance equal to the fault-free run: {'yes' if result.same else 'NO'}; notes posted twice: "
          f"{result.duplicate_notes}; tickets per code above the fault-free run: {result.extra_tickets}")
    return 0 if result.same and not result.duplicate_notes and not result.extra_tickets else 1


if __name__ == "__main__":
    sys.exit(main())
