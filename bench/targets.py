"""The targets of issue 13 ("Cost near the floor"), each judged PASS or FAIL on the run's figures.

Request counts are judged at every size; CPU, wall time and memory at the sizes the issue names
(a size not run shows ``n/a``). What is counted:

* worker CPU: ``time.process_time()`` of ``runner.run_once`` in the worker's process: everything
  the cycle does (reading, building and evaluating engagements, the journal, writing, reading
  back), nothing excluded. Per write: the cold cycle's CPU over its write requests.
* 1% edited: the cycle's CPU against 1 s plus 1.5 ms per write request it sent ("1 s of CPU plus
  its writes").
* writes equal the floor: write requests (POST, PATCH) against the distinct records written (one
  write per record that must change).
* peak memory: ``ru_maxrss`` of the worker's process over all its cycles.
"""

from __future__ import annotations

import math

from bench.results import JOURNAL, READ_BACK_BATCH, Cycle, Results, SizeResult, Target, short_name

QUIET = "quiet cycle: one list request per table, no writes"
COLD_WRITES = "cold cycle: writes = the floor (records that must change)"
COLD_LISTS = "cold cycle: list reads <= floor + 1 per table"
READ_BACKS = "{} cycle: read-backs <= 1 per table per 100 written records"
FRESHNESS = "cold cycle: freshness checks <= 1 per table per 100 written records"
LOST = "state folder lost: nothing written again; note look-ups <= 1 per table per 100 records"
CPU_PER_WRITE = "cold cycle: worker CPU per write"
QUIET_CPU = "quiet cycle: worker CPU"
EDITED_CPU = "1% edited: worker CPU"
COLD_WALL = "cold cycle: wall time at 20 ms latency"
PEAK = "peak memory (worker ru_maxrss)"
CPU_PER_WRITE_MS = 1.5
CPU_PER_WRITE_FROM = 5000  # below, the cycle's fixed costs (loading packs, templates) dominate
QUIET_CPU_LIMITS = {5000: 0.5, 20000: 1.0}  # seconds
EDITED_AT, EDITED_CPU_LIMIT = 5000, 1.0
COLD_WALL_AT, COLD_WALL_LIMIT, COLD_WALL_LATENCY = 5000, 60.0, 0.02
PEAK_LIMITS = {5000: 200, 20000: 600}  # MB
NAMES = (QUIET, COLD_WRITES, COLD_LISTS, READ_BACKS.format("cold"), FRESHNESS, READ_BACKS.format("1% edited"),
         LOST, CPU_PER_WRITE, QUIET_CPU, EDITED_CPU, COLD_WALL, PEAK)


def evaluate(results: Results) -> list[Target]:
    targets: list[Target] = []
    for size in results.sizes:
        targets += _counts(size)
    for workload in dict.fromkeys(size.workload for size in results.sizes):
        by_n = {size.n: size for size in results.sizes if size.workload == workload}
        found = [*_quiet_cpu(by_n), _edited_cpu(by_n), _cold_wall(by_n), *_peaks(by_n)]
        targets += [_in(target, workload) for target in found]
    return targets


def _in(target: Target, workload: str) -> Target:
    target.workload = workload
    return target


def _counts(size: SizeResult) -> list[Target]:
    cold = size.cycles["cold"]
    found = [_quiet(size), _cold_writes(cold), _cold_lists(size), _batched(READ_BACKS.format("cold"), cold, "read_backs"),
             _batched(FRESHNESS, cold, "freshness"), _batched(READ_BACKS.format("1% edited"), size.cycles["edited"],
                                                              "read_backs"),
             _state_lost(size), _cpu_per_write(size)]
    for target in found:
        target.n, target.workload = size.n, size.workload
    return found


def _quiet(size: SizeResult) -> Target:
    quiet = size.cycles["unchanged"]
    lists = quiet.lists()
    others = quiet.total - sum(lists.values())
    ok = all(count == 1 for count in lists.values()) and others == 0 and quiet.writes == 0
    why = "" if all(count == 1 for count in lists.values()) else \
        f"rows read {_slash(quiet.data['rows_read'], quiet.tables)}"
    return Target(QUIET, size.n, f"{_slash(lists, quiet.tables)} lists, {others} other requests, {quiet.writes} writes",
                  f"{_slash(dict.fromkeys(quiet.tables, 1), quiet.tables)}, 0, 0", ok, why)


def _cold_writes(cold: Cycle) -> Target:
    return Target(COLD_WRITES, None, f"{cold.writes:,} writes", f"{cold.written_records:,} records",
                  cold.writes == cold.written_records, f"{cold.data['writes']:,} actions")


