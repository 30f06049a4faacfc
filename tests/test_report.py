"""The coordinator's report: what a coordinator reads, from the state folder alone.

One real cycle runs against the demo sandbox, the sandbox is stopped, and ``etiu-worker report``
runs as a subprocess pointed at the closed port: every answer below comes from the record cache
and the journal, never from the instance.
"""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from etiu_worker.report import coordinator
from etiu_worker.config import load_settings
from etiu_worker.report.coordinator import (
    Cell,
    CoordinatorReport,
    Deadline,
    EngagementRow,
    Mark,
    OpenFlag,
    apply_worker_writes,
)
from etiu_worker.state.journal import Journal, JournalEntry
from etiu_worker.report.html import render_report
from etiu_worker.actions.loading import runtime_playbook
from etiu_worker.cycle.runner import demo_settings, run_once
from etiu_worker.sandbox import Sandbox, demo
from integration_helpers import TIMEOUT, describe, etiu, table_rows, worker_env

COLUMNS = ("engagement", "client", "phase", "kickoff", "dev upgrade", "prod upgrade", "BP", "support week",
           "open tickets", "scheduled", "flags", "next deadline", "consultant")
DEMO = {spec.key: spec for spec in demo.ENGAGEMENTS}
ALL_KEYS = set(DEMO)
# Phases that hold whatever the day of the week or the holidays in the calendar.
KNOWN_PHASES = {
    "ENG-ACME": "kickoff",
    "ENG-GLOBEX": "dev upgrade",
    "ENG-INITECH": "client validation",
    "ENG-UMBRELLA": "client validation",
    "ENG-WAYNE": "client validation",  # its planned window was typed as UTC: not scheduled
    "ENG-HOOLI": "client validation",  # its planned window did not save: not scheduled
    "ENG-OSCORP": "client validation",  # scheduled, then cancelled: to be scheduled again
    "ENG-STARK": "scheduled",
    "ENG-VANDELAY": "support week",
    "ENG-MASSIVE": "support week",
    "ENG-TYRELL": "support week",  # over, with the best practices ticket still open
    "ENG-DUNDER": "needs attention",  # two ETIU02 tickets
}
CHROMIUM_TIMEOUT = 90  # seconds: far above what one page takes; a hung browser fails the test
NETWORK_REFERENCE = re.compile(r"""(?:src|href|xlink:href|action)\s*=\s*["']?\s*(?:[a-z]+:)?//|url\(\s*["']?\s*(?:[a-z]+:)?//|@import""", re.I)


class Synced:
    """The state folder after one real cycle on the demo, and what the test knows of the demo."""

    def __init__(self, base: Path, url: str, seeded_on: date, users: dict[str, str], at: datetime,
                 names: dict[str, str] | None = None) -> None:
        self.base, self.url, self.seeded_on, self.users, self.at = base, url, seeded_on, users, at
        self.names = names or {}  # user name -> the person's name, as sys_user holds them

    @property
    def state(self) -> Path:
        return self.base / "state"

    def report(self, *args: str, at: bool = True) -> subprocess.CompletedProcess[str]:
        """``etiu-worker report ARGS`` with the instance's port closed (and, by default, a fixed clock)."""
        moment = ["--at", self.at.strftime("%Y-%m-%dT%H:%M:%S")] if at else []
        return etiu(["report", *moment, *args], worker_env(self.base, url=self.url, user="etiu.worker"))

    def rows(self, *args: str) -> dict[str, dict[str, str]]:
        result = self.report(*args)
        assert result.returncode == 0, describe(result)
        return parse_rows(result.stdout)

    def keys(self, *args: str) -> set[str]:
        return set(self.rows(*args))

    def prod_day(self, key: str) -> date:
        return demo.roadmap(DEMO[key], self.seeded_on).prod_local.date()

    def client_today(self, key: str) -> date:
        return self.at.astimezone(ZoneInfo(DEMO[key].timezone)).date()

    def client_week(self, key: str) -> tuple[date, date]:
        today = self.client_today(key)
        monday = today - timedelta(days=today.weekday())
        return monday, monday + timedelta(days=6)


def parse_rows(stdout: str) -> dict[str, dict[str, str]]:
    rows = [dict(zip(COLUMNS, cells)) for cells in table_rows(stdout) if len(cells) == len(COLUMNS)]
    return {row["engagement"]: row for row in rows if row["engagement"] != "engagement"}


