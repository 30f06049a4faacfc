"""The worker killed with SIGKILL in the middle of a cycle, then run again from cron.

Each test runs ``etiu-worker run --once`` as a real process against a sandbox started in the test,
kills it at a chosen request (the sandbox holds that request at its door, so the kill lands exactly
there, and then serves it or drops it), and runs ``run --once`` twice more. The instance must end
as an uninterrupted run leaves it: same records, same notes, no ticket or note twice, and nothing
left pending in the journal. Beside those: two runs started together on one state folder (the
lock lets one through), and a run on an instance already in line (no write, one read per table).

The worker runs on the real clock here; the sandboxes are seeded for today (UTC), and the
reference run is made on an identically seeded sandbox a few seconds earlier.
"""

from __future__ import annotations

import signal
from dataclasses import dataclass
from datetime import date, datetime, timezone

import pytest

from etiu_worker.sandbox import Faults

from safety_helpers import (
    CYCLE_TABLES,
    SUBPROCESS_TIMEOUT,
    WRITE_METHODS,
    HoldRequest,
    RequestLog,
    Snapshot,
    assert_same_instance,
    describe,
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
    write_requests,
)

LATENCY = 0.005  # seconds per request: the cycle takes a while, as over a real network


@dataclass(frozen=True)
class Reference:
    today: date
    snapshot: Snapshot
    first_cycle: list[str]  # the method of each request of the first cycle, in order

    def request_number(self, point: str) -> int:
        """1-based position, in the first cycle, of the request named by ``point``."""
        writes = [i for i, method in enumerate(self.first_cycle, 1) if method in WRITE_METHODS]
        return {
            "first write": writes[0],
            "ticket create": next(i for i, method in enumerate(self.first_cycle, 1) if method == "POST"),
            "middle write": writes[len(writes) // 2],
            "last write": writes[-1],
            "read-back": writes[-1] + 1,
        }[point]


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Reference:
    """An uninterrupted run on today's demo instance, until a cycle has nothing to do."""
    today = datetime.now(timezone.utc).date()
    sb = seeded_sandbox(today)
    try:
        sb.faults = log = RequestLog()
        settings = in_process_settings(sb, tmp_path_factory.mktemp("reference") / "state")
        first = run_cycle(settings)
        assert first.exit_code == 0 and first.report.plan.writes
        first_cycle = list(log.methods)
        assert "POST" in first_cycle, "the demo no longer creates a ticket: pick another kill point"
        second = run_cycle(settings)
        assert second.exit_code == 0 and not second.report.plan.writes, "a clean run does not converge in one cycle"
        return Reference(today, snapshot(sb), first_cycle)
    finally:
        sb.stop()


@pytest.fixture
def sandbox(reference):
    sb = seeded_sandbox(reference.today)
    yield sb
    sb.stop()


def assert_converged_like(sb, state, reference) -> None:
    after = snapshot(sb)
    assert not after.duplicate_notes, f"notes posted twice: {after.duplicate_notes}"
    # The demo seeds one engagement with two ETIU02 on purpose: only the worker's own count here.
    assert after.tickets_per_code == reference.snapshot.tickets_per_code, "a ticket was created twice (or not at all)"
    assert_same_instance(after, reference.snapshot)
    assert not pending_actions(state), "actions left pending after the rerun"


@pytest.mark.parametrize(("point", "lands"), [
    ("first write", True),
    ("ticket create", True),   # the ticket exists, the worker never learnt its number
    ("middle write", False),   # the write never reached the instance
    ("read-back", True),       # every write landed, none was recorded
])
def test_a_worker_killed_mid_cycle_and_run_again_ends_like_an_uninterrupted_run(sandbox, reference, tmp_path, point, lands):
    sb, state = sandbox, tmp_path / "state"
    env = worker_env(sb, state)
    n = reference.request_number(point)
    writes_before_kill = sum(method in WRITE_METHODS for method in reference.first_cycle[:n])
    sb.faults = hold = HoldRequest(n, lands=lands, latency=LATENCY).watch(sb)

    worker = start_worker(env, "run", "--once")
    try:
        wait_for(lambda: (write_requests(sb) >= writes_before_kill and hold.holding.is_set()) or worker.poll() is not None,
                 timeout=SUBPROCESS_TIMEOUT, what=f"the worker's request #{n} ({point})")
        ended_early = worker.poll()
    finally:
        killed = kill_and_reap(worker)
        hold.release()
    assert ended_early is None, f"the worker ended before request #{n}: exit {ended_early}"
    assert killed == -signal.SIGKILL
    # Writes go from several threads: others than the held one may have reached the instance too.
    assert write_requests(sb) >= writes_before_kill
    if lands and reference.first_cycle[n - 1] in WRITE_METHODS:
        assert hold.landed.wait(10), "the held write never reached the instance"
    assert pending_actions(state), "the killed run recorded nothing as pending"

    sb.faults = Faults()  # nothing held from here on
    first, second = run_worker(env, "run", "--once"), run_worker(env, "run", "--once")

    assert first.returncode == 0, describe(first)
    assert "settled" in first.stderr, "the rerun did not say it settled the interrupted run's actions"
    assert second.returncode == 0, describe(second)
    assert_converged_like(sb, state, reference)


def test_two_runs_started_together_on_one_state_folder_never_write_twice(sandbox, reference, tmp_path):
    sb, state = sandbox, tmp_path / "state"
    env = worker_env(sb, state)
    # The first write waits at the door until the test lets it in: whichever run holds the state
    # folder's lock is still in its cycle when the other one gets there.
    sb.faults = hold = HoldRequest(reference.request_number("first write"), latency=LATENCY)

    runs = [start_worker(env, "run", "--once") for _ in range(2)]
    try:
        wait_for(lambda: any(run.poll() is not None for run in runs), timeout=SUBPROCESS_TIMEOUT,
                 what="one of the two runs to give up")
        hold.release()
        outputs = [run.communicate(timeout=SUBPROCESS_TIMEOUT) for run in runs]
    finally:
        hold.release()
        for run in runs:
            if run.poll() is None:
                kill_and_reap(run)
    codes = sorted(run.returncode for run in runs)

    assert codes == [0, 5], outputs
    assert any("holds" in err and "lock" in err for _, err in outputs), outputs
    again = run_worker(env, "run", "--once")
    assert again.returncode == 0, describe(again)
    assert_converged_like(sb, state, reference)


def test_a_run_on_an_instance_already_in_line_writes_nothing_and_reads_each_table_once(sandbox, reference, tmp_path):
    sb, state = sandbox, tmp_path / "state"
    settings = in_process_settings(sb, state)
    for _ in range(2):
        assert run_cycle(settings).exit_code == 0
    sb.reset_requests()

    result = run_worker(worker_env(sb, state), "run", "--once")

    assert result.returncode == 0, describe(result)
    assert dict(sb.requests) == {("GET", table): 1 for table in CYCLE_TABLES}
    assert_converged_like(sb, state, reference)
