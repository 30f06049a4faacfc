"""First sight over HTTP: the worker reads the short descriptions' history (sys_audit) to tell a
person's date change on an engagement it has never seen, and a flagged conflict lasts.

In-process against the demo sandbox over real HTTP, one clock for the worker and the sandbox.
The tests write the sys_audit rows of the edits they make themselves (the sandbox on this branch
keeps any table it is given; once it audits its own updates, these rows are the ones it writes).
"""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from etiu_worker.engagement import history as history_module
from etiu_worker.engagement.history import read_field_history
from etiu_worker.state.journal import Journal
from etiu_worker.sandbox import Faults
from etiu_worker.servicenow.client import ServiceNowClient

from safety_helpers import (
    FIXED_MOMENT,
    TickingClock,
    in_process_settings,
    run_cycle,
    seeded_sandbox,
    use_clock,
    without_retry_waits,
)

TICKETS = "u_etiu_ticket"
KEY = "ENG-INITECH"


@pytest.fixture
def clock(monkeypatch):
    clock = TickingClock(FIXED_MOMENT)
    use_clock(monkeypatch, clock)
    without_retry_waits(monkeypatch)
    return clock


@pytest.fixture
def sb(request, clock):
    sb = seeded_sandbox(FIXED_MOMENT.date())
    sb.store.now = clock
    request.addfinalizer(sb.stop)
    return sb


def tickets(sb) -> dict[str, dict]:
    return {t["u_etiu_code"]: t for t in sb.store.query(TICKETS, f"correlation_id={KEY}")}


def label(ticket: dict, name: str) -> str:
    """The text of one roadmap label in a ticket's short description ('BP', 'Prod upgrade')."""
    return ticket["short_description"].split(f"{name}: ")[1].split(" | ")[0]


def edit(sb, code: str, old: str, new: str, at, *, user: str = "jesse.m") -> None:
    """A person replaces ``old`` by ``new`` in a ticket's short description at ``at``, as audited."""
    ticket = tickets(sb)[code]
    before, after = ticket["short_description"], ticket["short_description"].replace(old, new)
    stamp = at.strftime("%Y-%m-%d %H:%M:%S")
    sb.store.update(TICKETS, ticket["sys_id"], {"short_description": after, "sys_updated_on": stamp}, user=user)
    sb.store.insert("sys_audit", {"tablename": TICKETS, "documentkey": ticket["sys_id"], "fieldname": "short_description",
                                  "oldvalue": before, "newvalue": after, "user": user, "reason": "",
                                  "record_checkpoint": str(int(ticket.get("sys_mod_count") or 0) + 1),
                                  "sys_created_on": stamp})


def touch(sb, code: str, at) -> None:
    """A person updates a ticket at ``at`` for a reason that is not its short description."""
    ticket = tickets(sb)[code]
    stamp = at.strftime("%Y-%m-%d %H:%M:%S")
    sb.store.update(TICKETS, ticket["sys_id"], {"assigned_to": "someone.else", "sys_updated_on": stamp})


def test_a_consultants_edit_minutes_ago_is_carried_though_a_sibling_was_updated_later(sb, clock, tmp_path):
    now = clock()
    bp = label(tickets(sb)["ETIU02"], "BP")
    moved = "2026-10-30" if bp != "2026-10-30" else "2026-10-29"
    edit(sb, "ETIU02", f"BP: {bp}", f"BP: {moved}", now - timedelta(minutes=5))
    touch(sb, "ETIU03", now - timedelta(minutes=1))  # updated later, for another reason
    settings = in_process_settings(sb, tmp_path / "state")

    first = run_cycle(settings)

    assert first.exit_code == 0, first
    assert {code: label(t, "BP") for code, t in tickets(sb).items()} == {code: moved for code in tickets(sb)}
    assert sb.requests[("GET", "sys_audit")] == 1  # one batched read, for every engagement seen with differing dates
    sb.reset_requests()
    second = run_cycle(settings)
    assert second.exit_code == 0 and second.report.plan.writes == []
    assert ("GET", "sys_audit") not in sb.requests  # remembered now: no more history needed


