"""Whole cycles: ``etiu-worker run --once`` and ``plan`` as subprocesses against the demo sandbox.

The sandbox runs in the test process on a loopback port; the worker is a separate process with its
own state folder and only the environment a test gives it.
"""

from __future__ import annotations

import base64
import json
import re
from collections import Counter
from pathlib import Path

import pytest

from etiu_worker.state.journal import Journal
from etiu_worker.sandbox import Sandbox
from integration_helpers import (
    CHANGES,
    CYCLE_TABLES,
    JOURNAL_FIELDS,
    PASSWORD,
    TICKETS,
    TIMEOUT,
    GatedFaults,
    cycle_rows,
    describe,
    etiu,
    output,
    sandbox,  # noqa: F401 - a fixture
    start_etiu,
    state_dir,
    table_rows,
    wait_for,
    worker_env,
    writes,
)

MERGED_NOTES = re.compile(r"(?<=· ref [0-9a-f]{12})\n\n")  # between two notes of one entry
NOTE_REF = re.compile(r"— etiu-worker · rule (\S+) · ref (\w+)")
RECORD_CODES = {"ETIU01", "ETIU02", "ETIU03", "ETIU04", "SUPPORT_WEEK"}


def ticket_counts(sb: Sandbox) -> Counter[tuple[str, str]]:
    return Counter((t["correlation_id"], t["u_etiu_code"]) for t in sb.store.query(TICKETS, "correlation_idISNOTEMPTY"))


def note_refs(sb: Sandbox) -> Counter[tuple[str, str, str]]:
    """(record sys_id, journal field, note ref) of every note the worker posted, with how often."""
    refs: Counter[tuple[str, str, str]] = Counter()
    for entry in sb.store.journal():
        for match in NOTE_REF.finditer(entry["value"]):
            refs[(entry["element_id"], entry["element"], match.group(2))] += 1
    return refs


def assert_no_duplicates(sb: Sandbox, tickets_before: Counter[tuple[str, str]]) -> None:
    """No ticket created twice (the demo's own duplicate codes stay as seeded), no note posted twice."""
    for pair, count in ticket_counts(sb).items():
        assert count == tickets_before[pair] or (tickets_before[pair] == 0 and count == 1), (pair, count)
    twice = {ref: count for ref, count in note_refs(sb).items() if count > 1}
    assert not twice, twice


def record_for(sb: Sandbox, row: dict[str, str]) -> dict[str, str]:
    """The instance record a printed row names by engagement, code (or 'change request') and number."""
    table = CHANGES if row["record"] == "change request" else TICKETS
    [record] = sb.store.query(table, f"number={row['number']}")
    return record


# --- run, run again, plan ----------------------------------------------------------------------


def test_a_second_run_on_the_demo_data_makes_no_writes_and_reads_each_table_once(tmp_path, sandbox):
    env = worker_env(tmp_path, sandbox)
    tickets_before = ticket_counts(sandbox)

    first = etiu(["run", "--once"], env)
    assert first.returncode == 0, describe(first)
    assert writes(sandbox), "the demo data should need some writes on the first cycle"
    sandbox.reset_requests()

    second = etiu(["run", "--once"], env)

    assert second.returncode == 0, describe(second)
    assert dict(sandbox.requests) == {("GET", table): 1 for table in CYCLE_TABLES}
    assert "Nothing to do" in second.stdout
    assert_no_duplicates(sandbox, tickets_before)


def test_plan_writes_nothing_and_prints_records_by_engagement_code_and_number(tmp_path, sandbox):
    result = etiu(["plan"], worker_env(tmp_path, sandbox))

    assert result.returncode == 0, describe(result)
    assert writes(sandbox) == {}, sandbox.requests
    # Besides the records, plan reads the instance's journal (a note already there is not planned)
    # and, on first sight of the demo's drifted BP date, the short descriptions' history.
    assert set(sandbox.requests) <= {("GET", table) for table in (*CYCLE_TABLES, "sys_journal_field", "sys_audit")}
    rows = cycle_rows(result.stdout)
    assert rows, result.stdout
    assert "What the worker would do" in result.stdout
    for row in rows:
        assert row["outcome"] == "planned"
        assert row["engagement"].startswith("ENG-")
        assert row["record"] in RECORD_CODES | {"change request", "ctask"}, row
        if row["number"] == "(new)":
            assert row["action"] == "create_ticket", row
            continue
        record = record_for(sandbox, row)
        assert record["correlation_id"] == row["engagement"], row
        if row["record"] in RECORD_CODES:
            assert record["u_etiu_code"] == row["record"], row


def test_plan_shows_exactly_what_the_next_run_does(tmp_path, sandbox):
    env = worker_env(tmp_path, sandbox)
    planned = cycle_rows(etiu(["plan"], env).stdout)

    ran = etiu(["run", "--once"], env)

    assert ran.returncode == 0, describe(ran)
    did = cycle_rows(ran.stdout)
    key = lambda row: (row["engagement"], row["record"], row["rule"], row["action"],  # noqa: E731
                       row["number"] if row["action"] != "create_ticket" else "")
    assert sorted(map(key, planned)) == sorted(map(key, did))
    assert {row["outcome"] for row in did} == {"done"}


# --- two runs at once --------------------------------------------------------------------------


