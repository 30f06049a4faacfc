"""Running one size of one workload: the sandbox, the worker's process, its cycles, the naive script.

A workload is what the sandbox is seeded with and which packs the worker runs: ``etiu`` (the ETIU
pack alone, ``bench/seed.py``) or ``mix`` (all five shipped packs, N split evenly, ``bench/mix.py``).
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench import mix, seed
from bench.results import Cycle, Naive, SizeResult
from etiu_worker.sandbox import Sandbox

REPO = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Workload:
    name: str
    packs: tuple[str, ...]
    tables: tuple[str, ...]
    seed: Callable  # (store, n, today) -> what edit needs
    rows: Callable  # (store) -> records per table
    edit: Callable  # (store, seeded) -> rows a person changed, per table
    counts: Callable  # (seeded) -> engagements per pack


WORKLOADS = {
    "etiu": Workload("etiu", ("etiu",), seed.TABLES, seed.seed, seed.rows,
                     lambda store, specs: {seed.TICKETS: len(seed.edit_bp_dates(store, specs))},
                     lambda specs: {"etiu": len(specs)}),
    "mix": Workload("mix", mix.PACKS, mix.TABLES, mix.seed_mix, mix.rows, mix.edit, lambda seeded: seeded.count()),
}


@dataclass(frozen=True)
class Options:
    latency: float
    page_size: int
    naive_budget: float = 30.0
    naive_most: int = 1000
    plan_repeats: int = 3
    max_converge: int = 5
    cold_max: int = 5000  # above it: cold cycle at no latency, no naive run


class WorkerProcess:
    """bench.worker in a child process, one JSON answer per command."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.log_path = log_path
        self._log = log_path.open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bench.worker"], cwd=REPO, env=env, text=True,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._log,
        )

    def ask(self, command: str) -> dict:
        assert self.process.stdin and self.process.stdout
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            self.process.wait(timeout=10)
            self._log.flush()
            tail = self.log_path.read_text()[-3000:]
            raise RuntimeError(f"bench.worker exited ({self.process.returncode}) on {command!r}:\n{tail}")
        return json.loads(line)

    def close(self) -> None:
        if self.process.stdin:
            self.process.stdin.close()  # it exits after "exit", or at the end of its input
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._log.close()


def worker_env(sb: Sandbox, state: Path, page_size: int, packs: tuple[str, ...]) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.upper().startswith("ETIU_")}
    env.update({
        "ETIU_SERVICENOW__URL": sb.url,
        "ETIU_SERVICENOW__USER": sb.user,
        "ETIU_SERVICENOW__PASSWORD": sb.password,
        "ETIU_SERVICENOW__PAGE_SIZE": str(page_size),
        "ETIU_STATE__DIR": str(state),
        "ETIU_RULES__PACKS": json.dumps(list(packs)),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH", "")])),
    })
    return env


class Session:
    """One worker process against one seeded sandbox: its cycles, in order."""

    def __init__(self, worker: WorkerProcess, sb: Sandbox, tables: tuple[str, ...]) -> None:
        self.worker, self.sb, self.tables = worker, sb, tables

    def cycle(self, name: str, changed_rows: dict[str, int]) -> Cycle:
        self.sb.reset_requests()
        data = self.worker.ask("cycle")
        server = {f"{method} {table}": count for (method, table), count in self.sb.requests.items()}
        return Cycle(name, data, server, changed_rows, self.tables, self.sb.faults.latency)

    def converge(self, most: int) -> int:
        """Cycles until one writes nothing (the worker's own follow-ups), at most ``most``."""
        for count in range(1, most + 1):
            if self.cycle("converge", {}).writes == 0:
                return count
        return most


