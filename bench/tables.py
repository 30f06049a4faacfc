"""The benchmark's Markdown: the machine and the date, one table per concern, the targets, notes."""

from __future__ import annotations

import os
import platform
from pathlib import Path

from bench.results import Cycle, Results, SizeResult, short_name
from bench.targets import CPU_PER_WRITE_MS

CYCLES = (("cold", "cold"), ("unchanged", "nothing changed"), ("edited", "1% edited"), ("state lost", "state folder lost"))


def machine() -> str:
    """CPU model, cores, RAM, kernel and Python of this machine."""
    cpu = platform.processor() or platform.machine()
    try:
        models = [line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")]
        cpu = models[0] if models else cpu
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
    out = _header(results)
    out += _requests(results)
    out += _cpu(results)
    out += _memory(results)
    out += _targets(results)
    out += _notes(results)
    out += ["", f"Total run time: {results.seconds:.0f} s"]
    return "\n".join(out)


def _header(results: Results) -> list[str]:
    out = ["# etiu-worker benchmark", "", f"- machine: {machine()}", f"- date: {results.started:%Y-%m-%d %H:%M} UTC",
           f"- command: `{results.command}`",
           f"- latency {results.latency * 1000:g} ms per request (sandbox on loopback), page size "
           f"{results.sizes[0].page_size if results.sizes else 0:,}"]
    for workload in dict.fromkeys(size.workload for size in results.sizes):
        size = next(size for size in results.sizes if size.workload == workload)
        label = "the ETIU pack" if workload == "etiu" else "all five packs, N split evenly (N (5 packs))"
        out.append(f"- {label}: lists are {' / '.join(short_name(table) for table in size.tables)}")
    if any(size.n > results.cold_max for size in results.sizes):
        out.append(f"- above {results.cold_max:,} engagements (--cold-max) the cold cycle ran at no latency "
                   "(its wall time in brackets) and the naive script did not run")
    return out


def _requests(results: Results) -> list[str]:
    out = ["", "## Requests and wall time per cycle", "",
           "| N | cycle | list reads (sync) | rows read | read-backs | writes (distinct records) | requests | "
           "floor: reads + writes | wall s |",
           "|---:|---|---|---|---:|---|---:|---|---:|"]
    for size in results.sizes:
        for name, label in CYCLES:
            out.append(_cycle_row(size, size.cycles[name], _label(size, name, label)))
        out += _naive_row(size, results)
    return out


def _label(size: SizeResult, name: str, label: str) -> str:
    if name == "edited":
        return f"{label} ({size.edited:,})"
    if name == "state lost":
        return f"{label} ({size.cycles[name].reads('lookup'):,} note look-ups)"
    return label


def _cycle_row(size: SizeResult, cycle: Cycle, label: str) -> str:
    tables, floor, needed = size.tables, cycle.floor_reads(size.page_size), cycle.written_records
    wall = f"{cycle.data['wall']:.2f}"
    if cycle.latency != size.latency:
        wall = f"({wall}, {cycle.latency * 1000:g} ms)"
    return (f"| {size.label} | {label} | {_slash(cycle.lists(), tables)} | {_slash(cycle.data['rows_read'], tables)} | "
            f"{cycle.reads('send_and_verify'):,} | {cycle.writes:,} ({needed:,}) | {cycle.total:,} | "
            f"{_slash(floor, tables)} + {needed:,} = {sum(floor.values()) + needed:,} | {wall} |")


def _naive_row(size: SizeResult, results: Results) -> list[str]:
    if size.workload != "etiu":
        return []
    floor = size.cycles["cold"].floor_reads(size.page_size)
    floor_text = f"{_slash(floor, size.tables)} + 0 = {sum(floor.values()):,}"
    naive = size.naive
    if naive is None:
        requests = 3 * size.n + 1
        return [f"| {size.label} | naive pysnow (reads only), not run | {requests:,} queries | "
                f"{sum(size.rows.values()):,} | 0 | 0 | {requests:,} | {floor_text} | "
                f">= {requests * results.latency:.0f} ** |"]
    marker = "" if naive.how == "measured" else " *"
    return [f"| {size.label} | naive pysnow (reads only) | {naive.requests:,} queries | {sum(size.rows.values()):,} | "
            f"0 | 0 | {naive.requests:,} | {floor_text} | {naive.seconds:.2f}{marker} |"]


def _cpu(results: Results) -> list[str]:
    out = ["", "## Worker CPU per cycle", "",
           "| N | cycle | worker CPU s | write requests | CPU per write ms | engagements evaluated | "
           "CPU per evaluated engagement ms |",
           "|---:|---|---:|---:|---:|---:|---:|"]
    for size in results.sizes:
        for name, label in CYCLES:
            cycle = size.cycles[name]
            per_write = f"{cycle.cpu / cycle.writes * 1000:.2f}" if cycle.writes else "-"
            per_engagement = f"{cycle.cpu / cycle.evaluated * 1000:.2f}" if cycle.evaluated else "-"
            out.append(f"| {size.label} | {label} | {cycle.cpu:.2f} | {cycle.writes:,} | {per_write} | "
                       f"{cycle.evaluated_shown} | {per_engagement} |")
    return out


def _memory(results: Results) -> list[str]:
    out = ["", "## Rule evaluation and memory", "",
           "| N | engagements | plan_cycle CPU s | per engagement ms | building engagements CPU s | "
           "peak RSS of the worker MB (after the cold cycle) | cycles until nothing to write |",
           "|---:|---:|---:|---:|---:|---:|---:|"]
    for size in results.sizes:
        engagements = size.cycles["cold"].data["engagements"]
        plan = size.plan
        timed = (f"{plan['plan_cpu']:.3f} | {plan['plan_cpu'] / max(plan['engagements'], 1) * 1000:.2f} | "
                 f"{plan['build_cpu']:.3f}") if plan else "- | - | -"
        out.append(f"| {size.label} | {engagements:,} | {timed} | {size.peak_mb:.0f} "
                   f"({size.cycles['cold'].data['peak_mb']:.0f}) | {size.converge_cycles} after the cold one |")
    return out


def _targets(results: Results) -> list[str]:
    out = ["", "## Targets", "", "| target | N | measured | limit | result |", "|---|---:|---|---|---|"]
    for target in results.targets:
        result = "n/a" if target.ok is None else ("PASS" if target.ok else "FAIL")
        measured = target.measured + (f" ({target.why})" if target.why else "")
        n = "" if target.n is None else (f"{target.n:,}" if target.workload == "etiu" else f"{target.n:,} (5 packs)")
        out.append(f"| {target.name} | {n} | {measured} | {target.limit} | {result} |")
    return out


def _notes(results: Results) -> list[str]:
    out = ["", "Notes:", "",
           "- The worker runs in its own process through `runner.run_once` (what `etiu-worker run --once` calls), "
           "over HTTP with the real client; wall and CPU time are that call's. Requests are counted by the "
           "sandbox; the split between sync reads, look-ups, freshness checks and read-backs is the client's own "
           "counter.",
           "- floor: ceil(rows changed / page size) list requests per table (at least one, to learn that nothing "
           "changed; all rows on a cold cycle or after the state folder was lost), plus one write per record "
           "that had to change. The writes column counts write requests, the distinct records in brackets.",
           "- read-backs and freshness checks allowance: ceil(distinct records written / 100) per table, and "
           "ceil(records given a note / 100) on sys_journal_field; note look-ups after the state folder was "
           "lost: ceil(records / 100) per table, summed.",
           "- worker CPU: `time.process_time()` of `run_once` in the worker's process, nothing excluded (reads, "
           "building and evaluating engagements, journal, writes, read-backs). Per write: over the write "
           f"requests; the target is {CPU_PER_WRITE_MS:g} ms. Engagements evaluated: the plan's `evaluated` "
           "(\"all\" when the worker does not tell them apart).",
           "- plan_cycle CPU (the ETIU pack only): `time.process_time()` around `engine.plan_cycle` over the "
           "engagements built from the record cache after the cycles, best of the repeats.",
           "- peak memory: `ru_maxrss` of the worker process over all its cycles (the sandbox runs in the "
           "benchmark's process and is not counted): what a memory limit sees, interpreter, SQLite and "
           "libraries included."]
    for size in results.sizes:
        if size.naive is not None and size.naive.how != "measured":
            out.append(f"- * naive at N={size.n:,}: {size.naive.how} (the run itself: {size.naive.counted:,} "
                       f"requests in {size.naive.measured:.1f}s).")
    if any(size.workload == "etiu" and size.naive is None for size in results.sizes):
        out.append("- ** naive not run above --cold-max: its 3 x N + 1 requests, and at least that many times the "
                   "latency.")
    out.append("- naive baseline (the ETIU pack only): one list of the change requests, then per engagement one "
               "query for its tickets, one for its change request, one for its CTASKs (3 x N + 1).")
    return out


def _slash(counts: dict[str, int], tables: tuple[str, ...]) -> str:
    return " / ".join(f"{counts.get(table, 0):,}" for table in tables)
