"""Hostile and broken records on the instance, and the secrets the worker holds.

Records people typed (or a script broke) sit beside the demo engagements: missing fields, unknown
states, dates that are not dates, a time zone that does not exist, a 10,000-character short
description, one that looks like a Jinja template and one that looks like an encoded query, an
engagement key holding ``^`` and a line break, a ticket whose free text leaves no room for the
dates. The worker runs on them as a real process, twice, at ``--debug`` with JSON logs: each bad
record is flagged with a note saying what is wrong (or its engagement skipped with a log line
saying why), text is carried verbatim and never evaluated, every demo engagement is handled
exactly as in a clean run, nothing crashes, and the password appears nowhere.
"""

from __future__ import annotations

import base64
import json
import queue
import signal
import threading
import time
from datetime import datetime, timezone

import pytest

from etiu_worker.sandbox import demo

from safety_helpers import (
    PASSWORD,
    SUBPROCESS_TIMEOUT,
    describe,
    in_process_settings,
    note_footer,
    run_cycle,
    run_worker,
    seeded_sandbox,
    snapshot,
    start_worker,
    worker_env,
    assert_same_instance,
)

TEMPLATE = "{{ config }}{% for x in ().__class__.__base__.__subclasses__() %}{% endfor %}"
QUERY = "x^ORsys_id!=0^NQactive=true"
LONG = ("Validation of a very long title " * 400)[:10_000]
EVIL_KEY = "ENG-H-^ORsys_id!=0\nEVIL"
DEMO_KEYS = {engagement.key for engagement in demo.ENGAGEMENTS}
SYSTEM_FIELDS = ("sys_id", "number", "sys_mod_count")

# key: (demo engagement it is cloned from, ticket fields by code, change request fields)
HOSTILE = {
    "ENG-H-MISSING": ("ENG-ACME", {"ETIU01": {"state": "", "short_description": "", "u_etiu_code": ""}}, {}),
    "ENG-H-UNKNOWN-STATE": ("ENG-ACME", {"ETIU02": {"state": "99"}}, {"state": "99"}),
    "ENG-H-BAD-DATES": ("ENG-STARK", {}, {"start_date": "next tuesday", "end_date": "2026-13-45 25:61:00"}),
    "ENG-H-MARS": ("ENG-ACME", {}, {"u_client_timezone": "Mars/Olympus"}),
    "ENG-H-LONG": ("ENG-ACME", {"ETIU03": {"short_description": LONG}}, {}),
    "ENG-H-TEMPLATE": ("ENG-ACME", {"ETIU02": {"short_description": TEMPLATE}}, {}),
    "ENG-H-QUERY": ("ENG-ACME", {"ETIU02": {"short_description": QUERY}}, {}),
    # The drifted roadmap of ENG-SOYLENT makes the worker write to this engagement and read it back.
    EVIL_KEY: ("ENG-SOYLENT", {}, {}),
    # ETIU01 must be rewritten (the BP date moved) but its free text leaves no room for the dates.
    "ENG-H-NO-ROOM": ("ENG-SOYLENT", {"ETIU01": {"short_description": None}}, {}),
}
NO_ROOM_TEXT = "call the client the day before the upgrade " * 4
# What the flag note on the bad record must say, for the engagements the worker must flag.
FLAGGED = {
    # A record of no role (its code is empty) is flagged for its code; its state is read once it has one.
    "ENG-H-MISSING": ["has the unknown code '' in u_etiu_code"],
    "ENG-H-UNKNOWN-STATE": ["is in state '99'"],
    "ENG-H-BAD-DATES": ["start_date = 'next tuesday'", "end_date = '2026-13-45 25:61:00'"],
    "ENG-H-MARS": ["'Mars/Olympus' is not an IANA zone"],
}