@pytest.fixture(scope="module")
def synced(tmp_path_factory) -> Synced:
    base = tmp_path_factory.mktemp("report")
    seeded_on = datetime.now(UTC).date()
    sandbox = Sandbox(seed_demo=True, today=seeded_on).start(port=0)
    try:
        people = sandbox.store.query("sys_user", "")
        users = {user["user_name"]: user["sys_id"] for user in people}
        names = {user["user_name"]: user["name"] for user in people}
        report = run_once(demo_settings(load_settings(), sandbox.url, sandbox.user, sandbox.password, base / "state"))
        assert report.exit_code == 0, [outcome.error for outcome in report.failed]
    finally:
        sandbox.stop()  # from here on, nothing answers at sandbox.url
    return Synced(base, sandbox.url, seeded_on, users, datetime.now(UTC).replace(microsecond=0), names)


# --- the table ------------------------------------------------------------------------------


def test_the_report_lists_every_demo_engagement_with_its_phase_while_the_instance_is_down(synced):
    result = synced.report(at=False)

    assert result.returncode == 0, describe(result)
    rows = parse_rows(result.stdout)
    assert set(rows) == ALL_KEYS
    assert {key: rows[key]["phase"] for key in KNOWN_PHASES} == KNOWN_PHASES
    assert rows["ENG-ACME"]["client"] == "Acme Corp"
    assert f"{len(ALL_KEYS)} of {len(ALL_KEYS)} engagements" in result.stdout
    assert "Traceback" not in result.stderr


def test_the_report_does_not_even_load_an_http_client(synced):
    probe = ("import sys\nfrom etiu_worker.cli.commands import main\nmain(['report'])\n"
             "print('loaded:', sorted(m for m in ('etiu_worker.servicenow.client', 'pysnow', 'requests') if m in sys.modules))")
    env = worker_env(synced.base, url=synced.url, user="etiu.worker")

    result = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=TIMEOUT)

    assert result.returncode == 0, describe(result)
    assert result.stdout.rstrip().endswith("loaded: []"), describe(result)


def test_each_row_carries_the_roadmap_open_tickets_schedule_flags_and_next_deadline(synced):
    rows = synced.rows()

    acme = rows["ENG-ACME"]
    plan = demo.roadmap(DEMO["ENG-ACME"], synced.seeded_on)
    assert acme["kickoff"] == plan.kickoff.isoformat()
    assert acme["dev upgrade"] == plan.dev_upgrade.isoformat()
    assert acme["prod upgrade"] == f"{plan.prod_local:%Y-%m-%d %H:%M %Z}"
    assert acme["BP"] == plan.bp.isoformat()
    assert acme["open tickets"] == "ETIU01"
    assert acme["scheduled"] == "no"
    assert acme["flags"] == "0"
    assert acme["next deadline"].startswith("kickoff ")
    assert rows["ENG-UMBRELLA"]["next deadline"].startswith("validation due ")
    assert rows["ENG-UMBRELLA"]["next deadline"].endswith("(overdue)")  # five weekdays into a two-day validation
    assert rows["ENG-OSCORP"]["scheduled"] == "no (cancelled)"
    assert rows["ENG-DUNDER"]["open tickets"] == "ETIU02"


def test_the_report_shows_what_the_worker_did_in_its_last_cycle_not_the_records_it_read_before(synced):
    # The cycle read ENG-STARK with ETIU03 in progress and no Support Week ticket, then closed ETIU03,
    # started ETIU04 and opened a Support Week ticket: the report shows the engagement as it left it.
    stark = synced.rows()["ENG-STARK"]

    assert stark["open tickets"] == "ETIU04 SUPPORT_WEEK"
    assert stark["scheduled"] == "yes"
    assert stark["next deadline"].startswith("prod upgrade ")


def test_open_flags_are_listed_with_their_messages_under_the_table(synced):
    result = synced.report("--flagged")

    assert result.returncode == 0, describe(result)
    flags = result.stdout.split("Open flags:", 1)[1]
    assert "ENG-DUNDER" in flags and "2 tickets carry the code ETIU02" in flags
    assert "ENG-OSCORP" in flags and "SCHEDULED UPGRADE CANCELLED" in flags


# --- views ----------------------------------------------------------------------------------


def test_no_prod_upgrade_lists_engagements_with_tickets_open_and_no_prod_upgrade_scheduled(synced):
    assert synced.keys("--view", "no-prod-upgrade") == {
        "ENG-ACME", "ENG-GLOBEX", "ENG-INITECH", "ENG-UMBRELLA", "ENG-WAYNE", "ENG-HOOLI", "ENG-SOYLENT",
        "ENG-DUNDER", "ENG-OSCORP",
    }


