"""Incremental evaluation plans exactly what a full evaluation plans, over random histories.

Two sandboxes seeded alike with the five shipped packs' demo engagements (deterministic sys_ids),
two state folders: one worker evaluates incrementally, the other evaluates every engagement every
cycle (``state.full_evaluation_hours = 0``). One clock for both, moved by the test. Each history
(a fixed seed, so CI is reproducible) is a sequence of steps; a step edits random fields of random
records the same way on both instances, as a person would (a state, a short description with its
dates, a planned date: a value another record of the table holds, or a date moved by days), moves
the clock forward by minutes, hours or days (across named dates, due times and midnights), and
runs one cycle on each. The writes the two cycles planned must be the same, and so must the two
instances afterwards.
"""

from __future__ import annotations

import os
import random
import re
from datetime import datetime, timedelta, timezone

import pytest

from etiu_worker.cycle import engine
from etiu_worker.state import journal as journal_module

from safety_helpers import FIXED_MOMENT, MovedClock, run_cycle
from test_faults_all_packs import TABLES, mix_sandbox, mix_settings, mix_snapshot

# Three histories keep CI near two minutes; ETIU_INCREMENTAL_SEEDS=12 runs twelve (all pass).
SEEDS = range(int(os.environ.get("ETIU_INCREMENTAL_SEEDS", "3")))
STEPS = 8
MOVES = (timedelta(minutes=10), timedelta(minutes=50), timedelta(hours=3), timedelta(hours=9),
         timedelta(days=1), timedelta(days=2, hours=5), timedelta(days=6))
EDITED_FIELDS = re.compile(r"^(state|short_description|start_date|end_date|u_.*|work_start|closed_at|"
                           r"close_code|correlation_id|service|due_date)$")
PERSON = "dana.coordinator"
_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}( \d{2}:\d{2}(:\d{2})?)?")


def planned(cycle, seeded: frozenset[str]) -> list[tuple]:
    """What a cycle planned to write, as (table, record, fields, note reference, kind), sorted; a
    record the worker created is named by its number (its sys_id differs between instances)."""
    assert cycle.report is not None, f"the cycle stopped: {cycle.error}"
    return sorted((w.table, w.sys_id if w.sys_id in seeded or not w.sys_id else f"created {w.number}",
                   tuple(sorted(w.fields.items())), w.note_ref, w.kind, w.engagement) for w in cycle.report.plan.writes)


def edit(rng: random.Random, instances, clock: MovedClock) -> None:
    """One person's edit, the same on every instance."""
    store = instances[0].sandbox.store
    table = rng.choice(TABLES)
    # The seeded records only: a record a worker created has a sys_id of its own on each instance.
    records = sorted((r for r in store.query(table) if r["sys_id"] in instances[0].seeded), key=lambda r: r["sys_id"])
    if not records:
        return
    record = rng.choice(records)
    fields = sorted(name for name in record if EDITED_FIELDS.match(name))
    if not fields:
        return
    name = rng.choice(fields)
    value = _new_value(rng, name, record.get(name), [other.get(name) for other in records])
    for mix in instances:
        mix.sandbox.store.update(table, record["sys_id"], {name: value}, user=PERSON)


def _new_value(rng: random.Random, name: str, current, others):
    text = current if isinstance(current, str) else ""
    if text and _DATETIME.search(text) and rng.random() < 0.5:
        return _moved_dates(text, timedelta(days=rng.choice((-3, -1, 1, 2, 7))))
    choices = sorted({value for value in others if isinstance(value, str) and value != current})
    return rng.choice(choices) if choices else current


def _moved_dates(text: str, by: timedelta) -> str:
    def moved(found: re.Match) -> str:
        value = found.group(0)
        shape = {10: "%Y-%m-%d", 16: "%Y-%m-%d %H:%M", 19: "%Y-%m-%d %H:%M:%S"}[len(value)]
        return (datetime.strptime(value, shape) + by).strftime(shape)
    return _DATETIME.sub(moved, text)


def _differ(seed: int, step: int, clock: MovedClock, one, other, seeded) -> str:
    incremental, full = set(planned(one, seeded)), set(planned(other, seeded))
    return (f"seed {seed}, step {step} at {clock.at}: the plans differ\n  only incremental: {sorted(incremental - full)}"
            f"\n  only full: {sorted(full - incremental)}\n  evaluated: {one.report.plan.evaluated}")


@pytest.mark.expected_errors("skipped")
@pytest.mark.parametrize("seed", SEEDS)
def test_incremental_and_full_evaluation_plan_the_same_writes_over_a_random_history(monkeypatch, tmp_path, seed):
    clock = MovedClock(FIXED_MOMENT)
    monkeypatch.setattr(engine, "now", clock)
    monkeypatch.setattr(journal_module, "now", clock)
    instances = [mix_sandbox(FIXED_MOMENT.date()), mix_sandbox(FIXED_MOMENT.date())]
    try:
        for mix in instances:
            mix.sandbox.store.now = clock
        incremental = mix_settings(instances[0].sandbox, tmp_path / "incremental")
        full = mix_settings(instances[1].sandbox, tmp_path / "full")
        full = full.model_copy(update={"state": full.state.model_copy(update={"full_evaluation_hours": 0})})
        rng = random.Random(seed)
        skipped = 0
        for step in range(STEPS):
            for _ in range(rng.choice((0, 1, 1, 2))):
                edit(rng, instances, clock)
            clock.at += rng.choice(MOVES) if step else timedelta()
            one, other = run_cycle(incremental), run_cycle(full)
            seeded = instances[0].seeded
            assert planned(one, seeded) == planned(other, seeded), _differ(seed, step, clock, one, other, seeded)
            assert one.exit_code == other.exit_code
            skipped += one.report.plan.total - len(one.report.plan.evaluated)
            assert mix_snapshot(instances[0]) == mix_snapshot(instances[1]), f"seed {seed}, step {step}: the instances differ"
        assert skipped, "incremental evaluation never skipped an engagement: the comparison proves nothing"
    finally:
        for mix in instances:
            mix.sandbox.stop()