def clone(sb, source: str, key: str, tickets: dict, change: dict) -> None:
    """A copy of a demo engagement under ``key``, with some fields replaced, as a person would type them."""
    store = sb.store
    [original] = store.query("change_request", f"correlation_id={source}")
    copy = store.insert("change_request", {**_without_system(original), "correlation_id": key, **change})
    for ctask in store.query("change_task", f"change_request={original['sys_id']}"):
        store.insert("change_task", {**_without_system(ctask), "change_request": copy["sys_id"]})
    for ticket in store.query("u_etiu_ticket", f"correlation_id={source}"):
        fields = {**_without_system(ticket), "correlation_id": key, **tickets.get(ticket["u_etiu_code"], {})}
        if fields["short_description"] is None:  # the original, with free text after the dates
            fields["short_description"] = f"{ticket['short_description']} | {NO_ROOM_TEXT.strip()}"
        copied = store.insert("u_etiu_ticket", fields)
        # The history of the original's short description too: the worker, seeing the clone for
        # the first time, tells by it which date a person changed.
        for row in store.query("sys_audit", f"documentkey={ticket['sys_id']}"):
            store.insert("sys_audit", {**_without_system(row), "documentkey": copied["sys_id"],
                                       "sys_created_on": row["sys_created_on"]})


def _without_system(record: dict) -> dict:
    return {name: value for name, value in record.items() if name not in SYSTEM_FIELDS}


def arrange_hostile(sb) -> None:
    for key, (source, tickets, change) in HOSTILE.items():
        clone(sb, source, key, tickets, change)


def events(stderr: str) -> list[dict]:
    """The JSON log events; a line that is not one fails the test (the format was asked for)."""
    parsed = []
    for line in stderr.splitlines():
        try:
            parsed.append(json.loads(line))
        except json.JSONDecodeError:
            pytest.fail(f"a stderr line is not a JSON event: {line[:300]!r}")
    return parsed


class HostileRun:
    def __init__(self, sb, state, runs, clean):
        self.sb, self.state, self.runs, self.clean = sb, state, runs, clean

    def events(self) -> list[dict]:
        return [event for run in self.runs for event in events(run.stderr)]

    def records(self, key: str, table: str = "u_etiu_ticket") -> list[dict]:
        return [record for record in self.sb.store.query(table) if record.get("correlation_id") == key]

    def notes(self, key: str) -> list[str]:
        ids = {record["sys_id"] for table in ("u_etiu_ticket", "change_request") for record in self.records(key, table)}
        return [entry["value"] for entry in self.sb.store.journal() if entry["element_id"] in ids]


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """Two ``run --once`` on the demo instance plus the hostile engagements, and a clean run to compare."""
    today = datetime.now(timezone.utc).date()
    clean_sb = seeded_sandbox(today)
    try:
        settings = in_process_settings(clean_sb, tmp_path_factory.mktemp("clean") / "state")
        assert [run_cycle(settings).exit_code for _ in range(2)] == [0, 0]
        clean = snapshot(clean_sb)
    finally:
        clean_sb.stop()

    sb = seeded_sandbox(today, arrange=arrange_hostile)
    state = tmp_path_factory.mktemp("hostile") / "state"
    env = worker_env(sb, state)
    runs = [run_worker(env, "--debug", "--log-format", "json", "run", "--once") for _ in range(2)]
    yield HostileRun(sb, state, runs, clean)
    sb.stop()


def test_the_cycle_finishes_on_hostile_records_and_nothing_crashes(hostile):
    for run in hostile.runs:
        assert run.returncode in (0, 1), describe(run)
        assert "internal error" not in run.stderr, describe(run)
        assert any(event["message"].startswith("cycle finished") for event in events(run.stderr)), describe(run)
    assert not [e for e in hostile.events() if e["level"] in ("error", "critical") and "skipped" not in e["message"]]


@pytest.mark.parametrize("key", sorted(FLAGGED))
def test_a_record_the_playbook_cannot_trust_is_flagged_once_with_a_note_saying_what_is_wrong(hostile, key):
    flags = [note for note in hostile.notes(key) if note.startswith("[ETIU FLAG]")]
    for clue in FLAGGED[key]:
        assert [note for note in flags if clue in note], f"no flag on {key} says {clue!r}: {flags}"
    refs = [note_footer(note) for note in flags]
    assert len(refs) == len(set(refs)), f"a flag was posted twice over two cycles: {refs}"
    logged = [e for e in hostile.events() if e.get("engagement") == key and e["level"] in ("info", "warning", "error")]
    assert any("flag" in e["message"] for e in logged), f"no log line says {key} was flagged: {logged}"
    # Flagged, the engagement is left alone: nothing but notes was written to it.
    assert not [e for e in logged if e.get("action") not in (None, "flag")], logged


