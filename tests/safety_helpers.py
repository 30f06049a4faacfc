"""Shared by the safety tests (faults, crashes, hostile input): what the instance looks like, and
ways to run the worker against a sandbox in-process or as a real process.

The central piece is ``snapshot``: an instance's meaningful state, independent of record numbers
and sys_ids, so that two sandboxes seeded the same way can be compared after different histories
(a fault-free run, a run under injected faults, a run killed with SIGKILL and run again).
"""

from __future__ import annotations

import functools
import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time as clock_time, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from etiu_worker.cycle import engine, runner
from etiu_worker.state import journal as journal_module
from etiu_worker.config import load_settings
from etiu_worker.errors import EtiuError
from etiu_worker.state.journal import Journal, JournalEntry
from etiu_worker.cycle.runner import demo_settings, run_once
from etiu_worker.sandbox import Fault, Faults, Sandbox
from etiu_worker.sandbox import store as sandbox_store
from etiu_worker.servicenow.client import ServiceNowClient

from clocked_worker import CLOCK_ENV, clocked_command

TICKETS, CHANGES, CTASKS = "u_etiu_ticket", "change_request", "change_task"
CYCLE_TABLES = (TICKETS, CHANGES, CTASKS)
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
NOTE_FIELDS = frozenset({"work_notes", "comments"})
WRITE_VERIFICATION = "write verification"

# Distinctive enough that finding it anywhere can only mean it leaked.
PASSWORD = "pw-Zq81-secret"
SUBPROCESS_TIMEOUT = 60.0  # seconds: far above what a healthy run takes
FIXED_DAY = date(2026, 10, 14)  # a Wednesday with no holiday near it, for the in-process runs
FIXED_MOMENT = datetime.combine(FIXED_DAY, clock_time(15, 0), timezone.utc)

# Every worker note ends with this line; the reference is what makes a note "the same event".
_FOOTER = re.compile(r"— etiu-worker · (?:rule (?P<rule>[^\s·]+)|(?P<check>write verification)) · ref (?P<ref>[0-9a-f]{12})\s*\Z")

_FOOTER_LINE = re.compile(_FOOTER.pattern.removesuffix(r"\s*\Z") + r"[ \t]*(?:\n\n|\s*\Z)")


# --- the instance's meaningful state -----------------------------------------------------------


@dataclass(frozen=True)
class Snapshot:
    """What a person looking at the instance cares about, without numbers or sys_ids.

    ``records``: each managed record as (identity, values), sorted, duplicates kept.
    ``notes``: per record identity, the sorted (rule, ref) of every worker note on it.
    ``duplicate_notes``: (identity, ref) for every ref posted more than once on one record.
    ``tickets_per_code``: how many tickets each (engagement, code) has.
    """

    records: tuple[tuple[tuple[str, ...], tuple[tuple[str, str], ...]], ...]
    notes: dict[tuple[str, ...], tuple[tuple[str, str], ...]]
    duplicate_notes: tuple[tuple[tuple[str, ...], str], ...]
    tickets_per_code: Counter

    def notes_without(self, *rules: str) -> dict[tuple[str, ...], tuple[tuple[str, str], ...]]:
        """The notes, leaving out those of the given rules (``"write verification"`` flags)."""
        kept = {identity: tuple(note for note in notes if note[0] not in rules) for identity, notes in self.notes.items()}
        return {identity: notes for identity, notes in kept.items() if notes}

    def of_engagements(self, keys: set[str]) -> Snapshot:
        """The part of the snapshot about these engagements only."""
        def mine(identity: tuple[str, ...]) -> bool:
            return identity[1] in keys

        return Snapshot(
            records=tuple(record for record in self.records if mine(record[0])),
            notes={identity: notes for identity, notes in self.notes.items() if mine(identity)},
            duplicate_notes=tuple(dup for dup in self.duplicate_notes if mine(dup[0])),
            tickets_per_code=Counter({key: n for key, n in self.tickets_per_code.items() if key[0] in keys}),
        )


def note_footer(text: str) -> tuple[str, str] | None:
    """(rule, ref) of a worker note, or None for a note a person wrote."""
    match = _FOOTER.search(text or "")
    if match is None:
        return None
    return (match["rule"] or match["check"], match["ref"])