def run_naive(sb: Sandbox, n: int, latency: float, budget: float, most: int) -> Naive:
    every = max(1, math.ceil(n / most))
    sampled = len(range(0, n, every))
    full_requests = 3 * n + 1
    at_latency = (1 + 3 * sampled) * latency <= budget
    sb.faults.latency = latency if at_latency else 0.0
    sb.reset_requests()
    try:
        out = subprocess.run(
            [sys.executable, str(REPO / "bench" / "naive.py"), "--url", sb.url, "--user", sb.user,
             "--password", sb.password, "--every", str(every)],
            cwd=REPO, capture_output=True, text=True, check=True,
        )
    finally:
        sb.faults.latency = latency
    data = json.loads(out.stdout)
    counted = sum(sb.requests.values())
    scale = n / data["read"] if data["read"] else 1.0
    seconds = data["list_seconds"] + data["loop_seconds"] * scale
    how = []
    if every > 1:
        how.append(f"read every {every}th engagement ({data['read']}), time per engagement x {n}")
    if not at_latency:
        seconds += full_requests * latency
        how.append(f"run at 0 latency, + {full_requests:,} requests x {latency * 1000:g} ms")
    requests = counted if every == 1 else 1 + 3 * n
    return Naive(requests, counted, data["read"], seconds, data["seconds"], "; ".join(how) or "measured")


def bench_size(n: int, workload: Workload, options: Options, log=print) -> SizeResult:
    started = time.perf_counter()
    sb = Sandbox()
    today = sb.store.now().astimezone(sb.store.zone).date()
    seeded = workload.seed(sb.store, n, today)
    rows = workload.rows(sb.store)
    sb.start(port=0)
    name = f"N={n} {workload.name}"
    log(f"{name}: seeded {sum(rows.values()):,} records ({_rows(rows)}) in {time.perf_counter() - started:.1f}s")
    try:
        with tempfile.TemporaryDirectory(prefix="etiu-bench-") as tmp:
            env = worker_env(sb, Path(tmp) / "state", options.page_size, workload.packs)
            worker = WorkerProcess(env, Path(tmp) / "worker.log")
            try:
                cycles, converge, edited = _cycles(Session(worker, sb, workload.tables), workload, seeded, rows,
                                                   options, n, name, log)
                plan = worker.ask(f"plan {options.plan_repeats}") if workload.name == "etiu" else None
                peak = max(cycle.data["peak_mb"] for cycle in cycles.values())
                worker.ask("exit")
            finally:
                worker.close()
        naive = None
        if workload.name == "etiu" and n <= options.cold_max:
            log(f"{name}: naive baseline")
            naive = run_naive(sb, n, options.latency, options.naive_budget, options.naive_most)
    finally:
        sb.stop()
    return SizeResult(n, workload.name, rows, cycles, converge, edited, plan, peak, naive, options.page_size,
                      options.latency, time.perf_counter() - started, workload.tables, workload.counts(seeded))


def _cycles(session: Session, workload: Workload, seeded, rows: dict[str, int], options: Options, n: int,
            name: str, log) -> tuple[dict[str, Cycle], int, int]:
    sb = session.sb
    sb.faults.latency = options.latency if n <= options.cold_max else 0.0  # --cold-max: a cold run at no latency
    cycles = {"cold": session.cycle("cold", rows)}
    log(f"{name}: cold cycle {cycles['cold'].data['wall']:.1f}s, {cycles['cold'].total:,} requests")
    converge = session.converge(options.max_converge)
    sb.faults.latency = options.latency
    cycles["unchanged"] = session.cycle("unchanged", {})
    changed = workload.edit(sb.store, seeded)
    cycles["edited"] = session.cycle("edited", changed)
    session.converge(options.max_converge)
    session.worker.ask("lose-state")
    cycles["state lost"] = session.cycle("state lost", rows)
    log(f"{name}: unchanged {cycles['unchanged'].data['wall']:.1f}s, edited {cycles['edited'].data['wall']:.1f}s, "
        f"state lost {cycles['state lost'].data['wall']:.1f}s")
    return cycles, converge, sum(changed.values())


def _rows(rows: dict[str, int]) -> str:
    return ", ".join(f"{count:,} {table}" for table, count in rows.items())