def test_upgrades_this_week_are_the_roadmap_prod_upgrades_from_monday_to_sunday_in_each_clients_zone(synced):
    expected = set()
    for key in ALL_KEYS:
        monday, sunday = synced.client_week(key)
        if monday <= synced.prod_day(key) <= sunday:
            expected.add(key)

    assert synced.keys("--view", "upgrades-this-week") == expected


def test_support_weeks_ending_are_those_whose_last_business_day_is_this_week_or_already_past(synced):
    settings = load_settings()
    calendar = runtime_playbook(settings).calendar
    expected = set()
    for key in ("ENG-VANDELAY", "ENG-MASSIVE", "ENG-TYRELL", "ENG-CYBERDYNE"):  # upgraded, not cancelled
        last_day = calendar.business_days_after(synced.prod_day(key), 5)[-1]
        over_and_closed = key == "ENG-CYBERDYNE" and synced.client_today(key) > last_day  # the worker closed it
        if last_day <= synced.client_week(key)[1] and not over_and_closed:
            expected.add(key)

    assert "ENG-TYRELL" in expected  # its support week is over, with the BP ticket still open
    assert synced.keys("--view", "support-weeks-ending") == expected


def test_bp_not_held_lists_scheduled_upgrades_whose_best_practices_ticket_is_not_closed(synced):
    # ENG-CYBERDYNE held its session (ETIU04 closed); ENG-OSCORP's upgrade was cancelled.
    assert synced.keys("--view", "bp-not-held") == {"ENG-STARK", "ENG-VANDELAY", "ENG-MASSIVE", "ENG-TYRELL"}


# --- filters --------------------------------------------------------------------------------


def test_the_consultant_filter_matches_the_tickets_assigned_to_value_in_any_case(synced):
    jesse = synced.users["jesse.m"]

    assert synced.keys("--consultant", jesse) == {"ENG-INITECH", "ENG-VANDELAY", "ENG-DUNDER"}
    assert synced.keys("--consultant", jesse.upper()) == {"ENG-INITECH", "ENG-VANDELAY", "ENG-DUNDER"}
    assert synced.keys("--consultant", synced.users["damien.r"]) == {"ENG-UMBRELLA", "ENG-HOOLI", "ENG-OSCORP"}
    assert synced.keys("--consultant", "nobody") == set()


def test_the_consultant_is_shown_by_name_and_matched_by_part_of_it_in_any_case(synced):
    damien = synced.names["damien.r"]
    first_name = damien.split()[0]
    rows = synced.rows()

    assert {key for key, row in rows.items() if row["consultant"] == damien} == {"ENG-UMBRELLA", "ENG-HOOLI", "ENG-OSCORP"}
    assert not [row for row in rows.values() if re.fullmatch(r"[0-9a-f]{32}", row["consultant"])]
    for typed in (first_name.lower(), first_name.upper(), damien):
        assert synced.keys("--consultant", typed) == {"ENG-UMBRELLA", "ENG-HOOLI", "ENG-OSCORP"}, typed


def test_a_second_cycle_reads_no_names_again(tmp_path):
    with Sandbox(seed_demo=True).start(port=0) as instance:
        settings = demo_settings(load_settings(), instance.url, instance.user, instance.password, tmp_path / "state")
        run_once(settings)
        assert instance.requests[("GET", "sys_user")] == 1  # every assignee's name in one request
        instance.reset_requests()

        run_once(settings)

        assert dict(instance.requests) == {("GET", table): 1 for table in ("u_etiu_ticket", "change_request", "change_task")}


def test_the_phase_filter_takes_the_phase_names_with_hyphens(synced):
    assert synced.keys("--phase", "client-validation") == {
        "ENG-INITECH", "ENG-UMBRELLA", "ENG-WAYNE", "ENG-HOOLI", "ENG-SOYLENT", "ENG-OSCORP",
    }
    assert synced.keys("--phase", "needs-attention") == {"ENG-DUNDER"}
    assert synced.keys("--phase", "Dev-Upgrade") == {"ENG-GLOBEX"}


def test_an_unknown_phase_is_a_usage_error_naming_the_phases(synced):
    result = synced.report("--phase", "prod")

    assert result.returncode == 2, describe(result)
    assert "client-validation" in result.stderr


