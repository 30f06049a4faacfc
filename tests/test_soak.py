"""The long soak, on demand only: ``pytest -m soak -s`` (ETIU_SOAK_ROUNDS sets its length).

Round after round, the real worker runs as a process against one demo instance that answers 20%
of requests with a 429, a 5xx, a dropped connection, an answer lost after the write was applied,
or a write that does not save, and a third of the runs are killed with SIGKILL at a random
request. Between rounds a person now and then moves a date on one ticket or deletes a ticket the
worker created. Then the faults stop, the worker converges, and the instance must be what an
uninterrupted, fault-free run leaves when the same person does the same things: no duplicate
ticket or note, nothing left pending. It prints how many cycles, faults, kills and edits it survived.
"""

from __future__ import annotations

import os
import random
import signal
from datetime import datetime, timedelta, timezone

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


TICKETS = "u_etiu_ticket"


def person_actions(today) -> list[tuple[str, ...]]:
    """What the person does, in order: move a BP date on one ticket, or delete a ticket."""
    later = [(today + timedelta(days=days)).isoformat() for days in (31, 33, 35)]
    return [("bp", "ENG-ACME", "ETIU01", later[0]), ("delete", "ENG-VANDELAY", "SUPPORT_WEEK"),
            ("bp", "ENG-GLOBEX", "ETIU03", later[1]), ("bp", "ENG-INITECH", "ETIU02", later[2])]


def act(sb, action: tuple[str, ...]) -> None:
    kind, engagement, code, *value = action
    [ticket] = sb.store.query(TICKETS, f"correlation_id={engagement}^u_etiu_code={code}")
    if kind == "delete":
        sb.store.delete(TICKETS, ticket["sys_id"])
        return
    head, _, tail = ticket["short_description"].partition("BP: ")
    sb.store.update(TICKETS, ticket["sys_id"], {"short_description": f"{head}BP: {value[0]}{tail[10:]}"})


def converge_in_process(settings) -> None:
    while run_cycle(settings).report.plan.writes:
        pass


def clean_reference(today, tmp_path, actions):
    sb = seeded_sandbox(today)
    try:
        settings = in_process_settings(sb, tmp_path / "reference")
        converge_in_process(settings)
        for action in actions:
            act(sb, action)
            converge_in_process(settings)
        return snapshot(sb)
    finally:
        sb.stop()


def test_soak_under_faults_and_kills_ends_like_a_clean_run(tmp_path):
    today = datetime.now(timezone.utc).date()
    actions = person_actions(today)
    reference = clean_reference(today, tmp_path, actions)
    every = max(ROUNDS // (len(actions) + 1), 1)
    pending_actions_of_person = list(actions)
    chance = random.Random(int(os.environ.get("ETIU_SOAK_SEED", "1")))
    sb = seeded_sandbox(today)
    state = tmp_path / "state"
    env = worker_env(sb, state, SERVICENOW__MAX_BACKOFF="0.05")
    cycles = kills = faults = 0
    try:
        for round_number in range(ROUNDS):
            sb.faults = recorded = RecordedFaults.realistic(0.2, seed=round_number)
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
            if round_number % every == every - 1 and pending_actions_of_person:
                act(sb, pending_actions_of_person.pop(0))
        for action in pending_actions_of_person:  # a short soak: the rest of what the person does
            act(sb, action)
        sb.faults = Faults()
        for _ in range(6):
            cycles += 1
            if "0 writes" in run_worker(env, "run", "--once").stderr:
                break
        after = snapshot(sb)
        assert not after.duplicate_notes, after.duplicate_notes
        assert_same_instance(after, reference, ignore_rules=("write_verification",))
        assert not pending_actions(state)
    finally:
        sb.stop()
    print(f"\nsoak: survived {cycles} cycles, {faults} injected faults, {kills} SIGKILLs and {len(actions)} person edits")
