"""The coordinator's report for a pack other than etiu: its phases, dates, columns, views and
timeline are the pack's data (tests/packs/golive, written as data only), and a mistake in that
data is refused at load with the file, the key path and what to do.

The engagement is the pack's sample one (the records every pack is checked against), read at
different moments: before the go-live, in the freeze after it, and once live.
"""

from __future__ import annotations

import shutil
import tomllib
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from etiu_worker.engagement.workdays import BusinessCalendar
from etiu_worker.playbook.durations import TimeFrame
from etiu_worker.playbook.step_states import StepFacts, StepRecord
from etiu_worker.playbook.step_status import derive_steps
from etiu_worker.playbook.steps import load_steps
from etiu_worker.report import coordinator_phases
from etiu_worker.errors import RulesError
from etiu_worker.playbook.pack_folders import pack_folder
from etiu_worker.actions.loading import load_pack
from etiu_worker.actions.sample import SAMPLE_NOW, sample_records, sample_roadmap
from etiu_worker.engagement.roadmap_memory import remember_roadmap
from etiu_worker.report.coordinator import CoordinatorReport, Deadline, build_rows, select
from etiu_worker.report.engagement_context import build_engagements, tables_read
from etiu_worker.report.html import render_report
from etiu_worker.report.text import engagement_items, report_columns, report_fields
from etiu_worker.state.journal_flags import Flag

GOLIVE = Path(__file__).parent / "packs" / "golive"
BEFORE = SAMPLE_NOW  # 2026-11-16: the go-live (2026-11-24 18:00 EST) is ahead
IN_FREEZE = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
LIVE = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def golive():
    return load_pack(pack_folder(GOLIVE))


def rows_at(playbook, now: datetime, *, flags=(), duplicate: bool = False):
    tables = sample_records(playbook)
    if duplicate:  # two tickets with one code: records the pack cannot trust
        tickets = tables["u_etiu_ticket"]
        tables["u_etiu_ticket"] = tickets + [{**tickets[1], "sys_id": "9" * 32, "number": "ETIU0001009"}]
    engagements = build_engagements(playbook, tables, "America/New_York")
    memory = {"roadmap": remember_roadmap(sample_roadmap(playbook.checks.roadmap_sync.roadmap_labels))}
    return build_rows(engagements, {"ENG-SAMPLE": memory}, list(flags), playbook, now)


def flag(message: str, rule: str = "golive_notice") -> Flag:
    return Flag(id=1, engagement="ENG-SAMPLE", rule=rule, key="moved", table="change_request", sys_id="c" * 32,
                number="CHG0030001", message=message, opened_at=datetime(2026, 11, 20, tzinfo=UTC), resolved_at=None,
                severity="problem", kind="moved")


# --- rows ------------------------------------------------------------------------------------


def test_the_phase_is_the_packs_first_phase_that_holds(golive):
    assert [row.phase for row in rows_at(golive, BEFORE)] == ["preparing"]
    assert [row.phase for row in rows_at(golive, IN_FREEZE)] == ["frozen"]
    assert [row.phase for row in rows_at(golive, LIVE)] == ["live"]


def test_an_aside_phase_shows_but_the_stage_is_how_far_the_engagement_got(golive):
    row = rows_at(golive, IN_FREEZE, duplicate=True)[0]

    assert (row.phase, row.stage) == ("blocked", "frozen")
    assert row.problems


def test_the_columns_are_the_packs_dates_as_the_client_reads_them(golive):
    row = rows_at(golive, BEFORE)[0]

    assert [(cell.label, cell.text) for cell in row.cells] == [
        ("go-live", "2026-11-24 18:00 EST"),
        ("cut-off", "2026-11-24 13:00 EST"),  # 13:00 local on the go-live day
        ("freeze", "2026-11-25 to 2026-11-27"),  # two business days; the pack's holiday 2026-11-26 is skipped
    ]


def test_without_declared_deadlines_the_next_deadline_is_the_earliest_date_still_ahead(golive):
    # The review (kickoff plus 3 business days, 2026-11-05) is past: the cut-off comes first.
    assert rows_at(golive, BEFORE)[0].next_deadline == Deadline("cutoff", date(2026, 11, 24), "2026-11-24 13:00 EST", False)
    assert rows_at(golive, IN_FREEZE)[0].next_deadline is None


def test_views_are_the_packs_conditions_over_the_row(golive):
    before, frozen = rows_at(golive, BEFORE)[0], rows_at(golive, IN_FREEZE)[0]

    assert before.views == frozenset()
    assert frozen.views == {"live-this-week", "frozen-now"}
    assert select([before, frozen], view="frozen-now") == [frozen]
    assert select([before, frozen], phase="frozen", phases=golive.report.phase_names) == [frozen]