def note_footers(text: str) -> list[tuple[str, str, str]]:
    """(rule, ref, body) of each worker note in a journal entry: the notes one request posted on one
    record share one entry, joined by a blank line, each ending with its footer."""
    notes, start = [], 0
    for match in _FOOTER_LINE.finditer(text or ""):
        notes.append((match["rule"] or match["check"], match["ref"], text[start:match.start()].rstrip("\n")))
        start = match.end()
    return notes


def snapshot(sb: Sandbox) -> Snapshot:
    store = sb.store
    changes = {record["sys_id"]: record for record in store.query(CHANGES)}
    identities: dict[str, tuple[str, ...]] = {}
    records = []
    for record in store.query(TICKETS):
        identity = (TICKETS, record.get("correlation_id", ""), record.get("u_etiu_code", ""))
        identities[record["sys_id"]] = identity
        records.append((identity, _values(record, "state", "short_description")))
    for record in changes.values():
        identity = (CHANGES, record.get("correlation_id", ""))
        identities[record["sys_id"]] = identity
        records.append((identity, _values(record, "state", "short_description", "start_date", "end_date")))
    for record in store.query(CTASKS):
        parent = changes.get(record.get("change_request", ""), {})
        identity = (CTASKS, parent.get("correlation_id", ""), record.get("short_description", ""))
        identities[record["sys_id"]] = identity
        records.append((identity, _values(record, "state")))

    notes: dict[tuple[str, ...], list[tuple[str, str]]] = {}
    per_record: Counter = Counter()
    for entry in store.journal():
        identity = identities.get(entry.get("element_id", ""))
        for rule, ref, _ in note_footers(entry.get("value", "")) if identity is not None else ():
            notes.setdefault(identity, []).append((rule, ref))
            per_record[(entry["element_id"], identity, ref)] += 1
    duplicates = tuple(sorted((identity, ref) for (_, identity, ref), count in per_record.items() if count > 1))
    tickets_per_code = Counter(identity[1:] for identity, _ in records if identity[0] == TICKETS)
    return Snapshot(
        records=tuple(sorted(records)),
        notes={identity: tuple(sorted(found)) for identity, found in notes.items()},
        duplicate_notes=duplicates,
        tickets_per_code=tickets_per_code,
    )


def _values(record: Mapping[str, str], *names: str) -> tuple[tuple[str, str], ...]:
    return tuple((name, record.get(name, "")) for name in names)


def assert_same_instance(actual: Snapshot, expected: Snapshot, *, ignore_rules: Sequence[str] = ()) -> None:
    """The instance holds the same records with the same values and the same worker notes."""
    assert not actual.duplicate_notes, f"notes posted twice: {actual.duplicate_notes}"
    assert actual.tickets_per_code == expected.tickets_per_code, "tickets per (engagement, code) differ"
    missing = sorted(set(expected.records) - set(actual.records))
    extra = sorted(set(actual.records) - set(expected.records))
    assert actual.records == expected.records, f"records differ:\n  expected, not found: {missing}\n  found, not expected: {extra}"
    assert actual.notes_without(*ignore_rules) == expected.notes_without(*ignore_rules), _notes_diff(
        actual.notes_without(*ignore_rules), expected.notes_without(*ignore_rules))


def _notes_diff(actual: Mapping, expected: Mapping) -> str:
    lines = ["worker notes differ:"]
    for identity in sorted(set(actual) | set(expected)):
        if actual.get(identity) != expected.get(identity):
            lines.append(f"  {identity}: expected {expected.get(identity)}, found {actual.get(identity)}")
    return "\n".join(lines)


def write_requests(sb: Sandbox) -> int:
    return sum(count for (method, _), count in sb.requests.items() if method in WRITE_METHODS)


# --- sandboxes ---------------------------------------------------------------------------------


@contextmanager
def deterministic_ids(namespace: str = "etiu-safety") -> Iterator[None]:
    """sys_ids drawn from a counter while the block runs: two sandboxes seeded in such a block hold
    the same records under the same sys_ids (note references of per-record flags include them)."""
    counter = iter(range(1, 10**9))
    original = sandbox_store.uuid
    sandbox_store.uuid = SimpleNamespace(uuid4=lambda: uuid.uuid5(uuid.NAMESPACE_URL, f"{namespace}/{next(counter)}"))
    try:
        yield
    finally:
        sandbox_store.uuid = original


