"""The worker on a misbehaving instance: 429s, 5xx, dropped connections and writes that answer OK
but do not save. Whatever the instance does, the worker ends where a fault-free run ends, never
posts a note or creates a ticket twice, and never records as done a write that did not persist.

Everything runs in-process against a sandbox over real HTTP, with the client's retry waits
skipped and one clock (a fixed day, running at the real pace) shared by the worker and the
sandboxes, so that a clean run and a faulty run of the same day are comparable.
"""

from __future__ import annotations

import pytest

from etiu_worker.sandbox import Fault, Faults

from safety_helpers import (
    converge,
    open_demo_sandbox as open_sandbox,
    CYCLE_TABLES,
    NOTE_FIELDS,
    WRITE_VERIFICATION,
    RecordedFaults,
    assert_same_instance,
    in_process_settings,
    journal_entries,
    note_footers,
    pending_actions,
    run_cycle,
    snapshot,
)

pytestmark = [
    pytest.mark.usefixtures("retry_waits"),  # the client sleeps for nothing between retries
    # The faults make writes fail, fields not save and read-backs break: the worker logs each as an error.
    pytest.mark.expected_errors("ServiceNow may have applied it", "could not be verified",
                                "they are checked again by the next run"),
]

FAULTY_CYCLES = 6


def instance_value(sb, table: str, sys_id: str, name: str) -> str | None:
    record = sb.store.get(table, sys_id)
    return None if record is None else record.get(name, "")


def notes_on(sb, sys_id: str) -> set[str]:
    refs = set()
    for entry in sb.store.journal(sys_id=sys_id):
        refs.update(ref for _, ref, _ in note_footers(entry.get("value", "")))
    return refs


def assert_every_done_write_persisted(sb, state, run_id: str) -> None:
    """Each action this run recorded as done is on the instance: its fields and its note."""
    for entry in journal_entries(state, run_id=run_id, outcome="done"):
        for name, value in entry.after.items():
            if name in NOTE_FIELDS:
                assert entry.note_key in notes_on(sb, entry.sys_id), f"done, but its note is not on {entry.number}: {entry}"
            else:
                assert instance_value(sb, entry.table, entry.sys_id, name) == value, (
                    f"recorded done, but {entry.number} {name} reads "
                    f"{instance_value(sb, entry.table, entry.sys_id, name)!r}, not {value!r}: {entry}")


def records_by_id(sb) -> dict[str, dict]:
    return {record["sys_id"]: record for table in CYCLE_TABLES for record in sb.store.query(table)}


def assert_settled_writes_had_persisted(state, left_pending: set[int], before: dict[str, dict]) -> None:
    """An action an interrupted run left pending is settled as done only if all of it had landed.

    Settling happens at the start of the next cycle, before its writes: the instance as it was
    before that cycle is what the settled outcome speaks about.
    """
    for entry in journal_entries(state, outcome="done"):
        if entry.id not in left_pending:
            continue
        record = before.get(entry.sys_id, {})
        for name, value in entry.after.items():
            if name not in NOTE_FIELDS:
                assert record.get(name) == value, (
                    f"settled as done, but {entry.number} {name} read {record.get(name)!r}, not {value!r}: {entry}")


def assert_failures_are_reported(cycle, state, run_id: str) -> None:
    """Every action that did not verify says why, and the cycle does not exit 0."""
    unfinished = [entry for entry in journal_entries(state, run_id=run_id) if entry.outcome in ("failed", "unverified")]
    for entry in unfinished:
        assert entry.verification or entry.error, f"{entry.outcome} without a reason: {entry}"
    if unfinished:
        # 1: actions failed or unverified; 4: a write met a dropped connection and the cycle stopped.
        assert cycle.exit_code in (1, 4), (cycle.exit_code, unfinished)
    if cycle.exit_code == 0:
        assert all(entry.outcome == "done" for entry in journal_entries(state, run_id=run_id))


@pytest.mark.parametrize("seed", [0, 5, 7])
def test_a_faulty_instance_ends_where_a_clean_one_does_with_nothing_done_twice(request, clock, clean_run, retry_waits,
                                                                              tmp_path, seed):
    sb = open_sandbox(request, clock)
    state = tmp_path / "faulty-state"
    settings = in_process_settings(sb, state)
    sb.faults = faults = RecordedFaults.mixed(0.2, seed=seed)

    exits = []
    for _ in range(FAULTY_CYCLES):
        left_pending = {entry.id for entry in pending_actions(state)}
        before = records_by_id(sb)
        cycle = run_cycle(settings)
        exits.append(cycle.exit_code)
        assert cycle.exit_code in (0, 1, 4), f"cycle crashed: {cycle.error!r}"
        run_id = cycle.report.run_id if cycle.report else None
        if run_id:
            assert_failures_are_reported(cycle, state, run_id)
            assert_every_done_write_persisted(sb, state, run_id)
        assert_settled_writes_had_persisted(state, left_pending, before)

    sb.faults = Faults()
    final = run_cycle(settings)

    assert final.exit_code == 0, final
    # The not-saved flags are the worker reporting the faults it met: the only notes a clean run lacks.
    assert_same_instance(snapshot(sb), clean_run, ignore_rules=[WRITE_VERIFICATION])
    assert not pending_actions(state), "actions left pending"
    assert not run_cycle(settings).report.plan.writes, "the instance is not in line yet"
    flagged = {entry["element_id"] for entry in sb.store.journal()
               if any(rule == WRITE_VERIFICATION for rule, _, _ in note_footers(entry["value"]))}
    assert flagged <= {entry.sys_id for entry in journal_entries(state, outcome="unverified")}, \
        "a record was flagged as not saved without a write on it being unverified"
    # The seed matters: these faults hit writes, failed cycles, and made the client back off.
    assert faults.hit_writes() and set(exits) - {0} and retry_waits, (exits, faults.inflicted)