def assert_logged_write(hostile, key: str, action: str) -> None:
    logged = [e for e in hostile.events() if e.get("engagement") == key and e["level"] == "info"]
    assert any(e.get("action") == action for e in logged), f"no log line says {action} on {key}: {logged}"


def test_an_engagement_the_worker_cannot_plan_is_skipped_or_flagged_and_the_others_carry_on(hostile):
    key = "ENG-H-NO-ROOM"
    skipped = [e for e in hostile.events() if e.get("engagement") == key and e["level"] == "error"
               and f"engagement {key} skipped" in e["message"] and "160" in e["message"]]
    flagged = [note for note in hostile.notes(key) if note.startswith("[ETIU FLAG]") and "160" in note]
    assert skipped or flagged, f"nothing says why {key} was left alone"
    if skipped:
        assert all(run.returncode == 1 for run in hostile.runs), "a skipped engagement is work not done: exit 1"
    # The ticket keeps the text people wrote, and every other engagement was handled as usual.
    [etiu01] = [t for t in hostile.records(key) if t["u_etiu_code"] == "ETIU01"]
    assert etiu01["short_description"].endswith(NO_ROOM_TEXT.strip())
    assert_same_instance(snapshot(hostile.sb).of_engagements(DEMO_KEYS), hostile.clean.of_engagements(DEMO_KEYS))


def test_text_that_looks_like_a_template_reaches_the_instance_verbatim_never_evaluated(hostile):
    [ticket] = [t for t in hostile.records("ENG-H-TEMPLATE") if t["u_etiu_code"] == "ETIU02"]
    assert_logged_write(hostile, "ENG-H-TEMPLATE", "update_roadmap")
    texts = [ticket["short_description"], *hostile.notes("ENG-H-TEMPLATE")]
    carried = [text for text in texts if "{{" in text or "{%" in text or "config" in text]
    assert carried, "the title was dropped: the worker should carry it with the roadmap"
    for text in carried:
        assert "{{ config }}" in text, f"the template's markup is gone: {text!r}"
        start = text.index("{{ config }}")  # the literal markup, not what it would render to
        kept = text[start:].split(" | ")[0]
        assert kept == TEMPLATE or (kept.endswith("…") and TEMPLATE.startswith(kept[:-1])), text
    assert not [t for t in texts if "<class" in t or "<Config" in t], "the template was evaluated"


@pytest.mark.parametrize(("key", "code", "text"), [
    ("ENG-H-QUERY", "ETIU02", QUERY),
    ("ENG-H-LONG", "ETIU03", LONG),
])
def test_a_title_that_looks_like_a_query_or_runs_long_is_carried_as_text(hostile, key, code, text):
    [ticket] = [t for t in hostile.records(key) if t["u_etiu_code"] == code]
    assert_logged_write(hostile, key, "update_roadmap")
    title = ticket["short_description"].split(" | ")[0]
    assert len(ticket["short_description"]) <= 160
    assert title == text or (title.endswith("…") and text.startswith(title[:-1])), ticket["short_description"]
    assert "Kickoff: " in ticket["short_description"], "the roadmap was not carried to the ticket"
    # The query-like text widened no read or write: every other engagement is as in a clean run.
    assert_same_instance(snapshot(hostile.sb).of_engagements(DEMO_KEYS), hostile.clean.of_engagements(DEMO_KEYS))


def test_an_engagement_key_with_a_caret_and_a_line_break_is_handled_like_any_other(hostile):
    def outcome(key: str) -> list[tuple[str, str, str]]:
        return sorted((t["u_etiu_code"], t["state"], t["short_description"]) for t in hostile.records(key))

    # Same records as ENG-SOYLENT, which it was cloned from: the worker did the same to both.
    assert outcome(EVIL_KEY) == outcome("ENG-SOYLENT")
    rules = sorted(note_footer(note)[0] for note in hostile.notes(EVIL_KEY) if note_footer(note))
    assert rules == sorted(note_footer(note)[0] for note in hostile.notes("ENG-SOYLENT") if note_footer(note))
    assert rules, "the worker did nothing on the cloned engagement"