def seeded_sandbox(today: date, *, arrange: Callable[[Sandbox], object] | None = None,
                   password: str = PASSWORD) -> Sandbox:
    """A started demo sandbox seeded for ``today``; ``arrange`` adds records with stable sys_ids."""
    with deterministic_ids():
        sb = Sandbox(seed_demo=True, today=today, password=password)
        if arrange is not None:
            arrange(sb)
    return sb.start(port=0)


# --- the worker in-process ---------------------------------------------------------------------


class MovedClock:
    """A clock that stands still until the test moves it (``clock.at = ...``)."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


class TickingClock:
    """A clock that starts at ``start`` and runs at the real pace."""

    def __init__(self, start: datetime) -> None:
        self.start = start
        self._origin = time.monotonic()

    def __call__(self) -> datetime:
        return self.start + timedelta(seconds=time.monotonic() - self._origin)


def use_clock(monkeypatch, clock: Callable[[], datetime], *sandboxes: Sandbox) -> None:
    """The worker (engine and journal) and the sandboxes' stores all read ``clock``."""
    monkeypatch.setattr(engine, "now", clock)
    monkeypatch.setattr(journal_module, "now", clock)
    for sb in sandboxes:
        sb.store.now = clock


def without_retry_waits(monkeypatch) -> list[float]:
    """The worker's client sleeps for nothing between retries; returns the waits it asked for."""
    waits: list[float] = []
    monkeypatch.setattr(runner, "ServiceNowClient", functools.partial(ServiceNowClient, sleep=waits.append))
    return waits


def in_process_settings(sb: Sandbox, state: Path):
    """The default settings (no ETIU_* variable of the developer's shell), pointed at ``sb``."""
    inherited = {name: os.environ.pop(name) for name in list(os.environ) if name.upper().startswith("ETIU_")}
    try:
        defaults = load_settings()
    finally:
        os.environ.update(inherited)
    return demo_settings(defaults, sb.url, sb.user, sb.password, state)


@dataclass
class Cycle:
    exit_code: int
    report: Any = None  # engine.CycleReport, None when the cycle stopped on an error
    error: EtiuError | None = None


def converge(settings, limit: int = 4) -> list[Cycle]:
    """Cycles until one plans no write; the cycles run."""
    cycles = []
    for _ in range(limit):
        cycles.append(run_cycle(settings))
        if cycles[-1].report is not None and not cycles[-1].report.plan.writes:
            return cycles
    raise AssertionError(f"no quiet cycle after {limit}: {[c.exit_code for c in cycles]}")


def converge_as_time_moves(settings, clock: MovedClock, limit: int) -> None:
    """Cycles a minute apart, each after the stamps of the writes before (a moment the next cycle
    is past), until one plans no write or ``limit`` have run."""
    for _ in range(limit):
        clock.at += timedelta(minutes=1)
        if not run_cycle(settings).report.plan.writes:
            return


def open_demo_sandbox(request, clock) -> Sandbox:
    """The demo instance of ``FIXED_DAY`` on ``clock``, stopped when the test ends."""
    sb = seeded_sandbox(FIXED_DAY)
    sb.store.now = clock
    request.addfinalizer(sb.stop)
    return sb


def run_cycle(settings) -> Cycle:
    """One ``run --once`` in-process, with the exit code the CLI would give."""
    try:
        report = run_once(settings)
    except EtiuError as error:
        return Cycle(error.exit_code, error=error)
    return Cycle(report.exit_code, report)


def journal_entries(state: Path, **filters: Any) -> list[JournalEntry]:
    with Journal.open(state) as journal:
        return journal.entries(**filters)


def pending_actions(state: Path) -> list[JournalEntry]:
    with Journal.open(state) as journal:
        return journal.pending_actions()


# --- the worker as a real process --------------------------------------------------------------