def test_a_same_second_conflict_is_flagged_once_and_not_written_over_until_a_person_changes_a_ticket(sb, clock, tmp_path):
    now = clock()
    prod = label(tickets(sb)["ETIU01"], "Prod upgrade")  # "2026-10-19 18:00 CDT"
    day, _, zone = prod.split(" ")
    edit(sb, "ETIU01", f"Prod upgrade: {prod}", f"Prod upgrade: {day} 21:00 {zone}", now - timedelta(minutes=3))
    edit(sb, "ETIU03", f"Prod upgrade: {prod}", f"Prod upgrade: {day} 22:00 {zone}", now - timedelta(minutes=3))
    settings = in_process_settings(sb, tmp_path / "state")
    disputed = {code: label(t, "Prod upgrade") for code, t in tickets(sb).items()}

    for touched in ("", "ETIU03", "ETIU01"):
        if touched:  # its flag note, or a person's edit of another field: the ticket is updated last
            touch(sb, touched, clock() + timedelta(seconds=2))
        cycle = run_cycle(settings)
        assert cycle.exit_code == 0, cycle
        assert {code: label(t, "Prod upgrade") for code, t in tickets(sb).items()} == disputed
    flagged = [e["element_id"] for e in sb.store.journal(TICKETS) if "Roadmap conflict on ENG-INITECH" in e["value"]]
    assert sorted(flagged) == sorted(tickets(sb)[code]["sys_id"] for code in ("ETIU01", "ETIU03"))  # once each
    with Journal.open(settings.state.dir) as journal:
        assert {flag.rule for flag in journal.open_flags(KEY)} >= {"roadmap_in_sync"}

    edit(sb, "ETIU03", f"{day} 22:00", f"{day} 21:00", clock(), user="aja.d")  # the coordinator settles it
    assert run_cycle(settings).exit_code == 0

    assert {label(t, "Prod upgrade") for t in tickets(sb).values()} == {disputed["ETIU01"]}
    with Journal.open(settings.state.dir) as journal:
        assert "roadmap_in_sync" not in {flag.rule for flag in journal.open_flags(KEY)}
        assert "conflicts" not in journal.engagement_state(KEY)


def test_the_history_is_read_in_batches_of_a_hundred_records_and_oldest_first(sb, clock, tmp_path):
    ids = [f"{n:032x}" for n in range(150)]
    for n, stamp in ((1, "2026-10-14 10:00:00"), (1, "2026-10-13 09:00:00"), (149, "2026-10-12 08:00:00")):
        sb.store.insert("sys_audit", {"tablename": TICKETS, "documentkey": ids[n], "fieldname": "short_description",
                                      "oldvalue": f"before {stamp}", "newvalue": f"after {stamp}", "user": "aja.d",
                                      "record_checkpoint": "2", "sys_created_on": stamp})
    sb.store.insert("sys_audit", {"tablename": TICKETS, "documentkey": ids[1], "fieldname": "state",
                                  "oldvalue": "1", "newvalue": "2", "sys_created_on": "2026-10-14 11:00:00"})
    sb.reset_requests()
    with ServiceNowClient(in_process_settings(sb, tmp_path / "state").servicenow) as client:
        found = read_field_history(client, TICKETS, ids, "short_description")
    assert sb.requests[("GET", "sys_audit")] == 2
    assert {sys_id: [change.new for change in changes] for sys_id, changes in found.items()} == {
        ids[1]: ["after 2026-10-13 09:00:00", "after 2026-10-14 10:00:00"],
        ids[149]: ["after 2026-10-12 08:00:00"],
    }


def test_a_user_who_may_not_read_the_history_gets_none_and_one_info_line(sb, clock, tmp_path, caplog, monkeypatch):
    monkeypatch.setattr(history_module, "_told_forbidden", set())
    client_settings = in_process_settings(sb, tmp_path / "state").servicenow
    caplog.set_level(logging.INFO, logger="etiu_worker.engagement.history")
    with ServiceNowClient(client_settings) as client:
        sb.faults = Faults(script=[403, 403])
        answers = [read_field_history(client, TICKETS, ["0" * 32], "short_description") for _ in range(2)]
    assert answers == [None, None]
    told = [r for r in caplog.records if r.name == "etiu_worker.engagement.history"]
    assert len(told) == 1 and told[0].levelno == logging.INFO
    assert "may not read sys_audit" in told[0].getMessage()