def _cold_lists(size: SizeResult) -> Target:
    cold = size.cycles["cold"]
    floor, lists = cold.floor_reads(size.page_size), cold.lists()
    return Target(COLD_LISTS, None, _slash(lists, cold.tables),
                  f"<= {_slash({table: floor[table] + 1 for table in cold.tables}, cold.tables)}",
                  all(lists[table] <= floor[table] + 1 for table in cold.tables))


def _batched(name: str, cycle: Cycle, kind: str) -> Target:
    done, allowance = getattr(cycle, kind)(), cycle.batch_allowance()
    tables = [table for table in (*cycle.tables, JOURNAL) if table in done or allowance.get(table)]
    return Target(name, None, _named(done, tables), _named(allowance, tables),
                  all(done.get(table, 0) <= allowance.get(table, 0) for table in done),
                  f"{cycle.written_records:,} records written, {cycle.data['noted_records']:,} with a note")


def _state_lost(size: SizeResult) -> Target:
    lost = size.cycles["state lost"]
    lookups = lost.reads("lookup")
    allowance = sum(math.ceil(count / READ_BACK_BATCH) for count in size.rows.values())
    return Target(LOST, None, f"{lost.writes:,} writes, {lookups:,} look-ups", f"0 writes, <= {allowance:,} look-ups",
                  lost.writes == 0 and lookups <= allowance)


def _cpu_per_write(size: SizeResult) -> Target:
    cold = size.cycles["cold"]
    per_write = cold.cpu / cold.writes * 1000 if cold.writes else 0.0
    judged = size.n >= CPU_PER_WRITE_FROM
    return Target(CPU_PER_WRITE, None, f"{per_write:.2f} ms ({cold.cpu:.1f} s / {cold.writes:,} writes)",
                  f"< {CPU_PER_WRITE_MS:g} ms", per_write < CPU_PER_WRITE_MS if judged else None,
                  "" if judged else f"judged from {CPU_PER_WRITE_FROM:,}: fixed costs dominate below")


def _quiet_cpu(by_n: dict[int, SizeResult]) -> list[Target]:
    return [_at(by_n, n, QUIET_CPU, f"< {limit:g} s", lambda size: size.cycles["unchanged"].cpu,
                lambda cpu, limit=limit: (f"{cpu:.2f} s", cpu < limit)) for n, limit in QUIET_CPU_LIMITS.items()]


def _edited_cpu(by_n: dict[int, SizeResult]) -> Target:
    size = by_n.get(EDITED_AT)
    shown = f"< {EDITED_CPU_LIMIT:g} s + {CPU_PER_WRITE_MS:g} ms per write"
    limit = EDITED_CPU_LIMIT
    if size:
        writes = size.cycles["edited"].writes
        limit += writes * CPU_PER_WRITE_MS / 1000
        shown = f"< {EDITED_CPU_LIMIT:g} s + {writes:,} writes x {CPU_PER_WRITE_MS:g} ms = {limit:.2f} s"
    return _at(by_n, EDITED_AT, EDITED_CPU, shown, lambda size: size.cycles["edited"].cpu,
               lambda cpu: (f"{cpu:.2f} s", cpu < limit))


def _cold_wall(by_n: dict[int, SizeResult]) -> Target:
    target = _at(by_n, COLD_WALL_AT, COLD_WALL, f"< {COLD_WALL_LIMIT:g} s", lambda size: size.cycles["cold"],
                 lambda cold: (f"{cold.data['wall']:.1f} s", cold.data["wall"] < COLD_WALL_LIMIT))
    size = by_n.get(COLD_WALL_AT)
    if size and not math.isclose(size.cycles["cold"].latency, COLD_WALL_LATENCY):
        target.ok, target.why = None, f"run at {size.cycles['cold'].latency * 1000:g} ms"
    return target


def _peaks(by_n: dict[int, SizeResult]) -> list[Target]:
    return [_at(by_n, n, PEAK, f"< {limit} MB", lambda size: size.peak_mb,
                lambda peak, limit=limit: (f"{peak:.0f} MB", peak < limit)) for n, limit in PEAK_LIMITS.items()]


def _at(by_n: dict[int, SizeResult], n: int, name: str, limit: str, figure, judge) -> Target:
    size = by_n.get(n)
    if size is None:
        return Target(name, n, "not run", limit, None)
    shown, ok = judge(figure(size))
    return Target(name, n, shown, limit, ok)


def _slash(counts: dict[str, int], tables: tuple[str, ...]) -> str:
    return " / ".join(f"{counts.get(table, 0):,}" for table in tables)


def _named(counts: dict[str, int], tables: list[str]) -> str:
    return ", ".join(f"{short_name(table)} {counts.get(table, 0):,}" for table in tables) or "none"