def test_two_runs_on_one_state_folder_one_acts_and_the_other_exits_5(tmp_path, sandbox):
    gate = GatedFaults()
    sandbox.faults = gate  # the instance holds every request until the test lets it go
    env = worker_env(tmp_path, sandbox)
    lock = state_dir(tmp_path) / "etiu-worker.lock"
    tickets_before = ticket_counts(sandbox)

    first = start_etiu(["run", "--once"], env)
    try:
        wait_for(lambda: lock.exists() and lock.read_text().strip() == str(first.pid) or first.poll() is not None,
                 timeout=TIMEOUT, what="the first run to take the lock")
        assert first.poll() is None, "the first run ended before the second started"
        assert gate.waiting.acquire(timeout=TIMEOUT), "the first run never reached the instance"

        # While the first is stuck in its first request; a second that waited for the lock would time out.
        second = etiu(["run", "--once"], env, timeout=20)

        assert second.returncode == 5, describe(second)
        assert f"pid {first.pid}" in second.stderr and "another etiu-worker run" in second.stderr
        assert "Traceback" not in output(second)
        assert first.poll() is None  # the second did not wait for the first to finish
        assert sum(sandbox.requests.values()) == 1  # only the first run's first request
    finally:
        gate.release()
        first_out, first_err = first.communicate(timeout=TIMEOUT)

    assert first.returncode == 0, f"exit {first.returncode}\n{first_out}\n{first_err}"
    assert writes(sandbox)
    assert_no_duplicates(sandbox, tickets_before)
    with Journal.open(state_dir(tmp_path)) as journal:
        [run] = journal.runs()
    assert run.outcome == "ok"


# --- writes that fail silently -----------------------------------------------------------------


def stored_value(sb: Sandbox, table: str, sys_id: str, field: str, value: str) -> bool:
    """Whether ``value`` persisted: equal for a plain field, among the entries of a journal field."""
    if field in JOURNAL_FIELDS:
        # Notes planned on one record in one cycle share one entry: each is one part of it.
        return any(value in MERGED_NOTES.split(entry["value"]) for entry in sb.store.journal(table, sys_id, field))
    record = sb.store.get(table, sys_id)
    return record is not None and record.get(field) == value


def test_writes_that_do_not_persist_are_reported_unverified_and_never_done(tmp_path, sandbox):
    sandbox.faults.drop_write_fields = frozenset({"state"})
    env = worker_env(tmp_path, sandbox)

    result = etiu(["run", "--once"], env)

    assert result.returncode == 1, describe(result)
    with Journal.open(state_dir(tmp_path)) as journal:
        entries = journal.entries()
    unverified = [entry for entry in entries if entry.outcome == "unverified"]
    assert unverified, [(e.kind, e.outcome) for e in entries]
    for entry in unverified:
        assert "state" in entry.after
        assert re.search(r"\bstate reads\b", entry.verification), entry.verification
        assert f"unverified: {entry.kind} on {entry.number}" in result.stdout
    for entry in entries:
        if "state" in entry.after and not stored_value(sandbox, entry.table, entry.sys_id, "state", entry.after["state"]):
            assert entry.outcome == "unverified", entry
        if entry.outcome == "done":
            for field, value in entry.after.items():
                assert stored_value(sandbox, entry.table, entry.sys_id, field, value), (entry, field)

    listed = etiu(["journal", "--outcome", "unverified"], env)

    assert listed.returncode == 0, describe(listed)
    for entry in unverified:
        assert entry.number in listed.stdout
    assert "done" not in {row[8] for row in table_rows_of(listed.stdout)}


def table_rows_of(text: str) -> list[list[str]]:
    """The rows of ``etiu-worker journal``'s table (time, run, ..., outcome, verification)."""
    return [row for row in table_rows(text) if len(row) >= 10]


# --- secrets and logs --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def debug_json_cycle(tmp_path_factory):
    """One cycle at --debug with JSON logs, through a retried 503, a dropped connection and a 429."""
    tmp_path = tmp_path_factory.mktemp("debug-json")
    with Sandbox(seed_demo=True, password=PASSWORD).start(port=0) as sb:
        sb.faults.retry_after = 0
        sb.faults.script = [503, "drop", None, 429]
        env = worker_env(tmp_path, sb, SERVICENOW__MAX_BACKOFF="0.05")
        result = etiu(["--debug", "--log-format", "json", "run", "--once"], env)
        listing = etiu(["journal", "--limit", "500"], env)
    return result, listing, state_dir(tmp_path), sb.user


def test_the_password_never_reaches_output_logs_or_the_state_folder(debug_json_cycle):
    result, listing, state, user = debug_json_cycle
    assert result.returncode == 0, describe(result)
    assert "retrying" in result.stderr  # the faults did happen, and were logged at length
    forms = [PASSWORD, base64.b64encode(f"{user}:{PASSWORD}".encode()).decode()]

    for form in forms:
        assert form not in output(result)
        assert form not in output(listing)
    files = [path for path in Path(state).rglob("*") if path.is_file()]
    assert any(path.name.endswith(".sqlite3") for path in files), files
    for path in files:
        content = path.read_bytes()
        for form in forms:
            assert form.encode() not in content, f"{form!r} found in {path}"


def test_json_logs_are_one_json_event_per_line(debug_json_cycle):
    result, _, _, _ = debug_json_cycle
    lines = result.stderr.splitlines()
    assert len(lines) > 3, result.stderr

    events = []
    for line in lines:
        event = json.loads(line)  # fails the test, naming the line, if it is not JSON
        assert isinstance(event, dict), line
        events.append(event)
    assert all({"time", "level", "logger", "message"} <= set(event) for event in events)
    levels = {event["level"] for event in events}
    assert {"debug", "info", "warning"} <= levels
    assert any(event.get("run") for event in events)  # context travels as fields, not in the text