def worker_env(sb: Sandbox, state: Path, **settings: str) -> dict[str, str]:
    """A clean environment (no inherited ETIU_*) pointing the worker at ``sb``, state in ``state``."""
    home = state.parent / "home"
    home.mkdir(parents=True, exist_ok=True)
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "COLUMNS": "250",
        "PYTHONIOENCODING": "utf-8",
        "ETIU_SERVICENOW__URL": sb.url,
        "ETIU_SERVICENOW__USER": sb.user,
        "ETIU_SERVICENOW__PASSWORD": sb.password,
        "ETIU_STATE__DIR": str(state),
    }
    env.update({f"ETIU_{key.upper()}": value for key, value in settings.items()})
    return env


def worker_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "etiu_worker", *args]


def _command(env: Mapping[str, str], args: Sequence[str]) -> list[str]:
    """The worker's command line; on the test's clock when ``env`` hands one over (clocked_worker.py)."""
    return clocked_command(*args) if CLOCK_ENV in env else worker_command(*args)


def run_worker(env: Mapping[str, str], *args: str, timeout: float = SUBPROCESS_TIMEOUT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(_command(env, args), env=dict(env), capture_output=True, text=True,
                          encoding="utf-8", errors="replace", timeout=timeout)


def start_worker(env: Mapping[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(_command(env, args), env=dict(env), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, encoding="utf-8", errors="replace")


def describe(result: subprocess.CompletedProcess[str]) -> str:
    return f"exit {result.returncode}\n--- stdout\n{result.stdout[-4000:]}\n--- stderr\n{result.stderr[-6000:]}"


def kill_and_reap(process: subprocess.Popen, sig: int = signal.SIGKILL, timeout: float = 10.0) -> int:
    if process.poll() is None:
        process.send_signal(sig)
    try:
        return process.wait(timeout=timeout)
    finally:
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


def wait_for(condition: Callable[[], object], *, timeout: float, what: str, interval: float = 0.005) -> None:
    """Poll ``condition`` until it holds; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


# --- faults the tests inject ------------------------------------------------------------------


class RecordedFaults(Faults):
    """``Faults`` that remember what they inflicted: (method, kind or status) per faulted request."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self.inflicted: list[tuple[str, str]] = []

    def next_fault(self, method: str):  # type: ignore[override]
        fault = super().next_fault(method)
        if fault is not None:
            self.inflicted.append((method.upper(), str(fault.status or fault.kind)))
        return fault

    def hit_writes(self) -> list[tuple[str, str]]:
        return [item for item in self.inflicted if item[0] in WRITE_METHODS]


class RequestLog(Faults):
    """``Faults`` that inflict nothing and remember the method of every request, in order."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self.methods: list[str] = []

    def next_fault(self, method: str):  # type: ignore[override]
        self.methods.append(method.upper())
        return super().next_fault(method)


class HoldRequest(Faults):
    """Holds the ``n``-th request (1-based, in arrival order) at the door until ``release()``.

    The worker sent it and waits for the answer: a test can kill the worker at exactly that
    point. Released, the request is then served (``lands``: it takes effect on the instance
    although nobody reads the answer) or its connection is dropped (it never took effect).
    ``landed`` is set once a held write has been stored.
    """

    def __init__(self, n: int, *, lands: bool = True, latency: float = 0.0) -> None:
        super().__init__(latency=latency)
        self.n = n
        self.lands = lands
        self.seen = 0
        self.holding = threading.Event()
        self.landed = threading.Event()
        self._release = threading.Event()
        self._count_lock = threading.Lock()
        self._held_thread: int | None = None

    def next_fault(self, method: str):  # type: ignore[override]
        with self._count_lock:
            self.seen += 1
            mine = self.seen
        if mine == self.n:
            self._held_thread = threading.get_ident()
            self.holding.set()
            self._release.wait(SUBPROCESS_TIMEOUT)
            if not self.lands:
                return Fault("drop")
        return super().next_fault(method)

    def release(self) -> None:
        self._release.set()

    def watch(self, sb: Sandbox) -> HoldRequest:
        """Set ``landed`` when the held request's write reaches ``sb``'s store."""
        for name in ("create", "modify"):
            original = getattr(sb.store, name)

            def wrapped(*args, _original=original, **kwargs):
                result = _original(*args, **kwargs)
                if threading.get_ident() == self._held_thread:
                    self.landed.set()
                return result

            setattr(sb.store, name, wrapped)
        return self