def test_the_demo_engagements_are_handled_exactly_as_in_a_clean_run(hostile):
    assert_same_instance(snapshot(hostile.sb).of_engagements(DEMO_KEYS), hostile.clean.of_engagements(DEMO_KEYS))


# --- the password ------------------------------------------------------------------------------


def leaks(data: bytes, user: str) -> list[str]:
    """How the password could show up in bytes: as is, or in a Basic authorization header."""
    basic = base64.b64encode(f"{user}:{PASSWORD}".encode())
    return [form for form, needle in (("password", PASSWORD.encode()), ("basic auth", basic)) if needle in data]


def test_the_password_never_appears_in_the_output_the_state_folder_or_the_notes(hostile):
    sb = hostile.sb
    assert sb.password == PASSWORD
    for run in hostile.runs:
        assert '"level": "debug"' in run.stderr, "not a --debug run"
        assert not leaks((run.stdout + run.stderr).encode(), sb.user), "the password is in the worker's output"
    files = [path for path in hostile.state.rglob("*") if path.is_file()]
    assert files, "the state folder is empty"
    for path in files:
        assert not leaks(path.read_bytes(), sb.user), f"the password is in {path}"
    for table in ("u_etiu_ticket", "change_request", "change_task", "sys_journal_field"):
        for record in sb.store.query(table):
            assert not leaks(json.dumps(record).encode(), sb.user), f"the password is on the instance: {record}"


def test_the_password_is_not_printed_when_the_instance_refuses_it(tmp_path):
    sb = seeded_sandbox(datetime.now(timezone.utc).date(), password="something-else")
    try:
        env = worker_env(sb, tmp_path / "state") | {"ETIU_SERVICENOW__PASSWORD": PASSWORD}
        result = run_worker(env, "--debug", "--log-format", "json", "run", "--once")
    finally:
        sb.stop()

    assert result.returncode == 4, describe(result)
    assert "Authentication" in result.stderr or "authentication" in result.stderr, describe(result)
    assert not leaks((result.stdout + result.stderr).encode(), sb.user)
    for path in (tmp_path / "state").rglob("*"):
        if path.is_file():
            assert not leaks(path.read_bytes(), sb.user), path


# --- TLS ---------------------------------------------------------------------------------------


TLS_WARNING = "TLS certificate checks are OFF"


def test_tls_checks_turned_off_are_warned_about_on_every_cycle(tmp_path):
    sb = seeded_sandbox(datetime.now(timezone.utc).date())
    env = worker_env(sb, tmp_path / "state", SERVICENOW__VERIFY_TLS="false", WORKER__POLL_INTERVAL="0.2",
                     WORKER__JITTER="0")
    worker = start_worker(env, "run")
    lines: queue.Queue[str | None] = queue.Queue()

    def read() -> None:
        for line in worker.stderr:
            lines.put(line)
        lines.put(None)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    seen: list[str] = []

    def count(pattern: str) -> int:
        return sum(pattern in line for line in seen)

    try:
        deadline = time.monotonic() + SUBPROCESS_TIMEOUT
        while count(TLS_WARNING) < 2 or count("cycle started") < 2:
            try:
                line = lines.get(timeout=max(deadline - time.monotonic(), 0.01))
            except queue.Empty:
                pytest.fail(f"fewer than two cycles and TLS warnings within {SUBPROCESS_TIMEOUT}s: {''.join(seen)}")
            assert line is not None, f"the worker stopped: {''.join(seen)}"
            seen.append(line)
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=SUBPROCESS_TIMEOUT) == 0, "SIGTERM did not stop the loop cleanly"
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait(timeout=SUBPROCESS_TIMEOUT)
        reader.join(timeout=SUBPROCESS_TIMEOUT)
        worker.stdout.close()
        worker.stderr.close()
        sb.stop()

    warnings = [i for i, line in enumerate(seen) if TLS_WARNING in line]
    cycles = [i for i, line in enumerate(seen) if "cycle started" in line]
    assert all(" WARNING " in seen[i] for i in warnings), [seen[i] for i in warnings]
    # A warning before each cycle: the first before the first cycle, the second between the two.
    assert warnings[0] < cycles[0] < warnings[1] < cycles[1], "".join(seen)
