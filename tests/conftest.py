"""Fixtures shared by the safety tests (faults, lost answers, the instance as the authority).

Every test also runs under a check of the errors it logs: a test fails if anything logs an ERROR
or CRITICAL record through Python logging while the test (its fixtures included) runs, since an
error the worker logs is one a user would read. A test that provokes errors on purpose says so:

    @pytest.mark.expected_errors                      # any ERROR is expected
    @pytest.mark.expected_errors("failed", "could not be verified")  # only these messages

With substrings, every ERROR message must contain at least one of them; a whole file about faults
sets ``pytestmark = pytest.mark.expected_errors(...)``. An unexpected error shows as an error at
the test's teardown, with the level, logger and message of each record. Errors a worker subprocess
logs are not seen here: its output is the test's to check.
"""

from __future__ import annotations

import logging

import pytest


from safety_helpers import (
    FIXED_MOMENT,
    MovedClock,
    TickingClock,
    converge,
    in_process_settings,
    open_demo_sandbox,
    snapshot,
    use_clock,
    without_retry_waits,
)


@pytest.fixture
def clock(monkeypatch):
    """One clock for the worker and the sandboxes: the fixed day, running at the real pace."""
    clock = TickingClock(FIXED_MOMENT)
    use_clock(monkeypatch, clock)
    return clock


@pytest.fixture
def moved(monkeypatch):
    """One clock for the worker, standing at the fixed moment until the test moves it."""
    clock = MovedClock(FIXED_MOMENT)
    use_clock(monkeypatch, clock)
    return clock


@pytest.fixture
def retry_waits(monkeypatch):
    """The client's retry waits skipped; the waits it asked for."""
    return without_retry_waits(monkeypatch)


@pytest.fixture
def clean_run(request, clock, tmp_path):
    """The fault-free reference: the demo instance after the worker has converged on it."""
    sb = open_demo_sandbox(request, clock)
    cycles = converge(in_process_settings(sb, tmp_path / "clean-state"))
    assert all(cycle.exit_code == 0 for cycle in cycles), [c.exit_code for c in cycles]
    return snapshot(sb)


class _ErrorRecords(logging.Handler):
    """Keeps every ERROR and CRITICAL record it is handed, once each."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if all(record is not kept for kept in self.records):
            self.records.append(record)


def _expected_substrings(item: pytest.Item) -> tuple[str, ...] | None:
    """The substrings an expected error contains; () when any error is expected; None when none is."""
    markers = list(item.iter_markers("expected_errors"))
    if not markers:
        return None
    if any(not marker.args for marker in markers):
        return ()
    return tuple(str(text) for marker in markers for text in marker.args)


def _unexpected(records: list[logging.LogRecord], expected: tuple[str, ...] | None) -> list[str]:
    """A line for each record the test did not expect: level, logger and message."""
    if expected == ():
        return []
    missed = [record for record in records if not any(text in record.getMessage() for text in expected or ())]
    return [f"{record.levelname} {record.name}: {record.getMessage()}" for record in missed]


def _ours_always_at_error(enabled_for):
    """Logger.isEnabledFor that lets the worker's ERRORs through, however quiet a test made the root."""

    def is_enabled_for(logger: logging.Logger, level: int) -> bool:
        ours = logger.name == "etiu_worker" or logger.name.startswith("etiu_worker.")
        return (ours and level >= logging.ERROR) or enabled_for(logger, level)

    return is_enabled_for


@pytest.fixture(autouse=True)
def _fail_on_unexpected_errors(request):
    """Fails the test if it logged an ERROR or CRITICAL record it did not declare as expected."""
    ours, root, enabled_for = logging.getLogger("etiu_worker"), logging.getLogger(), logging.Logger.isEnabledFor
    kept = _ErrorRecords()
    # On ours too: the worker's setup_logging replaces the root's handlers, and with them this one.
    ours.addHandler(kept)
    root.addHandler(kept)
    logging.Logger.isEnabledFor = _ours_always_at_error(enabled_for)
    try:
        yield
    finally:
        logging.Logger.isEnabledFor = enabled_for
        ours.removeHandler(kept)
        root.removeHandler(kept)
    unexpected = _unexpected(kept.records, _expected_substrings(request.node))
    if unexpected:
        pytest.fail("logged errors the test does not expect (mark it @pytest.mark.expected_errors(...) "
                    "if they are the point):\n  " + "\n  ".join(unexpected), pytrace=False)
