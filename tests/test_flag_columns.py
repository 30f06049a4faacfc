"""A flag's severity and kind are stored in the journal when it is opened, not parsed back out of
its note text and key; journals of the previous schema version get them filled by the migration."""

from __future__ import annotations

import sqlite3
from datetime import timedelta

import pytest

from etiu_worker.actions.base import flag_kind
from etiu_worker.state.journal import DATABASE_NAME, Journal
from etiu_worker.state.journal_schema import MIGRATIONS
from etiu_worker.sandbox import demo
from playbook_helpers import playbook as default_playbook
from safety_helpers import (
    FIXED_DAY,
    FIXED_MOMENT,
    TickingClock,
    in_process_settings,
    run_cycle,
    seeded_sandbox,
    use_clock,
)

OPENED = "2024-05-01T12:00:00.000000+00:00"
# (flag key, message) as schema version 2 stored them -> (severity, kind) the report showed for them.
VERSION_2_FLAGS = [
    (("change:cancelled", "[ETIU FLAG] SCHEDULED UPGRADE CANCELLED"), ("problem", "cancelled")),
    (("best_practices:grace|2026-12-04", "[ETIU WARNING] BP in the grace days"), ("warning", "grace")),
    (("c0ffee:duplicate-code:ETIU02", "[ETIU FLAG] 2 tickets carry the code ETIU02"), ("problem", "duplicate-code")),
    (("ETIU03:overflow:too-long", "[ETIU FLAG] the dates do not fit"), ("problem", "overflow")),
    (("change:", "[ETIU FLAG] no key"), ("problem", "")),
    (("clock-gap:0123456789ab", "[ETIU FLAG] clock 40 minutes off"), ("problem", "clock-gap")),
    (("not-saved:c0ffee:end_date,start_date", "[ETIU FLAG] did not save"), ("problem", "not-saved")),
]


def version_2_journal(state_dir, flags) -> None:
    """A journal as etiu-worker wrote it at schema version 2, holding ``flags`` (key, message)."""
    state_dir.mkdir()
    with sqlite3.connect(state_dir / DATABASE_NAME) as db:
        for statement in MIGRATIONS[0] + MIGRATIONS[1]:
            db.execute(statement)
        db.executemany(
            "INSERT INTO flags (engagement, rule, key, table_name, sys_id, number, message, opened_at)"
            " VALUES ('ENG-1', 'some_rule', ?, 'change_request', 'c0ffee', 'CHG0030001', ?, ?)",
            [(key, message, OPENED) for key, message in flags],
        )
        db.execute("PRAGMA user_version = 2")
    db.close()


def test_a_journal_of_schema_version_2_gets_its_flags_severity_and_kind_filled(tmp_path) -> None:
    version_2_journal(tmp_path / "state", [flag for flag, _ in VERSION_2_FLAGS])

    with Journal.open(tmp_path / "state") as journal:
        stored = {flag.key: (flag.severity, flag.kind) for flag in journal.open_flags()}

    assert stored == {key: expected for (key, _), expected in VERSION_2_FLAGS}


@pytest.mark.parametrize("rule_key", ["cancelled", "moved|2026-11-02", "duplicate-code:ETIU02", "grace|2026-12-04:x",
                                      "conflict:bp|a:b", "", "overdue"])
def test_the_migration_gives_old_rule_flags_the_kind_new_ones_are_opened_with(tmp_path, rule_key) -> None:
    version_2_journal(tmp_path / "state", [(f"change:{rule_key}", "[ETIU FLAG] x")])

    with Journal.open(tmp_path / "state") as journal:
        [flag] = journal.open_flags()

    assert flag.kind == flag_kind(rule_key)


def test_a_flag_opened_now_keeps_the_severity_and_kind_it_was_opened_with(tmp_path) -> None:
    with Journal.open(tmp_path / "state") as journal:
        journal.open_flag("ENG-1", "bp_in_support_week", "change:grace|2026-12-04", "change_request", "c0ffee",
                          "CHG0030001", "BP in the grace days", severity="warning", kind="grace")
    with Journal.open(tmp_path / "state") as journal:
        [flag] = journal.open_flags()
    assert (flag.severity, flag.kind, flag.message) == ("warning", "grace", "BP in the grace days")


def move_massive_bp_into_the_grace_days(sb) -> None:
    """ENG-MASSIVE's BP session, on every ticket, moved to the last grace day after its prod upgrade."""
    spec = next(spec for spec in demo.ENGAGEMENTS if spec.key == "ENG-MASSIVE")
    plan = demo.roadmap(spec, FIXED_DAY)
    playbook = default_playbook()
    grace_day = playbook.calendar.business_days_after(plan.prod_local.date(), playbook.numbers["bp_grace_business_days"])[-1]
    for ticket in sb.store.query("u_etiu_ticket"):
        if ticket.get("correlation_id") == "ENG-MASSIVE":
            text = ticket["short_description"].replace(f"BP: {plan.bp}", f"BP: {grace_day}")
            sb.store.update("u_etiu_ticket", ticket["sys_id"], {"short_description": text})


def test_a_warning_flag_a_cycle_opens_is_stored_as_a_warning_and_a_problem_as_a_problem(
    tmp_path, monkeypatch
) -> None:
    sb = seeded_sandbox(FIXED_DAY, arrange=move_massive_bp_into_the_grace_days)
    try:
        use_clock(monkeypatch, TickingClock(FIXED_MOMENT + timedelta(hours=1)), sb)
        assert run_cycle(in_process_settings(sb, tmp_path / "state")).exit_code == 0
    finally:
        sb.stop()

    with Journal.open(tmp_path / "state") as journal:
        flags = journal.open_flags()
    bp = {(f.number, f.severity, f.kind) for f in flags if f.engagement == "ENG-MASSIVE" and f.rule == "bp_in_support_week"}
    duplicates = {(f.severity, f.kind) for f in flags if f.engagement == "ENG-DUNDER"}
    assert len(bp) == 2 and {(severity, kind) for _, severity, kind in bp} == {("warning", "grace")}
    assert duplicates == {("problem", "duplicate-code")}
