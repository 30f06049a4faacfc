"""The benchmark: requests, time, CPU and memory of the worker, from 100 to 20,000 engagements.

    .venv/bin/python -m bench --sizes 100,1000,5000,10000,20000 --latency 0.02 --page-size 1000

For each N and workload (``--packs``: ``etiu``, the ETIU pack alone, ``mix``, all five shipped
packs with N split evenly), a sandbox instance (``etiu_worker.sandbox``) is seeded in this process
straight into its store (``bench/seed.py``, ``bench/mix.py``) and serves on loopback, adding
``--latency`` seconds to every request. The worker runs in a child process (``bench/worker.py``)
with its settings in the environment and its own state folder, through ``runner.run_once``: the
function behind ``etiu-worker run --once``, the real client over HTTP. Per N it runs:

1. a cold cycle (empty state folder: full read of every table); above ``--cold-max`` engagements
   at no latency, so that a run stays within an hour (its requests, writes and CPU are the same;
   its wall time is not at ``--latency`` and is shown in brackets);
2. cycles until one writes nothing (the worker's own follow-ups; counted, not reported);
3. a cycle with nothing changed;
4. a cycle after a person edited 1% of the engagements;
5. converged again, a cycle right after the state folder was lost (a pod that lost its volume);
6. ``engine.plan_cycle`` alone (the ETIU pack only);
7. the naive pysnow baseline (``bench/naive.py``, the ETIU pack only, up to ``--cold-max``).

Then the targets of issue 13 (``bench/targets.py``), each PASS, FAIL or n/a (a size not run).
The Markdown is ``bench/tables.py``'s; the exit code is 0 once it is printed (``--strict``: 1
when a target failed).
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path

if __package__ in (None, ""):  # python bench/run.py
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.measure import WORKLOADS, Options, bench_size  # noqa: E402
from bench.results import Results  # noqa: E402
from bench.tables import render  # noqa: E402
from bench.targets import evaluate  # noqa: E402

__all__ = ["main", "render", "run"]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,1000,5000", help="engagement counts, comma-separated")
    parser.add_argument("--packs", default="etiu,mix",
                        help="workloads, comma-separated: etiu (the ETIU pack), mix (all five shipped packs)")
    parser.add_argument("--latency", type=float, default=0.02, help="seconds added to every request")
    parser.add_argument("--page-size", type=int, default=1000, help="the worker's servicenow.page_size")
    parser.add_argument("--cold-max", type=int, default=5000,
                        help="above this many engagements, run the cold cycle at no latency and skip the naive script")
    parser.add_argument("--naive-budget", type=float, default=30.0,
                        help="run the naive baseline at the latency only if its requests x latency stays under "
                             "this many seconds; else run it at 0 latency and add requests x latency")
    parser.add_argument("--naive-max", type=int, default=1000,
                        help="read at most this many engagements in the naive run (every K-th), scaling its time")
    parser.add_argument("--plan-repeats", type=int, default=3, help="times plan_cycle is timed (the best counts)")
    parser.add_argument("--max-converge", type=int, default=5, help="cycles allowed to reach nothing to write")
    parser.add_argument("--strict", action="store_true", help="exit with 1 when a target failed")
    parser.add_argument("--output", type=Path, help="also write the Markdown to this file")
    parser.add_argument("--json", type=Path, help="also write the raw measurements to this file")
    return parser.parse_args(argv)


def run(sizes: list[int], *, latency: float, page_size: int, workloads=("etiu", "mix"), naive_budget: float = 30.0,
        naive_max: int = 1000, plan_repeats: int = 3, max_converge: int = 5, cold_max: int = 5000,
        command: str = "", log=print) -> Results:
    clock = time.perf_counter()
    options = Options(latency, page_size, naive_budget, naive_max, plan_repeats, max_converge, cold_max)
    results = Results(command, datetime.now(timezone.utc), latency, cold_max)
    for workload in workloads:
        for n in sizes:
            results.sizes.append(bench_size(n, WORKLOADS[workload], options, log=log))
    results.targets = evaluate(results)
    results.seconds = time.perf_counter() - clock
    return results


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    sizes = [int(part) for part in args.sizes.split(",") if part.strip()]
    workloads = [part.strip() for part in args.packs.split(",") if part.strip()]
    unknown = [name for name in workloads if name not in WORKLOADS]
    if unknown:
        sys.exit(f"--packs: {unknown[0]!r} is not a workload; choose from {', '.join(WORKLOADS)}")
    shown = argv if argv is not None else sys.argv[1:]
    command = ("python -m bench " + " ".join(shlex.quote(arg) for arg in shown)).strip()
    results = run(sizes, latency=args.latency, page_size=args.page_size, workloads=workloads,
                  naive_budget=args.naive_budget, naive_max=args.naive_max, plan_repeats=args.plan_repeats,
                  max_converge=args.max_converge, cold_max=args.cold_max, command=command,
                  log=lambda message: print(message, file=sys.stderr, flush=True))
    text = render(results)
    print(text)
    if args.output:
        args.output.write_text(text + "\n")
    if args.json:
        args.json.write_text(json.dumps(asdict(results), default=str, indent=1) + "\n")
    failed = any(target.ok is False for target in results.targets)
    return 1 if failed and args.strict else 0


if __name__ == "__main__":
    sys.exit(main())