def test_flagged_lists_exactly_the_engagements_the_journal_holds_open_flags_for(synced):
    with Journal.open(synced.state) as journal:
        flagged = {flag.engagement for flag in journal.open_flags()}

    assert {"ENG-DUNDER", "ENG-HOOLI", "ENG-WAYNE", "ENG-OSCORP", "ENG-UMBRELLA"} <= flagged
    assert not {"ENG-ACME", "ENG-GLOBEX", "ENG-INITECH"} & flagged
    assert synced.keys("--flagged") == flagged


def test_filters_and_a_view_combine(synced):
    jesse = synced.users["jesse.m"]

    assert synced.keys("--consultant", jesse, "--view", "no-prod-upgrade") == {"ENG-INITECH", "ENG-DUNDER"}
    assert synced.keys("--consultant", jesse, "--flagged", "--phase", "needs-attention") == {"ENG-DUNDER"}


def test_the_views_offered_on_the_command_line_are_the_coordinator_views(tmp_path):
    result = etiu(["report", "--view", "no-such-view"], worker_env(tmp_path, password=None))

    assert result.returncode == 2, describe(result)
    assert f"views are {', '.join(coordinator.VIEWS)}" in result.stderr


def test_a_state_folder_without_records_says_to_run_the_worker_first(tmp_path):
    result = etiu(["report"], worker_env(tmp_path, password=None))

    assert result.returncode == 0, describe(result)
    assert "run --once" in result.stdout
    assert not (tmp_path / "state").exists()


# --- the HTML page --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def page(synced) -> Path:
    path = synced.base / "report.html"
    result = synced.report("--html", str(path))
    assert result.returncode == 0, describe(result)
    return path


def test_the_html_page_holds_every_engagement_with_a_timeline_and_references_nothing_on_the_network(page):
    html = page.read_text(encoding="utf-8")

    for key in ALL_KEYS:
        assert f'data-key="{key}"' in html, key
    assert html.count('<svg class="timeline"') == len(ALL_KEYS)
    assert "http://" not in html and "https://" not in html
    assert not NETWORK_REFERENCE.search(html)
    assert "<script" not in html and "<link" not in html and "<img" not in html
    assert "<style>" in html  # the look is inline


def test_the_html_page_has_the_same_rows_as_the_table_for_a_view(synced, tmp_path):
    path = tmp_path / "bp.html"
    result = synced.report("--view", "bp-not-held", "--html", str(path))

    assert result.returncode == 0, describe(result)
    html = path.read_text(encoding="utf-8")
    shown = set(re.findall(r'<tr data-key="([^"]+)"', html))
    assert shown == set(parse_rows(result.stdout)) == {"ENG-STARK", "ENG-VANDELAY", "ENG-MASSIVE", "ENG-TYRELL"}


def test_an_html_file_in_a_missing_folder_is_a_one_line_error_before_anything_is_printed(synced):
    result = synced.report("--html", str(synced.base / "no" / "such" / "folder" / "report.html"))

    assert result.returncode == 3, describe(result)  # was 2 (a usage error); issue 10 asks for 3, a configuration error
    assert "report.html" in result.stderr and "Traceback" not in result.stderr
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_flag_is_marked_on_the_timeline_at_the_date_it_concerns(page):
    html = page.read_text(encoding="utf-8")
    dunder = html.split('<article class="card" id=', 1)[1].split('data-key="ENG-DUNDER"', 1)[1].split("</article>", 1)[0]

    assert '<g class="flag">' in dunder
    assert "records need a person" in dunder
    assert "2 tickets carry the code ETIU02" in dunder  # the message, on hover and under the timeline


def test_record_text_is_escaped_on_the_page():
    hostile = "<script>alert('x')</script> & \"Co\""
    row = EngagementRow(
        key='ENG-"><img src=x>', client=hostile, phase="kickoff", stage="kickoff",
        cells=(Cell("kickoff", "2026-11-02"), Cell("BP", "2026-11-20"), Cell("open tickets", "ETIU01")),
        fields={}, marks=(Mark(date(2026, 11, 2), "Kickoff 11-02", "Kickoff: 2026-11-02", "circle", "blue"),),
        span_days=(date(2026, 11, 2), date(2026, 11, 20)),
        flags=(OpenFlag("engagement_sanity", "problem", "<b>bold</b> https://evil.example/x.js", ("ETIU<1>",),
                        datetime(2026, 11, 3, tzinfo=UTC)),),
        next_deadline=Deadline("kickoff", date(2026, 11, 2), "2026-11-02", False),
        consultant="<i>aja</i>", consultants=("<i>aja</i>",), today=date(2026, 11, 3), zone="UTC", problems=(),
    )

    html = render_report(CoordinatorReport((row,), datetime(2026, 11, 3, tzinfo=UTC), None), [row])

    assert "<script>" not in html and "<img" not in html and "<b>bold" not in html and "<i>aja" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &#34;Co&#34;" in html
    assert not NETWORK_REFERENCE.search(html)  # a URL in a message is text, not a reference


