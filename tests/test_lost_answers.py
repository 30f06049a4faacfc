"""Writes that ServiceNow applied but whose answer never arrived (a dropped connection, a 5xx
after the commit): the worker does not repeat them in the run, and looks them up on the instance
before anything is sent again, so nothing lands twice.
"""

from __future__ import annotations

import pytest

from etiu_worker.sandbox import Faults
from etiu_worker.sandbox.faults import LOST_ANSWERS

from safety_helpers import (
    converge,
    open_demo_sandbox as open_sandbox,
    assert_same_instance,
    in_process_settings,
    pending_actions,
    run_cycle,
    snapshot,
)

pytestmark = [
    pytest.mark.usefixtures("retry_waits"),  # the client sleeps for nothing between retries
    pytest.mark.expected_errors("ServiceNow may have applied it"),  # each lost answer is a failed write
]

WRITE_VERIFICATION = "write verification"


def lose_the_answer_of(sb, kind: str, method: str, *, times: int = 1) -> list[int]:
    """The first ``times`` ``method`` requests are applied, then their answer is lost as ``kind``."""
    hit: list[int] = []

    def on_request(got_method: str, table: str, params: dict) -> None:
        if got_method == method and len(hit) < times:
            hit.append(1)
            sb.faults.script.append(kind)

    sb.on_request = on_request
    return hit


@pytest.mark.parametrize("kind", LOST_ANSWERS)
@pytest.mark.parametrize("method", ["POST", "PATCH"])
def test_a_write_applied_but_unanswered_is_not_repeated_and_ends_as_a_clean_run_does(
        request, clock, clean_run, tmp_path, kind, method):
    sb = open_sandbox(request, clock)
    settings = in_process_settings(sb, tmp_path / "state")
    lose_the_answer_of(sb, kind, method, times=3)

    first = run_cycle(settings)
    sb.on_request = None
    converge(settings)

    assert first.exit_code == 1, first  # reported, and the cycle went on: not exit 4
    assert first.report.outcomes and any(outcome.status == "unknown" for outcome in first.report.outcomes)
    after = snapshot(sb)
    assert not after.duplicate_notes
    assert_same_instance(after, clean_run, ignore_rules=[WRITE_VERIFICATION])
    assert not pending_actions(tmp_path / "state")


def test_a_create_answered_503_after_it_was_applied_is_sent_once(request, clock, tmp_path):
    sb = open_sandbox(request, clock)
    settings = in_process_settings(sb, tmp_path / "state")
    lose_the_answer_of(sb, "applied_503", "POST")

    run_cycle(settings)
    posts_in_the_faulty_cycle = sb.requests[("POST", "u_etiu_ticket")]
    sb.reset_requests()
    converge(settings)

    planned_creates = posts_in_the_faulty_cycle + sb.requests[("POST", "u_etiu_ticket")]
    sb_tickets = snapshot(sb).tickets_per_code
    assert all(count == 1 for (key, code), count in sb_tickets.items() if key != "ENG-DUNDER")
    assert planned_creates == sum(1 for record in sb.store.query("u_etiu_ticket") if record["sys_created_by"] == sb.user)


def test_a_cycle_under_lost_answers_goes_on_after_the_first_failure(request, clock, tmp_path):
    sb = open_sandbox(request, clock)
    settings = in_process_settings(sb, tmp_path / "state")
    sb.faults = Faults(rate_lost_answer=0.3, seed=3)

    cycle = run_cycle(settings)

    statuses = [outcome.status for outcome in cycle.report.outcomes]
    assert "unknown" in statuses and "done" in statuses[statuses.index("unknown"):], statuses
    assert cycle.exit_code == 1