def test_json_and_csv_fields_and_table_columns_are_the_packs(golive):
    items = engagement_items(rows_at(golive, BEFORE))

    assert report_columns(golive.report) == ("engagement", "client", "phase", "go-live", "cut-off", "freeze", "flags",
                                             "next deadline", "consultant")
    assert list(items[0]) == list(report_fields(golive.report))
    assert (items[0]["golive"], items[0]["cutoff"]) == ("2026-11-24 18:00 EST", "2026-11-24 13:00 EST")


def test_the_packs_flag_marker_is_left_out_of_the_message_and_the_flag_goes_on_the_day_it_was_opened(golive):
    row = rows_at(golive, BEFORE, flags=[flag("[GO-LIVE] The go-live moved.")])[0]

    assert [(f.message, f.label, f.day) for f in row.flags] == [("The go-live moved.", "golive notice", date(2026, 11, 20))]


def test_a_pack_that_draws_steps_gets_a_bar_per_step_from_its_start_to_its_end(golive, monkeypatch):
    new_york = ZoneInfo("America/New_York")
    plan = load_steps(tomllib.loads(DELIVERY)["steps"])
    backup = StepFacts(StepRecord("done", started_at=datetime(2026, 11, 16, 9, tzinfo=new_york),
                                  done_at=datetime(2026, 11, 17, 9, tzinfo=new_york)))
    steps = derive_steps(plan, {"delivery.backup": backup}, TimeFrame(BusinessCalendar(), new_york), BEFORE)
    # Conditions see no steps until the engine exposes them; the report reads them from there.
    context = coordinator_phases.engagement_context
    monkeypatch.setattr(coordinator_phases, "engagement_context", lambda *args: {**context(*args), "steps": steps})

    row = rows_at(golive, BEFORE)[0]
    html = render_report(CoordinatorReport((row,), BEFORE, None, pack=golive.report), [row])

    bars = {span.label: (span.first, span.last, span.colour) for span in row.spans if span.label.startswith(("Back", "Upg"))}
    assert bars["Back up the configuration files: done"] == (date(2026, 11, 16), date(2026, 11, 17), "green")
    assert [label for label in bars if label.startswith("Upgrade dev or staging")]
    assert "<title>Back up the configuration files: done</title>" in html
    assert {date(2026, 11, 16), date(2026, 11, 24)} <= set(row.span_days)  # the timeline spans the steps too


def test_dates_the_engine_already_computed_for_the_rules_are_the_ones_the_report_shows(golive, monkeypatch):
    moved = datetime(2026, 12, 8, 23, 0, tzinfo=UTC)
    context = coordinator_phases.engagement_context

    def with_dates(*args):
        names = context(*args)
        return {**names, "dates": {"golive": moved, "cutoff": None, "freeze": None, "review": None}}

    monkeypatch.setattr(coordinator_phases, "engagement_context", with_dates)

    row = rows_at(golive, BEFORE)[0]

    assert row.cell("go-live") == "2026-12-08 18:00 EST" and row.cell("cut-off") == ""
    assert row.next_deadline == Deadline("golive", date(2026, 12, 8), "2026-12-08 18:00 EST", False)


DELIVERY = """
[steps.delivery]
role = "case_task"
ordered = true
items = [
  {id = "backup", title = "Back up the configuration files", duration = "1bd"},
  {id = "upgrade", title = "Upgrade dev or staging", duration = "5bd"},
]
"""


# --- the HTML page ---------------------------------------------------------------------------


def test_the_html_page_shows_the_packs_title_phases_views_columns_and_timeline(golive):
    rows = rows_at(golive, IN_FREEZE)

    html = render_report(CoordinatorReport(tuple(rows), IN_FREEZE, None, pack=golive.report), rows)

    assert "<title>Go-lives</title>" in html
    assert '<span class="badge c-purple">frozen · 1</span>' in html
    assert 'id="view-live-this-week"' in html and "Going live this week" in html
    assert "<th>Go-live</th><th>Cut-off</th><th>Freeze</th>" in html
    assert "<title>freeze Nov 25 to Nov 27</title>" in html  # the band over the freeze's days
    assert "Go-live: 2026-11-24 18:00 EST" in html and "Cut-off: 2026-11-24 13:00 EST" in html
    assert "Review: 2026-11-05" in html
    assert "support week" not in html.lower() and "kickoff" not in html.lower()


# --- mistakes in the pack's report data ------------------------------------------------------