def test_a_field_that_never_saves_is_reported_named_and_flagged_once(request, clock, tmp_path):
    sb = open_sandbox(request, clock)
    state = tmp_path / "state"
    settings = in_process_settings(sb, state)
    sb.faults = Faults(drop_write_fields=frozenset({"state"}))

    first = run_cycle(settings)
    second = run_cycle(settings)

    assert (first.exit_code, second.exit_code) == (1, 1)
    unverified = journal_entries(state, outcome="unverified")
    assert unverified, "no write was reported unverified"
    state_writes = [entry for entry in unverified if "state" in entry.after]
    assert state_writes and all("state" in entry.verification for entry in state_writes), state_writes
    flagged = {}
    for entry in sb.store.journal():
        for rule, ref, body in note_footers(entry["value"]):
            if rule == WRITE_VERIFICATION:
                assert "did not save" in body
                flagged.setdefault((entry["element_id"], ref), []).append(entry)
    assert {sys_id for sys_id, _ in flagged} == {entry.sys_id for entry in state_writes}
    assert all(len(entries) == 1 for entries in flagged.values()), "a not-saved flag was posted twice"
    assert not snapshot(sb).duplicate_notes


def soylent_bp_dates(sb) -> dict[str, str]:
    """ENG-SOYLENT's BP date per ticket code: a person moved it on ETIU04 alone before the first cycle."""
    return {ticket["u_etiu_code"]: ticket["short_description"].split("BP: ")[1][:10]
            for ticket in sb.store.query("u_etiu_ticket", "correlation_id=ENG-SOYLENT")}


def test_a_persons_date_change_is_carried_even_when_the_first_carry_did_not_save(request, clock, tmp_path):
    sb = open_sandbox(request, clock)
    settings = in_process_settings(sb, tmp_path / "state")
    moved_to = soylent_bp_dates(sb)["ETIU04"]
    assert set(soylent_bp_dates(sb).values()) == {moved_to, soylent_bp_dates(sb)["ETIU01"]}, "the demo changed"

    sb.faults = Faults(drop_write_fields=frozenset({"short_description"}))
    assert run_cycle(settings).exit_code == 1  # the carries answered OK and did not save: reported
    sb.faults = Faults()
    converge(settings)

    # The worker's own notes on the tickets it failed to update made them the most recently
    # updated: their old date must not be taken for a newer change and carried back to ETIU04.
    assert soylent_bp_dates(sb) == {code: moved_to for code in ("ETIU01", "ETIU02", "ETIU03", "ETIU04")}
    assert not snapshot(sb).duplicate_notes


class ReadsFailAfterTheFirstWrite(Faults):
    """Once the worker has written, every read has its connection dropped: the instance goes away
    while the worker verifies, so the writes it sent are left pending in its journal."""

    seen_write = False

    def next_fault(self, method: str):  # type: ignore[override]
        self.seen_write = self.seen_write or method == "PATCH"
        if self.seen_write and method == "GET":
            return Fault("drop")
        return super().next_fault(method)


def test_a_write_left_pending_by_an_interrupted_run_is_settled_as_done_only_if_it_saved(request, clock, tmp_path):
    sb = open_sandbox(request, clock)
    state = tmp_path / "state"
    settings = in_process_settings(sb, state)
    sb.faults = ReadsFailAfterTheFirstWrite(drop_write_fields=frozenset({"state"}))

    interrupted = run_cycle(settings)
    assert interrupted.exit_code == 4, interrupted
    left = pending_actions(state)
    assert any("state" in entry.after for entry in left), "no state write was left pending"

    sb.faults = Faults()
    converge(settings)

    settled = [entry for entry in journal_entries(state) if entry.id in {e.id for e in left} and "state" in entry.after]
    assert not [entry for entry in settled if entry.outcome == "done"], "settled as done, but the state never saved"
    unverified = [entry for entry in settled if entry.outcome == "unverified"]
    assert unverified, "the note was found on the instance: the settled outcome must say what did not save"
    assert all("state reads" in entry.verification for entry in unverified), unverified
    assert not pending_actions(state)
    assert not snapshot(sb).duplicate_notes


def test_a_ticket_is_created_once_even_when_its_engagement_key_does_not_save(request, clock, tmp_path):
    sb = open_sandbox(request, clock)
    settings = in_process_settings(sb, tmp_path / "state")
    sb.faults = Faults(drop_write_fields=frozenset({"correlation_id"}))

    codes = [run_cycle(settings).exit_code for _ in range(3)]

    assert codes[0] == 1  # reported: the created ticket did not keep its engagement key
    assert sb.requests[("POST", "u_etiu_ticket")] == 1, f"{sb.requests[('POST', 'u_etiu_ticket')]} tickets created"
