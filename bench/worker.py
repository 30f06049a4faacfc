"""The worker side of the benchmark: a process that runs real cycles when told to.

``python -m bench.worker`` reads its settings from the environment, exactly as ``etiu-worker run
--once`` does (ETIU_SERVICENOW__URL, ..., ETIU_STATE__DIR), then answers one command per line on
stdin with one JSON line on stdout:

* ``cycle``: ``runner.run_once(settings)``, the function behind ``etiu-worker run --once``: the
  real client (pysnow + requests) over HTTP, the journal and the record cache in the state folder.
  The answer has the wall and CPU time of ``run_once``, the requests the client counted, split by
  part of the cycle, what was written, and how many engagements the cycle evaluated (the plan's
  ``evaluated``; none when the engine does not tell, i.e. it evaluated all of them).
* ``plan``: the CPU time (``time.process_time``) of ``engine.plan_cycle`` alone, over engagements
  already built from the record cache (building them is timed apart).
* ``exit``: this process's peak resident memory (``ru_maxrss``), then exit.

The parts of the cycle are told apart by wrapping, in this process only, the three functions
``engine.run_cycle`` calls (settle, read, send and verify) with a look at the client's request
counter before and after; they are still the worker's own functions doing the work.
"""

from __future__ import annotations

import json
import logging
import resource
import shutil
import sys
import time
from collections import Counter

from etiu_worker.cycle import engine, runner
from etiu_worker.state.cache import RecordCache
from etiu_worker.config import load_settings
from etiu_worker.state.journal import Journal
from etiu_worker.playbook.context import pack_engagements
from etiu_worker.actions.loading import runtime_playbook
from etiu_worker.cycle.read import scopes


class Parts:
    """Requests per part of the current cycle, and the rows the delta sync read."""

    def __init__(self) -> None:
        self.requests: dict[str, Counter] = {}
        self.rows: Counter = Counter()

    def reset(self) -> None:
        self.requests = {part: Counter() for part in ("settle", "sync", "lookup", "freshness", "send_and_verify")}
        self.rows = Counter()

    def wrap(self, part: str, function):
        def wrapped(client, *args, **kwargs):
            before = Counter(client.requests)
            try:
                return function(client, *args, **kwargs)
            finally:
                self.requests[part] += Counter(client.requests) - before
        return wrapped


PARTS = Parts()


def _install_probes() -> None:
    engine.settle_pending = PARTS.wrap("settle", engine.settle_pending)
    engine.read_scopes = PARTS.wrap("sync", engine.read_scopes)
    engine.send_and_verify = PARTS.wrap("send_and_verify", engine.send_and_verify)
    engine.unsent_writes = PARTS.wrap("lookup", engine.unsent_writes)
    engine.fresh_writes = PARTS.wrap("freshness", engine.fresh_writes)
    replace, merge = RecordCache.replace, RecordCache.merge

    def counted_replace(self, table, rows, at, **options):
        PARTS.rows[_table(table)] += len(rows)
        return replace(self, table, rows, at, **options)

    def counted_merge(self, table, rows, **options):
        PARTS.rows[_table(table)] += len(rows)
        return merge(self, table, rows, **options)

    RecordCache.replace, RecordCache.merge = counted_replace, counted_merge


def _table(cache_name: str) -> str:
    """The table of a record cache's name: a pack beside the first caches its own as pack:table."""
    return cache_name.rsplit(":", 1)[-1]


def _key(pair) -> str:
    method, table = pair
    return f"{method} {table}"


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes


def cycle(settings) -> dict:
    PARTS.reset()
    wall, cpu = time.perf_counter(), time.process_time()
    report = runner.run_once(settings)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    written: dict[str, set[str]] = {}
    noted: set[str] = set()
    creates = 0
    for outcome in report.outcomes:
        write = outcome.write
        creates += write.is_create
        written.setdefault(write.table, set()).add(outcome.sys_id or f"new:{id(write)}")
        if write.note:
            noted.add(outcome.sys_id)
    evaluated = getattr(report.plan, "evaluated", None)  # None: the engine evaluates every engagement
    return {
        "wall": wall,
        "cpu": cpu,
        "evaluated": None if evaluated is None else len(evaluated),
        "exit_code": report.exit_code,
        "engagements": len(report.plan.engagements),
        "skipped": len(report.plan.skipped),
        "writes": len(report.outcomes),
        "creates": creates,
        "failed": len(report.failed),
        "written_records": {table: len(ids) for table, ids in written.items()},
        "noted_records": len(noted),
        "requests": {_key(pair): count for pair, count in report.requests.items()},
        "parts": {part: {_key(pair): count for pair, count in counts.items()} for part, counts in PARTS.requests.items()},
        "rows_read": dict(PARTS.rows),
        "peak_mb": _peak_mb(),
    }


def plan(settings, repeats: int) -> dict:
    """CPU time of rule evaluation alone: ``plan_cycle`` over engagements already built."""
    playbook = runtime_playbook(settings)
    with RecordCache.open(settings.state.dir) as cache, Journal.open(settings.state.dir) as journal:
        records = {table: cache.records(table) for table, _ in scopes(playbook.declarations)}
        started = time.process_time()
        engagements = pack_engagements(playbook, records, settings.worker.default_timezone)
        build = time.process_time() - started
        memories = journal.all_engagement_states()
        at = engine.now()
        times, writes = [], 0
        for _ in range(repeats):
            started = time.process_time()
            planned = engine.plan_cycle(playbook, engagements, memories, at, journal.note_posted)
            times.append(time.process_time() - started)
            writes = len(planned.writes)
    return {"engagements": len(engagements), "build_cpu": build, "plan_cpu": min(times), "plan_cpu_all": times,
            "planned_writes": writes, "peak_mb": _peak_mb()}


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    _install_probes()
    settings = load_settings()
    for line in sys.stdin:
        command, *args = line.split()
        if command == "cycle":
            answer = cycle(settings)
        elif command == "plan":
            answer = plan(settings, int(args[0]) if args else 3)
        elif command == "lose-state":
            shutil.rmtree(settings.state.dir, ignore_errors=True)  # a pod that lost its volume
            answer = {"lost": str(settings.state.dir)}
        elif command == "exit":
            answer = {"peak_mb": _peak_mb()}
        else:
            answer = {"error": f"unknown command {command!r}"}
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()
        if command == "exit":
            return


if __name__ == "__main__":
    main()
