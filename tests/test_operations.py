"""Running as a service: loop mode, SIGTERM, the metrics file, JSON logs."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from etiu_worker.config import load_settings
from etiu_worker.cycle.runner import demo_settings, run_once
from etiu_worker.sandbox import Sandbox


@pytest.fixture
def sandbox():
    with Sandbox(seed_demo=True).start(port=0) as instance:
        yield instance


def worker_env(sandbox, state: Path, **extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.upper().startswith("ETIU_")}
    env.update(
        ETIU_SERVICENOW__URL=sandbox.url,
        ETIU_SERVICENOW__USER=sandbox.user,
        ETIU_SERVICENOW__PASSWORD=sandbox.password,
        ETIU_STATE__DIR=str(state),
        **extra,
    )
    return env


def read_lines_until(process, predicate, deadline: float) -> list[str]:
    """stderr lines of a running worker until ``predicate(lines)`` holds or the deadline passes."""
    lines: list[str] = []
    while time.monotonic() < deadline and not predicate(lines):
        line = process.stderr.readline()
        if not line:
            break
        lines.append(line)
    return lines


def test_loop_mode_runs_cycles_until_sigterm_then_exits_0_promptly(sandbox, tmp_path):
    env = worker_env(sandbox, tmp_path / "state", ETIU_WORKER__POLL_INTERVAL="0.2")
    process = subprocess.Popen(
        [sys.executable, "-m", "etiu_worker", "--log-format", "json", "run"],
        env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
    )
    try:
        def two_cycles(lines):
            return sum('"cycle finished' in line for line in lines) >= 2

        lines = read_lines_until(process, two_cycles, time.monotonic() + 60)
        assert two_cycles(lines), "".join(lines[-5:])
        sent = time.monotonic()
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
        assert time.monotonic() - sent < 5
    finally:
        process.kill()
        process.wait()
    events = [json.loads(line) for line in lines]
    assert all({"time", "level", "message"} <= event.keys() for event in events)
    assert any(event.get("rule") and event.get("engagement") and event.get("record") for event in events)


def test_metrics_file_parses_as_prometheus_text_with_requests_and_actions(sandbox, tmp_path):
    path = tmp_path / "metrics" / "etiu_worker.prom"
    settings = demo_settings(load_settings(), sandbox.url, sandbox.user, sandbox.password, tmp_path / "state")
    settings = settings.model_copy(update={"worker": settings.worker.model_copy(update={"metrics_path": path})})
    report = run_once(settings)
    families = {family.name: family for family in text_string_to_metric_families(path.read_text())}
    requests = {(s.labels["method"], s.labels["table"]): s.value for s in families["etiu_worker_cycle_requests"].samples}
    assert requests[("GET", "u_etiu_ticket")] >= 1
    assert sum(requests.values()) == sum(report.requests.values())
    actions = sum(s.value for s in families["etiu_worker_cycle_actions"].samples)
    assert actions == len(report.outcomes) > 0
    assert families["etiu_worker_cycle_duration_seconds"].samples[0].value > 0
    assert sum(s.value for s in families["etiu_worker_open_flags"].samples) > 0
    assert "etiu_worker_last_success_timestamp_seconds" in families
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".")], "a temporary file was left behind"


def test_no_metrics_file_is_written_unless_configured(sandbox, tmp_path):
    settings = demo_settings(load_settings(), sandbox.url, sandbox.user, sandbox.password, tmp_path / "state")
    run_once(settings)
    assert not list(tmp_path.rglob("*.prom"))


def run_in_pseudo_terminal(argv: list[str], env: dict[str, str], timeout: float = 60) -> str:
    """Run a command with a pseudo-terminal as its stdout and stderr; return what it printed."""
    import pty
    import select

    leader, follower = pty.openpty()
    process = subprocess.Popen(argv, env=env, stdout=follower, stderr=follower, stdin=subprocess.DEVNULL)
    os.close(follower)
    chunks, deadline = [], time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([leader], [], [], 0.5)
            if ready:
                try:
                    data = os.read(leader, 65536)
                except OSError:  # the child closed the terminal
                    break
                if not data:
                    break
                chunks.append(data)
            elif process.poll() is not None:
                break
    finally:
        process.kill()
        process.wait()
        os.close(leader)
    return b"".join(chunks).decode(errors="replace")


def test_a_long_read_shows_a_progress_bar_on_a_terminal_and_nothing_when_piped(sandbox, tmp_path):
    sandbox.faults.latency = 0.03  # about 30 pages per table at page size 2: long enough to draw
    command = [sys.executable, "-m", "etiu_worker", "run", "--once"]
    env = worker_env(sandbox, tmp_path / "tty", ETIU_SERVICENOW__PAGE_SIZE="2", TERM="xterm", COLUMNS="120")
    on_terminal = run_in_pseudo_terminal(command, env)
    assert "reading u_etiu_ticket" in on_terminal
    env = worker_env(sandbox, tmp_path / "pipe", ETIU_SERVICENOW__PAGE_SIZE="2")
    piped = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert "reading u_etiu_ticket" not in piped.stdout + piped.stderr
    assert "━" not in piped.stderr