def test_an_engagement_without_roadmap_dates_still_gets_a_timeline_saying_so():
    row = EngagementRow(
        key="ENG-EMPTY", client="Empty", phase="needs attention", stage="kickoff", cells=(), fields={},
        flags=(), next_deadline=None, consultant="", consultants=(), today=date(2026, 11, 3), zone="UTC",
        problems=("the roadmap in ETIU0001's short description cannot be read",),
    )
    etiu = runtime_playbook(load_settings()).report

    html = render_report(CoordinatorReport((row,), datetime(2026, 11, 3, tzinfo=UTC), None, pack=etiu), [row])

    assert html.count('<svg class="timeline"') == 1
    assert "No roadmap dates to draw yet." in html


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        pytest.skip("chromium not installed: .ci/run installs it")
    return found


def png_size(path: Path) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk, with the standard library only."""
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    assert header[12:16] == b"IHDR"
    return struct.unpack(">II", header[16:24])


def headless(browser: str, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
         f"--user-data-dir={profile}", *args],
        capture_output=True, text=True, timeout=CHROMIUM_TIMEOUT, env={"PATH": "/usr/bin:/bin", "HOME": str(profile)},
    )


def test_the_html_report_renders_in_headless_chromium_with_every_demo_engagement_on_it(page, tmp_path):
    browser = chromium()
    screenshot = tmp_path / "report.png"

    shot = headless(browser, tmp_path / "profile-shot", f"--screenshot={screenshot}", "--window-size=1400,2000",
                    page.as_uri())
    dom = headless(browser, tmp_path / "profile-dom", "--dump-dom", page.as_uri())

    assert screenshot.is_file(), shot.stderr
    assert png_size(screenshot) == (1400, 2000)
    assert screenshot.stat().st_size > 50_000, "the screenshot is nearly blank"
    assert dom.returncode == 0, dom.stderr
    for key in ALL_KEYS:
        assert key in dom.stdout, key
    assert dom.stdout.count('<svg class="timeline"') == len(ALL_KEYS)


# --- the worker's own writes over the cache (pure) ------------------------------------------


def entry(kind: str, sys_id: str, after: dict[str, str], at: datetime, number: str = "ETIU0001") -> JournalEntry:
    return JournalEntry(id=1, time=at, run_id="r1", rule="prod_upgrade_scheduled", engagement="ENG-A",
                        table="u_etiu_ticket", sys_id=sys_id, number=number, target="validation", kind=kind,
                        after=after, outcome="done")


def test_a_verified_write_newer_than_the_cached_record_is_shown_and_a_persons_later_change_wins():
    cached = {"u_etiu_ticket": [
        {"sys_id": "a", "state": "2", "sys_updated_on": "2026-11-03 10:00:00"},
        {"sys_id": "b", "state": "2", "sys_updated_on": "2026-11-03 12:00:00"},  # a person, after the worker
    ]}
    written = datetime(2026, 11, 3, 11, 0, tzinfo=UTC)
    entries = [entry("set_state", "a", {"state": "3", "work_notes": "note"}, written),
               entry("set_state", "b", {"state": "3"}, written),
               replace(entry("set_state", "a", {"state": "7"}, written + timedelta(minutes=1)), outcome="unverified")]

    merged = {record["sys_id"]: record for record in apply_worker_writes(cached, entries, {})["u_etiu_ticket"]}

    assert merged["a"]["state"] == "3" and "work_notes" not in merged["a"]
    assert merged["b"]["state"] == "2"


def test_a_ticket_the_worker_created_is_shown_until_the_cache_reads_it_but_not_once_deleted():
    created = datetime(2026, 11, 3, 11, 0, tzinfo=UTC)
    new = entry("create_ticket", "new", {"u_etiu_code": "SUPPORT_WEEK", "state": "1"}, created, number="ETIU0009")

    not_read_yet = apply_worker_writes({"u_etiu_ticket": []}, [new], {"u_etiu_ticket": "2026-11-03 10:00:00"})
    read_since = apply_worker_writes({"u_etiu_ticket": []}, [new], {"u_etiu_ticket": "2026-11-03 12:00:00"})

    assert [record["number"] for record in not_read_yet["u_etiu_ticket"]] == ["ETIU0009"]
    assert read_since["u_etiu_ticket"] == []
