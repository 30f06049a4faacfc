"""The instance is the authority: whatever the worker lost or a person did meanwhile, it posts and
creates nothing twice and undoes nothing a person did.

Each test is one of an operator's bad days, run in-process against a sandbox over real HTTP with
the client's retry waits skipped and one clock shared by the worker and the sandbox.
"""

from __future__ import annotations

import shutil

import pytest

from safety_helpers import (
    converge,
    open_demo_sandbox,
    assert_same_instance,
    in_process_settings,
    note_footer,
    run_cycle,
    snapshot,
    write_requests,
)

pytestmark = pytest.mark.usefixtures("retry_waits")  # the client sleeps for nothing between retries


@pytest.fixture
def sb(request, clock):
    return open_demo_sandbox(request, clock)

TICKETS = "u_etiu_ticket"


def when_requested(sb, method: str, table: str, action, *, times: int = 1) -> None:
    """Run ``action()`` as the ``times``-th request of ``method`` on ``table`` arrives, before it is served."""
    original, seen = sb.count_request, []

    def counting(got_method: str, got_table: str) -> None:
        original(got_method, got_table)
        if (got_method, got_table) == (method, table):
            seen.append(1)
            if len(seen) == times:
                action()

    sb.count_request = counting


def worker_notes(sb) -> list[tuple[str, str]]:
    return [(entry["element_id"], footer[1]) for entry in sb.store.journal()
            if (footer := note_footer(entry.get("value", "")))]


def ticket(sb, engagement: str, code: str) -> dict:
    [found] = sb.store.query(TICKETS, f"correlation_id={engagement}^u_etiu_code={code}")
    return found


def test_a_lost_state_folder_makes_the_worker_post_and_create_nothing_again(sb, tmp_path):
    state = tmp_path / "state"
    converge(in_process_settings(sb, state))
    before, notes_before, writes_before = snapshot(sb), worker_notes(sb), write_requests(sb)

    shutil.rmtree(state)
    cycles = converge(in_process_settings(sb, state))

    assert [cycle.exit_code for cycle in cycles] == [0] * len(cycles)
    assert worker_notes(sb) == notes_before, "notes were posted again after the state folder was lost"
    assert write_requests(sb) == writes_before
    assert_same_instance(snapshot(sb), before)


def test_an_emptied_state_folder_posts_no_false_clock_gap_flag(sb, tmp_path):
    state = tmp_path / "state"
    converge(in_process_settings(sb, state))
    notes_before = worker_notes(sb)

    for path in state.iterdir():
        if path.is_file():
            path.unlink()
    converge(in_process_settings(sb, state))

    assert worker_notes(sb) == notes_before


def test_a_row_deleted_between_pages_of_a_full_read_does_not_make_the_worker_create_a_ticket_twice(sb, tmp_path):
    settings = in_process_settings(sb, tmp_path / "state")
    converge(settings)
    tickets_before = snapshot(sb).tickets_per_code
    # ENG-VANDELAY is in its support week: were its Support Week ticket missing, it would be created.
    hidden = ticket(sb, "ENG-VANDELAY", "SUPPORT_WEEK")
    scratch = sb.store.insert(TICKETS, {"sys_id": "0" * 32, "correlation_id": "ENG-SCRATCH", "u_etiu_code": "ETIU01"})
    in_scope = [record["sys_id"] for record in sb.store.query(TICKETS, "correlation_idISNOTEMPTY^ORDERBYsys_id")]
    # Page 1 ends just before that ticket; deleting a row of page 1 while page 2 is asked for
    # moves it to where offset paging no longer looks.
    page = in_scope.index(hidden["sys_id"])
    settings = settings.model_copy(update={
        "servicenow": settings.servicenow.model_copy(update={"page_size": page}),
        "state": settings.state.model_copy(update={"full_resync_hours": 1e-9}),  # every read is a full read
    })
    when_requested(sb, "GET", TICKETS, lambda: sb.store.delete(TICKETS, scratch["sys_id"]), times=2)

    run_cycle(settings)
    converge(settings)

    assert snapshot(sb).tickets_per_code == tickets_before


def test_a_ticket_a_person_closes_mid_cycle_is_not_put_back(sb, tmp_path):
    settings = in_process_settings(sb, tmp_path / "state")
    planned = [write for write in _planned(settings) if write.kind == "set_state" and "Work in Progress" not in write.before.values()
               and write.fields.get("state") == "2" and write.table == TICKETS]
    assert planned, "the demo no longer puts a ticket in Work in Progress on its first cycle"
    target = planned[0]
    when_requested(sb, "GET", "change_task", lambda: sb.store.update(TICKETS, target.sys_id, {"state": "3"}))

    converge(settings)

    assert sb.store.get(TICKETS, target.sys_id)["state"] == "3", "the person's close was undone"


