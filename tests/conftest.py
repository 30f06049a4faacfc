"""Fixtures shared by the safety tests (faults, lost answers, the instance as the authority)."""

from __future__ import annotations

import pytest

from safety_helpers import (
    FIXED_MOMENT,
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
