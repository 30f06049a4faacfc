"""The long soak, on demand only: ``pytest -m soak -s`` (ETIU_SOAK_ROUNDS sets its length).

Round after round, the real worker runs as a process against one demo instance that answers 20%
of requests with a 429, a 5xx, a dropped connection or a write that does not save, and a third of
the runs are killed with SIGKILL at a random request. Then the faults stop, the worker converges,
and the instance must be what an uninterrupted, fault-free run leaves: no duplicate ticket or
note, nothing left pending. It prints how many cycles, faults and kills it survived.
"""

from __future__ import annotations

import os
import random
import signal
from datetime import datetime, timezone

import pytest

from etiu_worker.sandbox import Faults

from safety_helpers import (
    RecordedFaults,
    assert_same_instance,
    in_process_settings,
    kill_and_reap,
    pending_actions,
    run_cycle,
    run_worker,
    seeded_sandbox,
    snapshot,
    start_worker,
    wait_for,
    worker_env,
)

pytestmark = pytest.mark.soak
ROUNDS = int(os.environ.get("ETIU_SOAK_ROUNDS", "40"))


def clean_reference(today, tmp_path):
    sb = seeded_sandbox(today)
    try:
        settings = in_process_settings(sb, tmp_path / "reference")
        while run_cycle(settings).report.plan.writes:
            pass
        return snapshot(sb)
    finally:
        sb.stop()


def test_soak_under_faults_and_kills_ends_like_a_clean_run(tmp_path):
    today = datetime.now(timezone.utc).date()
    reference = clean_reference(today, tmp_path)
    chance = random.Random(int(os.environ.get("ETIU_SOAK_SEED", "1")))
    sb = seeded_sandbox(today)
    state = tmp_path / "state"
    env = worker_env(sb, state, SERVICENOW__MAX_BACKOFF="0.05")
    cycles = kills = faults = 0
    try:
        for round_number in range(ROUNDS):
            sb.faults = recorded = RecordedFaults.mixed(0.2, seed=round_number)
            if chance.random() < 1 / 3:
                target = sum(sb.requests.values()) + chance.randint(1, 40)
                worker = start_worker(env, "run", "--once")
                wait_for(lambda: sum(sb.requests.values()) >= target or worker.poll() is not None,
                         timeout=120, what=f"request #{target}")
                kills += kill_and_reap(worker) == -signal.SIGKILL
            else:
                result = run_worker(env, "run", "--once")
                assert result.returncode in (0, 1, 4), result.stderr[-2000:]
            cycles += 1
            faults += len(recorded.inflicted)
        sb.faults = Faults()
        for _ in range(4):
            cycles += 1
            if "0 writes" in run_worker(env, "run", "--once").stderr:
                break
        after = snapshot(sb)
        assert not after.duplicate_notes, after.duplicate_notes
        assert_same_instance(after, reference, ignore_rules=("write_verification",))
        assert not pending_actions(state)
    finally:
        sb.stop()
    print(f"\nsoak: survived {cycles} cycles, {faults} injected faults and {kills} SIGKILLs")
