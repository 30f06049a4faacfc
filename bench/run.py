"""The benchmark: requests, time and memory of the worker at 100, 1,000 and 5,000 engagements.

    .venv/bin/python -m bench --sizes 100,1000,5000 --latency 0.02 --page-size 1000

For each N, a sandbox instance (``etiu_worker.sandbox``) is seeded in this process with N
engagements in a mix of phases (``bench/seed.py``) and serves on loopback, adding ``--latency``
seconds to every request. The worker runs in a child process (``bench/worker.py``), with its
settings in the environment and its own state folder, through ``runner.run_once``: the function
behind ``etiu-worker run --once``, the real client over HTTP. Per N it runs:

1. a cold cycle (empty state folder: full read of every table);
2. cycles until one writes nothing (the worker's own follow-ups; counted, not reported);
3. a cycle with nothing changed;
4. a cycle after a person edited 1% of the engagements (the BP date on ETIU01's short
   description, through ``sb.store.update``, so ``sys_updated_on`` moves);
4b. converged again, a cycle right after the state folder was lost (a pod that lost its
   volume): a full read, the look-up of the notes already on the instance, and no write;
5. ``engine.plan_cycle`` alone over the engagements built from the record cache (CPU time);
6. the naive pysnow baseline (``bench/naive.py``), reading only, as its own process.

Peak memory is the worker process's ``ru_maxrss``: what the kernel had resident at the worst
moment of all its cycles, interpreter and libraries included, which is what a 300 MB limit on a
host or container is about. tracemalloc would count Python allocations only (not SQLite's or
the interpreter's own) and slow the cycles it measures several times over.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shlex
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

if __package__ in (None, ""):  # python bench/run.py
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import seed  # noqa: E402
from etiu_worker.sandbox import Sandbox  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
TABLES = seed.TABLES
JOURNAL = "sys_journal_field"
SHORT = {seed.TICKETS: "tickets", seed.CHANGES: "CRs", seed.CTASKS: "CTASKs"}
READ_BACK_BATCH = 100
WRITES = ("POST", "PATCH", "PUT", "DELETE")

# Targets (issue 6)
PLAN_CPU_LIMIT = 1.0  # s of CPU for plan_cycle at 5,000 engagements
PLAN_CPU_AT = 5000
PEAK_MB_LIMIT = 300
PEAK_AT = 5000
EDIT_WALL_LIMIT = 10.0  # s for the 1%-edited cycle at 1,000 engagements with 20 ms latency
EDIT_AT, EDIT_LATENCY = 1000, 0.02


@dataclass
class Cycle:
    name: str
    data: dict  # what bench.worker answered
    server: dict[str, int]  # requests the sandbox served: "METHOD table" -> count
    changed_rows: dict[str, int]  # rows a person (or the seed) changed since the last cycle, per table

    def part(self, part: str) -> dict[str, int]:
        return self.data["parts"].get(part, {})

    def reads(self, part: str, table: str | None = None) -> int:
        return sum(n for key, n in self.part(part).items()
                   if key.startswith("GET ") and (table is None or key == f"GET {table}"))

    @property
    def writes(self) -> int:
        return sum(n for key, n in self.server.items() if key.split()[0] in WRITES)

    @property
    def total(self) -> int:
        return sum(self.server.values())

    @property
    def written_records(self) -> int:
        return sum(self.data["written_records"].values())

    def floor_reads(self, page_size: int) -> dict[str, int]:
        """The fewest list requests that can read the changed rows: at least one per table."""
        return {table: max(1, math.ceil(self.changed_rows.get(table, 0) / page_size)) for table in TABLES}

    def read_back_allowance(self) -> dict[str, int]:
        allowance = {table: math.ceil(n / READ_BACK_BATCH) for table, n in self.data["written_records"].items()}
        allowance[JOURNAL] = math.ceil(self.data["noted_records"] / READ_BACK_BATCH)
        return allowance

    def read_backs(self) -> dict[str, int]:
        return {key.split()[1]: n for key, n in self.part("send_and_verify").items() if key.startswith("GET ")}


@dataclass
class Naive:
    requests: int  # for all N engagements (counted, or 3 x N + 1 when sampled)
    counted: int  # requests the sandbox served in the run
    read: int  # engagements read in the run
    seconds: float  # for all N engagements, at the benchmark's latency
    measured: float  # seconds of the run itself
    how: str  # measured, or how it was extrapolated


@dataclass
class SizeResult:
    n: int
    rows: dict[str, int]
    cycles: dict[str, Cycle]
    converge_cycles: int
    edited: int
    plan: dict
    peak_mb: float
    naive: Naive
    page_size: int
    latency: float
    seconds: float


@dataclass
class Target:
    name: str
    n: int | None
    measured: str
    limit: str
    ok: bool | None  # None: not applicable in this run
    why: str = ""


@dataclass
class Results:
    command: str
    started: datetime
    sizes: list[SizeResult] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    seconds: float = 0.0


# ----- running -----

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


def worker_env(sb: Sandbox, state: Path, page_size: int) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.upper().startswith("ETIU_")}
    env.update({
        "ETIU_SERVICENOW__URL": sb.url,
        "ETIU_SERVICENOW__USER": sb.user,
        "ETIU_SERVICENOW__PASSWORD": sb.password,
        "ETIU_SERVICENOW__PAGE_SIZE": str(page_size),
        "ETIU_STATE__DIR": str(state),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH", "")])),
    })
    return env


def run_cycle(worker: WorkerProcess, sb: Sandbox, name: str, changed_rows: dict[str, int]) -> Cycle:
    sb.reset_requests()
    data = worker.ask("cycle")
    server = {f"{method} {table}": count for (method, table), count in sb.requests.items()}
    return Cycle(name, data, server, changed_rows)


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


def bench_size(n: int, *, latency: float, page_size: int, naive_budget: float, naive_most: int,
               plan_repeats: int, max_converge: int, log=print) -> SizeResult:
    started = time.perf_counter()
    sb = Sandbox()
    today = sb.store.now().astimezone(sb.store.zone).date()
    specs = seed.seed(sb.store, n, today)
    rows = seed.rows(sb.store)
    sb.start(port=0)
    sb.faults.latency = latency
    log(f"N={n}: seeded {rows[seed.TICKETS]:,} tickets, {rows[seed.CHANGES]:,} change requests, "
        f"{rows[seed.CTASKS]:,} CTASKs in {time.perf_counter() - started:.1f}s")
    try:
        with tempfile.TemporaryDirectory(prefix="etiu-bench-") as tmp:
            worker = WorkerProcess(worker_env(sb, Path(tmp) / "state", page_size), Path(tmp) / "worker.log")
            try:
                cycles = {"cold": run_cycle(worker, sb, "cold", rows)}
                log(f"N={n}: cold cycle {cycles['cold'].data['wall']:.1f}s, {cycles['cold'].total:,} requests")
                converge = 0
                for _ in range(max_converge):
                    converge += 1
                    if run_cycle(worker, sb, "converge", {}).writes == 0:
                        break
                cycles["unchanged"] = run_cycle(worker, sb, "unchanged", {})
                keys = seed.edit_bp_dates(sb.store, specs)
                cycles["edited"] = run_cycle(worker, sb, "edited", {seed.TICKETS: len(keys)})
                for _ in range(max_converge):
                    if run_cycle(worker, sb, "converge", {}).writes == 0:
                        break
                worker.ask("lose-state")
                cycles["state lost"] = run_cycle(worker, sb, "state lost", rows)
                log(f"N={n}: unchanged {cycles['unchanged'].data['wall']:.1f}s, "
                    f"edited {cycles['edited'].data['wall']:.1f}s, state lost "
                    f"{cycles['state lost'].data['wall']:.1f}s; timing plan_cycle")
                plan = worker.ask(f"plan {plan_repeats}")
                peak = worker.ask("exit")["peak_mb"]
            finally:
                worker.close()
        log(f"N={n}: naive baseline")
        naive = run_naive(sb, n, latency, naive_budget, naive_most)
    finally:
        sb.stop()
    return SizeResult(n, rows, cycles, converge, len(keys), plan, peak, naive, page_size, latency,
                      time.perf_counter() - started)


# ----- targets -----

def evaluate(results: Results, latency: float) -> list[Target]:
    targets: list[Target] = []
    for size in results.sizes:
        n, page = size.n, size.page_size
        unchanged = size.cycles["unchanged"]
        sync = {table: unchanged.reads("sync", table) for table in TABLES}
        others = unchanged.total - sum(sync.values())
        targets.append(Target(
            "nothing changed: one list request per table, no writes", n,
            f"{_per_table(sync)} lists, {others} other requests, {unchanged.writes} writes",
            "1 / 1 / 1, 0, 0",
            all(count == 1 for count in sync.values()) and others == 0 and unchanged.writes == 0,
            "" if all(count == 1 for count in sync.values()) else
            f"the delta read {_per_table(unchanged.data['rows_read'])} rows",
        ))
        cold = size.cycles["cold"]
        floor = cold.floor_reads(page)
        sync = {table: cold.reads("sync", table) for table in TABLES}
        targets.append(Target(
            "cold cycle: list reads <= floor + 1 per table", n,
            f"{_per_table(sync)} (then {cold.reads('send_and_verify'):,} read-backs, judged below; "
            f"writes: {cold.writes:,})", f"<= {_per_table({t: floor[t] + 1 for t in TABLES})}",
            all(sync[t] <= floor[t] + 1 for t in TABLES),
        ))
        for cycle in (cold, size.cycles["edited"]):
            backs, allowance = cycle.read_backs(), cycle.read_back_allowance()
            tables = sorted(set(backs) | set(allowance), key=_table_order)
            targets.append(Target(
                f"{cycle.name} cycle: read-backs <= 1 per table per 100 written records", n,
                ", ".join(f"{_name(t)} {backs.get(t, 0)}" for t in tables) or "none",
                ", ".join(f"{_name(t)} {allowance.get(t, 0)}" for t in tables) or "none",
                all(backs.get(t, 0) <= allowance.get(t, 0) for t in tables),
                f"{cycle.written_records:,} records written ({cycle.writes:,} writes), "
                f"{cycle.data['noted_records']:,} with a note",
            ))
        targets.append(_state_lost_target(size))
    by_n = {size.n: size for size in results.sizes}
    size = by_n.get(PLAN_CPU_AT)
    targets.append(Target(
        f"rule evaluation (plan_cycle) CPU at {PLAN_CPU_AT:,}", PLAN_CPU_AT,
        f"{size.plan['plan_cpu']:.2f} s" if size else "not run", f"< {PLAN_CPU_LIMIT:g} s",
        size.plan["plan_cpu"] < PLAN_CPU_LIMIT if size else None,
    ))
    size = by_n.get(PEAK_AT)
    targets.append(Target(
        f"peak memory (worker ru_maxrss) at {PEAK_AT:,}", PEAK_AT,
        f"{size.peak_mb:.0f} MB" if size else "not run", f"< {PEAK_MB_LIMIT} MB",
        size.peak_mb < PEAK_MB_LIMIT if size else None,
    ))
    size = by_n.get(EDIT_AT)
    applies = size is not None and math.isclose(latency, EDIT_LATENCY)
    targets.append(Target(
        f"1% edited at {EDIT_AT:,} with {EDIT_LATENCY * 1000:g} ms latency: wall time", EDIT_AT,
        f"{size.cycles['edited'].data['wall']:.2f} s" if size else "not run", f"< {EDIT_WALL_LIMIT:g} s",
        size.cycles["edited"].data["wall"] < EDIT_WALL_LIMIT if applies else None,
        "" if applies or size is None else f"run at {latency * 1000:g} ms, not {EDIT_LATENCY * 1000:g} ms",
    ))
    return targets


def _state_lost_target(size: SizeResult) -> Target:
    lost = size.cycles["state lost"]
    lookups, allowance = lost.reads("lookup"), math.ceil(sum(size.rows.values()) / READ_BACK_BATCH)
    return Target(
        "state folder lost: nothing posted or created again; look-ups <= 1 per 100 records", size.n,
        f"{lost.writes:,} writes, {lookups:,} look-ups", f"0 writes, <= {allowance:,} look-ups",
        lost.writes == 0 and lookups <= allowance,
    )


# ----- printing -----

def _table_order(table: str) -> int:
    order = [*TABLES, JOURNAL]
    return order.index(table) if table in order else len(order)


def _name(table: str) -> str:
    return SHORT.get(table, "journal" if table == JOURNAL else table)


def _per_table(counts: dict[str, int]) -> str:
    return " / ".join(f"{counts.get(table, 0):,}" for table in TABLES)


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        total_kb = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f", {total_kb / 1024 / 1024:.0f} GB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return (f"{cpu}, {os.cpu_count()} cores{memory}; {platform.system()} {platform.release()}; "
            f"Python {platform.python_version()}")


def render(results: Results) -> str:
    out = ["# etiu-worker benchmark", "",
           f"- machine: {machine()}",
           f"- date: {results.started:%Y-%m-%d %H:%M} UTC",
           f"- command: `{results.command}`"]
    if results.sizes:
        first = results.sizes[0]
        out.append(f"- latency {first.latency * 1000:g} ms per request (sandbox on loopback), page size "
                   f"{first.page_size:,}; lists are tickets / CRs / CTASKs")
    out += ["", "## Requests and wall time per cycle", "",
            "| N | cycle | list reads (sync) | rows read | read-backs | writes (distinct records) | requests | "
            "floor: reads + writes | wall s |",
            "|---:|---|---|---|---:|---|---:|---|---:|"]
    for size in results.sizes:
        page = size.page_size
        lost = size.cycles["state lost"]
        for name, label in (("cold", "cold"), ("unchanged", "nothing changed"),
                            ("edited", f"1% edited ({size.edited})"),
                            ("state lost", f"state folder lost ({lost.reads('lookup'):,} note look-ups)")):
            cycle = size.cycles[name]
            sync = {table: cycle.reads("sync", table) for table in TABLES}
            floor = cycle.floor_reads(page)
            needed = cycle.written_records
            out.append(
                f"| {size.n:,} | {label} | {_per_table(sync)} | {_per_table(cycle.data['rows_read'])} | "
                f"{cycle.reads('send_and_verify'):,} | {cycle.writes:,} ({needed:,}) | {cycle.total:,} | "
                f"{_per_table(floor)} + {needed:,} = {sum(floor.values()) + needed:,} | {cycle.data['wall']:.2f} |"
            )
        naive, floor = size.naive, size.cycles["cold"].floor_reads(page)
        marker = "" if naive.how == "measured" else " *"
        out.append(
            f"| {size.n:,} | naive pysnow (reads only) | {naive.requests:,} queries | "
            f"{sum(size.rows.values()):,} | 0 | 0 | {naive.requests:,} | {_per_table(floor)} + 0 = "
            f"{sum(floor.values()):,} | {naive.seconds:.2f}{marker} |"
        )
    out += ["", "## Rule evaluation and memory", "",
            "| N | engagements | plan_cycle CPU s | per engagement ms | building engagements CPU s | "
            "peak RSS of the worker MB (after the cold cycle) | cycles until nothing to write |",
            "|---:|---:|---:|---:|---:|---:|---:|"]
    for size in results.sizes:
        plan = size.plan
        out.append(
            f"| {size.n:,} | {plan['engagements']:,} | {plan['plan_cpu']:.3f} | "
            f"{plan['plan_cpu'] / max(plan['engagements'], 1) * 1000:.2f} | {plan['build_cpu']:.3f} | "
            f"{size.peak_mb:.0f} ({size.cycles['cold'].data['peak_mb']:.0f}) | {size.converge_cycles} after the cold one |"
        )
    out += ["", "## Targets", "", "| target | N | measured | limit | result |", "|---|---:|---|---|---|"]
    for target in results.targets:
        result = "n/a" if target.ok is None else ("PASS" if target.ok else "FAIL")
        measured = target.measured + (f" ({target.why})" if target.why else "")
        out.append(f"| {target.name} | {target.n or ''} | {measured} | {target.limit} | {result} |")
    out += ["", "Notes:", ""]
    out.append("- The worker runs in its own process through `runner.run_once` (what `etiu-worker run --once` "
               "calls), over HTTP with the real client; wall time is that call's. Requests are counted by the "
               "sandbox; the split between sync reads and read-backs is the client's own counter.")
    out.append("- floor: ceil(rows changed / page size) list requests per table (at least one, to learn that "
               "nothing changed; all rows on a cold cycle), plus one write per record that had to change "
               "(fields and notes of one record in one request). The worker's writes are in the writes "
               "column, the distinct records they touched in brackets.")
    out.append("- read-backs allowance: ceil(distinct records written / 100) per table, and ceil(records "
               "given a note / 100) on sys_journal_field.")
    out.append("- plan_cycle CPU: `time.process_time()` around `engine.plan_cycle` over engagements already "
               "built from the record cache after the cycles (best of "
               f"{len(results.sizes[0].plan['plan_cpu_all']) if results.sizes else 0}).")
    out.append("- peak memory: `ru_maxrss` of the worker process over all its cycles (the sandbox runs in "
               "the benchmark's own process and is not counted). It is what the kernel held resident, "
               "interpreter, SQLite and libraries included, which is what a memory limit sees; tracemalloc "
               "would count Python objects only and slow the measured cycles down.")
    for size in results.sizes:
        if size.naive.how != "measured":
            out.append(f"- * naive at N={size.n:,}: {size.naive.how} (the run itself: {size.naive.counted:,} "
                       f"requests in {size.naive.measured:.1f}s).")
    out.append("- naive baseline: one list of the change requests, then per engagement one query for its "
               "tickets, one for its change request, one for its CTASKs (3 x N + 1); the sandbox has no "
               "index, so each of its queries scans the table (a real instance would not).")
    out += ["", f"Total run time: {results.seconds:.0f} s"]
    return "\n".join(out)


# ----- command line -----

def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,1000,5000", help="engagement counts, comma-separated")
    parser.add_argument("--latency", type=float, default=0.02, help="seconds added to every request")
    parser.add_argument("--page-size", type=int, default=1000, help="the worker's servicenow.page_size")
    parser.add_argument("--naive-budget", type=float, default=30.0,
                        help="run the naive baseline at the latency only if its requests x latency stays under "
                             "this many seconds; else run it at 0 latency and add requests x latency")
    parser.add_argument("--naive-max", type=int, default=1000,
                        help="read at most this many engagements in the naive run (every K-th), scaling its time")
    parser.add_argument("--plan-repeats", type=int, default=3, help="times plan_cycle is timed (the best counts)")
    parser.add_argument("--max-converge", type=int, default=5, help="cycles allowed to reach nothing to write")
    parser.add_argument("--output", type=Path, help="also write the Markdown to this file")
    parser.add_argument("--json", type=Path, help="also write the raw measurements to this file")
    return parser.parse_args(argv)


def run(sizes: list[int], *, latency: float, page_size: int, naive_budget: float = 30.0, naive_max: int = 1000,
        plan_repeats: int = 3, max_converge: int = 5, command: str = "", log=print) -> Results:
    clock = time.perf_counter()
    results = Results(command, datetime.now(timezone.utc))
    for n in sizes:
        results.sizes.append(bench_size(n, latency=latency, page_size=page_size, naive_budget=naive_budget,
                                        naive_most=naive_max, plan_repeats=plan_repeats,
                                        max_converge=max_converge, log=log))
    results.targets = evaluate(results, latency)
    results.seconds = time.perf_counter() - clock
    return results


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    sizes = [int(part) for part in args.sizes.split(",") if part.strip()]
    shown = argv if argv is not None else sys.argv[1:]
    command = "python -m bench " + " ".join(shlex.quote(arg) for arg in shown)
    results = run(sizes, latency=args.latency, page_size=args.page_size, naive_budget=args.naive_budget,
                  naive_max=args.naive_max, plan_repeats=args.plan_repeats, max_converge=args.max_converge,
                  command=command.strip(), log=lambda message: print(message, file=sys.stderr, flush=True))
    text = render(results)
    print(text)
    if args.output:
        args.output.write_text(text + "\n")
    if args.json:
        args.json.write_text(json.dumps(asdict(results), default=str, indent=1) + "\n")
    return 0 if all(target.ok is not False for target in results.targets) else 1


if __name__ == "__main__":
    sys.exit(main())
