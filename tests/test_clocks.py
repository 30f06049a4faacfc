"""Clocks and zones come from the instance: an integration user outside UTC is stopped with a
clear line, and the read-back windows follow the instance's clock, not the worker's."""

from __future__ import annotations

from datetime import timedelta

import pytest

from etiu_worker.errors import EXIT_INVALID_CONFIG

from safety_helpers import (
    FIXED_MOMENT,
    in_process_settings,
    run_cycle,
    write_requests,
)
from etiu_worker.sandbox import Sandbox


def demo_sandbox(request, clock, **options) -> Sandbox:
    sb = Sandbox(seed_demo=True, today=FIXED_MOMENT.date(), **options)
    sb.store.now = clock
    request.addfinalizer(sb.stop)
    return sb.start(port=0)


@pytest.mark.parametrize("zone, hours", [("Europe/Paris", "+2"), ("America/New_York", "-4"), ("Asia/Kolkata", "+5.5")])
def test_an_integration_user_outside_utc_is_stopped_before_any_write(request, clock, tmp_path, zone, hours):
    sb = demo_sandbox(request, clock, timezone=zone)

    cycle = run_cycle(in_process_settings(sb, tmp_path / "state"))

    assert cycle.exit_code == EXIT_INVALID_CONFIG
    assert f"sees date-times {hours} h from UTC" in str(cycle.error)
    assert "set that user's Time zone to UTC" in str(cycle.error)
    assert write_requests(sb) == 0


def test_an_integration_user_in_utc_costs_one_request_on_a_full_read_only(request, clock, tmp_path):
    sb = demo_sandbox(request, clock)
    settings = in_process_settings(sb, tmp_path / "state")

    first = run_cycle(settings)
    sb.reset_requests()
    second = run_cycle(settings)

    assert first.exit_code == 0, first
    assert first.report.requests[("GET", "u_etiu_ticket")] >= 2  # the zone check, then the full read
    assert second.report.requests[("GET", "u_etiu_ticket")] == 1


@pytest.mark.parametrize("minutes", [-15, 15])
def test_an_instance_clock_off_by_a_quarter_hour_still_finds_every_note_it_posted(request, clock, tmp_path, minutes):
    sb = demo_sandbox(request, clock)
    sb.clock_offset = timedelta(minutes=minutes)
    settings = in_process_settings(sb, tmp_path / "state")

    first = run_cycle(settings)

    unverified = [outcome for outcome in first.report.outcomes if outcome.status != "done"]
    assert not unverified, [(o.write.kind, o.write.number, o.verification) for o in unverified]
    assert first.exit_code == 0