def with_edit(tmp_path: Path, old: str, new: str) -> Path:
    folder = tmp_path / "golive"
    shutil.copytree(GOLIVE, folder)
    pack = folder / "pack.toml"
    text = pack.read_text(encoding="utf-8")
    assert old in text, old
    pack.write_text(text.replace(old, new, 1), encoding="utf-8")
    return folder


APPEND = "\n"  # appended at the end of pack.toml, after [[report.timeline.markers]]


@pytest.mark.parametrize(("old", "new", "message"), [
    ('when = "dates.golive and now >= dates.golive"', 'when = "dates.golvie and now >= dates.golive"',
     "PACK/pack.toml: phases[2].when: 'dates.golvie and now >= dates.golive' fails on the sample engagement: "
     "dates has no 'golvie' (did you mean 'golive'?); dates has: cutoff, freeze, golive, review"),
    ('when = "true"', 'when = "now >="',
     "PACK/pack.toml: phases[3].when: 'now >=' does not compile: unexpected 'end of template'"),
    ('when = "true"', "when = \"tickets.kickoff.state == 'opened'\"",
     "PACK/pack.toml: phases[3].when: condition \"tickets.kickoff.state == 'opened'\" compares a ticket state with "
     "'opened', which is not a ticket state (did you mean 'open'?): use one of pending, open, work_in_progress, "
     "closed_complete, closed_incomplete, closed_skipped, unknown"),
    ('name = "live"', 'name = "frozen"',
     "PACK/pack.toml: phases: the phase 'frozen' is declared twice; give each its own name"),
    ('unreadable_phase = "blocked"', 'unreadable_phase = "stuck"',
     "PACK/pack.toml: report.unreadable_phase: 'stuck' is not a phase; the phases are blocked, frozen, live, preparing"),
    (APPEND, '\n[[report.deadlines]]\ndate = "golve"\nlabel = "go-live"\n',
     "PACK/pack.toml: report.deadlines[0].date: 'golve' is not a declared date (did you mean 'golive'?); declare it "
     "under [dates] or use one that is (the dates are: golive, cutoff, freeze, review)"),
    (APPEND, '\n[[report.deadlines]]\ndate = "golive"\nlabel = "go-live"\nmet = "phase == live"\n',
     "PACK/pack.toml: report.deadlines[0].met: 'phase == live' fails on the sample engagement: 'live' is undefined "
     "(did you mean 'client'?); the names are: best_practices, calendar, change, client, codes, contacts, ctask, "
     "dates, dev_upgrade, engagement, found, key, kickoff, latches, now, numbers, phase, planned_dates, problems, "
     "prod_upgrade_local, prod_upgrade_utc, records, roadmap, stage, support_week, sync, tickets, today, validation, "
     "window, zone"),
    ('detail = "go-live"', 'detail = "golive"',
     "PACK/pack.toml: report.views[0].detail: 'golive' is not a column label (did you mean 'go-live'?); the labels "
     "are go-live, cut-off, freeze"),
    ('name = "frozen-now"', 'name = "live-this-week"',
     "PACK/pack.toml: report.views: the view 'live-this-week' is declared twice; give each its own name"),
    ('label = "freeze"\nvalue', 'value',
     "PACK/pack.toml: report.columns[2]: give the column a label (the table), a field (JSON and CSV) or both"),
    ('days = "freeze"', 'days = "freeze"\nstart = "golive"',
     "PACK/pack.toml: report.timeline.bands[0]: give either days (a range of days) or start and end (two dates), "
     "not both"),
    ('date = "review"', 'date = "reveiw"',
     "PACK/pack.toml: report.timeline.markers[2].date: 'reveiw' is not a declared date (did you mean 'review'?); "
     "declare it under [dates] or use one that is (the dates are: golive, cutoff, freeze, review)"),
    ('shape = "diamond"', 'shape = "star"',
     "PACK/pack.toml:82: report.timeline.markers.1.shape: 'star' is not allowed here; use 'circle', 'ring', 'diamond', "
     "'square' or 'bar'"),
])
def test_a_mistake_in_the_report_data_is_refused_at_load_naming_the_key(tmp_path, old, new, message):
    folder = with_edit(tmp_path, old, new) if old != APPEND else _appended(tmp_path, new)

    with pytest.raises(RulesError) as error:
        load_pack(pack_folder(folder))

    assert str(error.value).replace(str(folder), "PACK") == message


def _appended(tmp_path: Path, text: str) -> Path:
    folder = tmp_path / "golive"
    shutil.copytree(GOLIVE, folder)
    with (folder / "pack.toml").open("a", encoding="utf-8") as pack:
        pack.write(text)
    return folder