def test_a_date_a_person_types_mid_cycle_wins_over_the_workers_stale_carry(sb, tmp_path):
    settings = in_process_settings(sb, tmp_path / "state")
    carries = [write for write in _planned(settings) if write.engagement == "ENG-SOYLENT" and "short_description" in write.fields]
    assert carries, "the demo no longer carries ENG-SOYLENT's BP date on its first cycle"
    target = sb.store.get(TICKETS, carries[0].sys_id)
    typed = "2031-01-02"
    edited = _with_bp(target["short_description"], typed)
    when_requested(sb, "GET", "change_task", lambda: sb.store.update(TICKETS, target["sys_id"], {"short_description": edited}))

    converge(settings)

    dates = {record["u_etiu_code"]: record["short_description"].split("BP: ")[1][:10]
             for record in sb.store.query(TICKETS, "correlation_id=ENG-SOYLENT")}
    assert set(dates.values()) == {typed}, dates
    assert not snapshot(sb).duplicate_notes


def _planned(settings):
    from etiu_worker.cycle.runner import plan_once

    return plan_once(settings).plan.writes


def _with_bp(short_description: str, day: str) -> str:
    head, _, tail = short_description.partition("BP: ")
    return f"{head}BP: {day}{tail[10:]}"


def test_a_ticket_the_worker_created_and_a_person_deleted_is_not_repaired_forever(sb, tmp_path):
    settings = in_process_settings(sb, tmp_path / "state")
    converge(settings)
    tickets_before = snapshot(sb).tickets_per_code
    [deleted, *_] = [record for record in sb.store.query(TICKETS) if record["sys_created_by"] == sb.user]
    sb.store.delete(TICKETS, deleted["sys_id"])

    cycles = converge(settings)

    assert cycles[-1].exit_code == 0, [cycle.exit_code for cycle in cycles]
    assert all(count <= tickets_before[key] for key, count in snapshot(sb).tickets_per_code.items())


def test_a_record_changed_while_the_worker_wrote_it_is_read_again_whoever_updated_it_last(sb, tmp_path, caplog):
    settings = in_process_settings(sb, tmp_path / "state")
    converge(settings)
    [vandelay] = sb.store.query(TICKETS, "correlation_id=ENG-VANDELAY^u_etiu_code=SUPPORT_WEEK")
    sb.store.update(TICKETS, vandelay["sys_id"], {"state": "-5"})  # a person puts it back to Pending
    queries: list[str] = []
    edited: list[bool] = []

    def on_request(method: str, table: str, params: dict) -> None:
        if method == "PATCH" and not edited:
            edited.append(True)  # a person saves the ticket while the worker's write is on its way
            sb.store.update(TICKETS, vandelay["sys_id"], {"work_start": "2026-10-14 09:00:00"})
        if method == "GET" and table == TICKETS:
            queries.append(params.get("sysparm_query", ""))

    sb.on_request = on_request
    run_cycle(settings)
    queries.clear()
    run_cycle(settings)

    assert "was changed by someone else while the worker wrote to it" in caplog.text
    assert queries and "sys_updated_by!=" not in queries[0], queries


def test_a_record_missing_from_its_read_back_is_reported_as_not_returned_never_as_not_saved(sb, tmp_path):
    settings = in_process_settings(sb, tmp_path / "state")
    deleted: list[str] = []

    def on_request(method: str, table: str, params: dict) -> None:
        # A person deletes the first ticket the worker wrote to, just before its read-back.
        query, fields = params.get("sysparm_query", ""), params.get("sysparm_fields", "")
        read_back = query.startswith("sys_idIN") and fields not in ("", "sys_id")  # not the freshness check
        if method == "GET" and table == TICKETS and read_back and not deleted:
            deleted.append(query[len("sys_idIN"):].split(",")[0].split("^")[0])
            sb.store.delete(TICKETS, deleted[0])

    sb.on_request = on_request
    cycle = run_cycle(settings)

    [outcome, *_] = [o for o in cycle.report.outcomes if o.sys_id == deleted[0]]
    assert outcome.status == "unverified" and "not returned by its read-back" in outcome.verification
    flags = [entry["value"] for entry in sb.store.journal() if "· write verification ·" in entry.get("value", "")]
    assert not flags, flags
