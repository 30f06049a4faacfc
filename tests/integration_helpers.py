"""Shared by the integration tests: the worker as a subprocess, against a sandbox started in the test.

Every subprocess gets a hand-built environment (PATH, HOME, the ETIU_* settings a test passes, and
a wide terminal so that rich does not fold table cells) and its own state folder; nothing
``ETIU_*`` leaks in from the developer's shell.
"""

from __future__ import annotations

import re
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from etiu_worker.sandbox import Faults, Sandbox

REPO = Path(__file__).resolve().parents[1]
SHIPPED_PACK = REPO / "packs" / "etiu"
SHIPPED_RULES = SHIPPED_PACK / "rules"
TICKETS, CHANGES, CTASKS = "u_etiu_ticket", "change_request", "change_task"
CYCLE_TABLES = (TICKETS, CHANGES, CTASKS)
JOURNAL_FIELDS = ("work_notes", "comments")
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

# Distinctive enough that finding it anywhere can only mean it leaked.
PASSWORD = "Zq7-hunter2-NEVER-PRINT-9d41"
TIMEOUT = 60  # seconds: a bound for any one subprocess, far above what a healthy one takes


@pytest.fixture
def sandbox():
    """The demo instance on a free loopback port, with a password the tests can look for."""
    with Sandbox(seed_demo=True, password=PASSWORD).start(port=0) as instance:
        yield instance


def copy_pack(tmp_path: Path) -> Path:
    """A copy of the shipped etiu pack (pack.toml, rules/, templates/, fixtures/) in tmp_path/etiu."""
    folder = tmp_path / "etiu"
    shutil.copytree(SHIPPED_PACK, folder)
    return folder


def base_env(tmp_path: Path) -> dict[str, str]:
    """PATH and HOME only (HOME inside tmp_path, so the default state folder is isolated too)."""
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        # Tables are printed only when every row fits on one line, else one record per line; these
        # tests read the tables, so the "terminal" is wide. A pipe without COLUMNS counts as 80.
        "COLUMNS": "400",
        "PYTHONIOENCODING": "utf-8",
    }


def worker_env(tmp_path: Path, sandbox: Sandbox | None = None, *, url: str | None = None,
               user: str | None = None, password: str | None = PASSWORD,
               **settings: str) -> dict[str, str]:
    """The environment of a worker pointed at ``sandbox`` (or ``url``), state in tmp_path/state.

    Extra keyword arguments are settings: ``SERVICENOW__MAX_ATTEMPTS="2"`` becomes
    ``ETIU_SERVICENOW__MAX_ATTEMPTS=2``.
    """
    env = base_env(tmp_path)
    env["ETIU_STATE__DIR"] = str(state_dir(tmp_path))
    if sandbox is not None or url is not None:
        env["ETIU_SERVICENOW__URL"] = url or sandbox.url  # type: ignore[union-attr]
        env["ETIU_SERVICENOW__USER"] = user or (sandbox.user if sandbox else "etiu.worker")
    if password is not None:
        env["ETIU_SERVICENOW__PASSWORD"] = password
    for key, value in settings.items():
        env[f"ETIU_{key.upper()}"] = value
    return env


def state_dir(tmp_path: Path) -> Path:
    return tmp_path / "state"


def etiu(args: Sequence[str], env: Mapping[str, str], *, cwd: Path | None = None,
         timeout: float = TIMEOUT) -> subprocess.CompletedProcess[str]:
    """Run ``python -m etiu_worker ARGS`` to completion and return its exit code and output."""
    return subprocess.run(
        [sys.executable, "-m", "etiu_worker", *args],
        env=dict(env), cwd=cwd, capture_output=True, text=True, encoding="utf-8", timeout=timeout,
    )


def start_etiu(args: Sequence[str], env: Mapping[str, str], *, cwd: Path | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "etiu_worker", *args],
        env=dict(env), cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, encoding="utf-8",
    )


def first_line(process: subprocess.Popen[str], *, timeout: float = TIMEOUT) -> str:
    """The first line ``process`` prints, or a failure after ``timeout`` seconds (no hanging test)."""
    line: list[str] = []
    reader = threading.Thread(target=lambda: line.append(process.stdout.readline()), daemon=True)  # type: ignore[union-attr]
    reader.start()
    reader.join(timeout)
    if not line:
        raise AssertionError(f"no line from {process.args} within {timeout}s")
    return line[0]


def output(result: subprocess.CompletedProcess[str]) -> str:
    return result.stdout + result.stderr


def describe(result: subprocess.CompletedProcess[str]) -> str:
    """For assertion messages: the exit code and what the process printed."""
    return f"exit {result.returncode}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"


def writes(sandbox: Sandbox) -> dict[tuple[str, str], int]:
    return {key: count for key, count in sandbox.requests.items() if key[0] in WRITE_METHODS}


def table_rows(text: str) -> list[list[str]]:
    """The rows of the rich tables in ``text``, each a list of stripped cells.

    A row whose text was folded over several lines is joined back into one row.
    """
    rows: list[list[str]] = []
    for line in text.splitlines():
        if not line.startswith("│"):
            continue
        cells = [cell.strip() for cell in line.strip().strip("│").split("│")]
        if rows and not cells[0]:
            rows[-1] = [f"{old} {new}".strip() for old, new in zip(rows[-1], cells)]
        else:
            rows.append(cells)
    return rows


def cycle_rows(text: str) -> list[dict[str, str]]:
    """The rows of the "What the worker did / would do" table, by column name."""
    columns = ("engagement", "record", "number", "rule", "action", "change", "outcome")
    return [dict(zip(columns, row)) for row in table_rows(text) if len(row) == len(columns)]


def wait_for(condition, *, timeout: float, what: str, interval: float = 0.02) -> None:
    """Poll ``condition`` until it holds; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


class GatedFaults(Faults):
    """Faults that hold every request at the door until ``release()``: a deterministic slow instance.

    Sandbox.faults.latency adds a fixed delay; a gate instead keeps the instance busy exactly as
    long as the test needs, without guessing a duration.
    """

    def __init__(self, hold_for_at_most: float = TIMEOUT) -> None:
        super().__init__()
        self._open = threading.Event()
        self._limit = hold_for_at_most
        self.waiting = threading.Semaphore(0)  # released once per request that reached the gate

    def next_fault(self, method: str):  # type: ignore[override]
        self.waiting.release()
        self._open.wait(self._limit)
        return super().next_fault(method)

    def release(self) -> None:
        self._open.set()


@pytest.fixture
def used_state(tmp_path, sandbox):
    """The worker's environment after one run: a state folder with a journal and a cache."""
    env = worker_env(tmp_path, sandbox)
    first = etiu(["run", "--once"], env)
    assert first.returncode == 0, describe(first)
    sandbox.reset_requests()
    return env


def error_line(result) -> str:
    """The one ``etiu-worker:`` error line of a run."""
    [line] = [line for line in result.stderr.splitlines() if line.startswith("etiu-worker:")]
    return line


_NOTE_END = re.compile(r"(?<=· ref [0-9a-f]{12})\n\n")


def split_notes(entries: list[str]) -> list[str]:
    """The notes the worker posted, one by one: the notes one request posted on one record share one
    journal entry, joined by a blank line after each one's footer."""
    return [note for entry in entries for note in _NOTE_END.split(entry)]
