"""The piSaaS monthly upgrade pack's story end to end: the sandbox over HTTP on loopback, the real
console script with rules.packs naming packs/pisaas-monthly, two `run --once` and the report.

The worker runs on the true clock, so every customer's slot is put relative to now, in a zone whose
wall clock makes the 13:00 cut-off fall where the story needs it (Etc/GMT-N is UTC+N). One release
is Scheduled (service acceptance done), another still in Assess past its 10 business days.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from etiu_worker.engagement.values import format_sn_datetime
from etiu_worker.sandbox import Sandbox
from etiu_worker.sandbox.demo_packs import seed_packs
from integration_helpers import PASSWORD, REPO, describe, etiu, worker_env, writes

PACK = REPO / "packs" / "pisaas-monthly"
SERVICE = "pisaas_monthly"
PENDING, OPEN, CLOSED, CANCELED = "-5", "1", "3", "4"
NOTE_FIELDS = ("comments", "work_notes")


def afternoon_zone(now: datetime) -> str:
    """A zone where it is now between 14:00 and 20:59, so that today's 13:00 cut-off has passed and
    a slot two hours away is still today."""
    offset = next(hours for hours in range(-12, 15) if 14 <= (now + timedelta(hours=hours)).hour <= 18)
    return "Etc/GMT" + ("" if offset == 0 else f"{-offset:+d}")


def stamp(moment: datetime) -> str:
    return format_sn_datetime(moment)


class Story:
    """The customers the test puts in, each a case and its implementation task, by story."""

    def __init__(self, store, now: datetime) -> None:
        self.store, self.now = store, now
        self.cases: dict[str, dict] = {}
        self.tasks: dict[str, dict] = {}
        self.scheduled = self.release("piSaaS release - this month", "-2", now - timedelta(days=20))
        self.in_assess = self.release("piSaaS release - next month", "-4", now - timedelta(days=30))

    def release(self, title: str, state: str, opened: datetime) -> str:
        return self.store.insert("change_request", {
            "short_description": title, "state": state, "u_upgrade_service": SERVICE, "opened_at": stamp(opened),
            "start_date": stamp(self.now - timedelta(days=10)), "end_date": stamp(self.now + timedelta(days=20)),
            "sys_created_on": stamp(opened)})["sys_id"]

    def customer(self, story: str, zone: str, slot: datetime, state: str = PENDING, *, release: str | None = None,
                 opt_out: datetime | None = None, **task: str) -> None:
        case = self.store.insert("sn_customerservice_case", {
            "short_description": f"Monthly piSaaS upgrade - {story}", "state": "10", "u_upgrade_service": SERVICE,
            "u_customer": story.replace("_", " ").title(), "u_client_timezone": zone,
            "u_opt_out_at": stamp(opt_out) if opt_out else "", "sys_created_on": stamp(self.now - timedelta(days=5))})
        self.cases[story] = case
        self.tasks[story] = self.store.insert("change_task", {
            "change_request": release or self.scheduled, "u_customer_case": case["sys_id"], "state": state,
            "short_description": f"Upgrade the piSaaS instance of {story}",
            "planned_start_date": stamp(slot), "planned_end_date": stamp(slot + timedelta(hours=2)),
            "sys_created_on": stamp(self.now - timedelta(days=5)), **task})

    def case(self, story: str) -> dict:
        return self.store.get("sn_customerservice_case", self.cases[story]["sys_id"])

    def task(self, story: str) -> dict:
        return self.store.get("change_task", self.tasks[story]["sys_id"])

    def notes(self, story: str, field: str) -> list[str]:
        """The notes on the story's case and task in ``field``, oldest first."""
        found = []
        for table, record in (("sn_customerservice_case", self.cases[story]), ("change_task", self.tasks[story])):
            found += [entry["value"] for entry in self.store.journal(table, record["sys_id"], field)]
        return found


def seed(store, now: datetime) -> Story:
    story = Story(store, now)
    afternoon = afternoon_zone(now)
    local_now = now.astimezone(ZoneInfo(afternoon))
    story.customer("notice_due", "Europe/London", now + timedelta(hours=60))
    story.customer("opted_out_in_time", "Europe/Berlin", now + timedelta(hours=60), opt_out=now - timedelta(hours=1))
    story.customer("late_notice", afternoon, now + timedelta(hours=2))
    story.customer("opted_out_late", afternoon, now + timedelta(hours=2),
                   opt_out=local_now.replace(hour=13, minute=1, second=0, microsecond=0))
    story.customer("slot_missed", "Europe/London", now - timedelta(hours=26), OPEN)  # a day past, whatever the hour
    story.customer("upgraded", afternoon, now - timedelta(hours=3), CLOSED, close_code="successful",
                   work_end=stamp(now - timedelta(minutes=10)))
    story.customer("upgrade_failed", "Europe/London", now - timedelta(hours=5), CLOSED, close_code="unsuccessful")
    story.customer("awaiting_acceptance", "Europe/London", now + timedelta(hours=60), release=story.in_assess)
    return story


@pytest.fixture(scope="module")
def story(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("pisaas")
    with Sandbox(password=PASSWORD).start(port=0) as sandbox:
        seeded = seed(sandbox.store, datetime.now(timezone.utc).replace(microsecond=0))
        env = worker_env(tmp_path, sandbox, RULES__PACKS=json.dumps([str(PACK)]))
        first = etiu(["run", "--once"], env)
        sandbox.reset_requests()
        second = etiu(["run", "--once"], env)
        second_writes = writes(sandbox)
        html = tmp_path / "report.html"
        yield {"story": seeded, "first": first, "second": second, "second_writes": second_writes,
               "report": etiu(["report"], env), "report_json": etiu(["report", "--format", "json"], env),
               "html": etiu(["report", "--html", str(html)], env), "html_path": html}


def test_the_first_run_acts_on_every_customer_and_exits_0(story):
    assert story["first"].returncode == 0, describe(story["first"])
    assert "8 engagements" in story["first"].stdout, describe(story["first"])


def test_a_slot_60_hours_away_gets_the_customer_notice_with_the_13_00_cut_off_and_no_answer_means_we_proceed(story):
    [notice] = story["story"].notes("notice_due", "comments")

    assert "opt out, please tell us by 13:00 on that day" in notice
    assert "If we do not hear from you, we will proceed with the upgrade as planned." in notice
    assert story["story"].notes("notice_due", "work_notes") == []


def test_an_opt_out_before_the_cut_off_cancels_the_task_and_moves_the_case_to_next_month(story):
    seeded = story["story"]
    slot_day = (seeded.now + timedelta(hours=60)).astimezone(ZoneInfo("Europe/Berlin")).date()
    next_month = date(slot_day.year + slot_day.month // 12, slot_day.month % 12 + 1, 1)

    assert seeded.task("opted_out_in_time")["state"] == CANCELED
    assert seeded.case("opted_out_in_time")["u_next_cycle"] == next_month.isoformat()
    [comment] = seeded.notes("opted_out_in_time", "comments")  # no notice to a customer who opted out: this
    assert comment.startswith("Thank you: as you asked, we will not upgrade your dashboard on ")
    assert f"Your upgrade moves to next month's cycle, from {next_month.isoformat()}" in comment
    assert any("by the 13:00 cut-off" in note for note in seeded.notes("opted_out_in_time", "work_notes"))


def test_a_notice_less_than_48_hours_before_the_slot_is_flagged_and_at_13_00_the_task_opens_as_notified(story):
    seeded = story["story"]
    flags = [note for note in seeded.notes("late_notice", "work_notes") if note.startswith("[PISAAS FLAG]")]

    assert len(seeded.notes("late_notice", "comments")) == 1
    assert len(flags) == 2 and all("less than 48 hours before the slot: replan" in flag for flag in flags)
    assert seeded.task("late_notice")["state"] == OPEN
    assert any("proceeding as notified" in note for note in seeded.notes("late_notice", "work_notes"))


def test_an_opt_out_one_minute_after_13_00_is_flagged_on_case_and_task_and_cancels_nothing(story):
    seeded = story["story"]
    flags = [note for note in seeded.notes("opted_out_late", "work_notes") if "after the 13:00 cut-off" in note]

    assert len(flags) == 2 and seeded.task("opted_out_late")["state"] == PENDING


def test_a_slot_over_with_its_task_open_is_flagged_to_replan(story):
    flags = story["story"].notes("slot_missed", "work_notes")

    assert len(flags) == 2 and all("may slip to next month's cycle" in flag for flag in flags)


def test_a_successful_upgrade_is_confirmed_to_the_customer_and_a_failed_one_flagged(story):
    seeded = story["story"]

    assert [note.startswith("Dear Upgraded, your piSaaS instance was upgraded") for note in seeded.notes("upgraded", "comments")] == [True]
    assert len([note for note in seeded.notes("upgrade_failed", "work_notes") if "failed (closed unsuccessful)" in note]) == 2


def test_a_release_still_in_service_acceptance_holds_the_notice_and_warns_on_the_case(story):
    seeded = story["story"]
    [warning] = seeded.notes("awaiting_acceptance", "work_notes")

    assert seeded.notes("awaiting_acceptance", "comments") == []
    assert warning.startswith("[PISAAS WARNING]") and "in service acceptance since" in warning


def test_a_second_run_writes_nothing(story):
    assert story["second"].returncode == 0, describe(story["second"])
    assert story["second_writes"] == {}
    assert "Nothing to do" in story["second"].stdout


def test_the_report_shows_the_packs_phases_and_next_deadlines(story):
    report, items = story["report"], json.loads(story["report_json"].stdout)
    phases = {item["engagement"]: item["phase"] for item in items}
    cases = {name: case["number"] for name, case in story["story"].cases.items()}

    deadlines = {item["engagement"]: (item["next_deadline"].split(" 20")[0], item["overdue"]) for item in items}

    assert report.returncode == 0, describe(report)
    assert phases == {cases["notice_due"]: "notified", cases["opted_out_in_time"]: "next cycle",
                      cases["late_notice"]: "upgrading", cases["opted_out_late"]: "notified",
                      cases["slot_missed"]: "slot missed", cases["upgraded"]: "upgraded",
                      cases["upgrade_failed"]: "upgrade failed", cases["awaiting_acceptance"]: "service acceptance"}
    assert deadlines[cases["notice_due"]] == ("opt-out cut-off", False)
    assert deadlines[cases["awaiting_acceptance"]] == ("acceptance due", True)
    assert deadlines[cases["slot_missed"]] == ("upgrade slot", True)
    assert "opt-out cut-off" in report.stdout and "acceptance due" in report.stdout


def test_the_reports_html_page_is_written_with_the_packs_timeline(story):
    assert story["html"].returncode == 0, describe(story["html"])
    page = story["html_path"].read_text(encoding="utf-8")

    assert "piSaaS monthly upgrades" in page and "Opt-out cut-off 13:00" in page


def test_the_packs_demo_engagements_are_acted_on_once_and_a_second_run_writes_nothing(tmp_path):
    with Sandbox(password=PASSWORD).start(port=0) as sandbox:
        seed_packs(sandbox.store, datetime.now(timezone.utc).date(), packs=("pisaas-monthly",))
        env = worker_env(tmp_path, sandbox, RULES__PACKS=json.dumps([str(PACK)]))
        first = etiu(["run", "--once"], env)
        first_writes = writes(sandbox)
        sandbox.reset_requests()
        second = etiu(["run", "--once"], env)

        assert first.returncode == 0 and second.returncode == 0, describe(first) + describe(second)
        assert first_writes and writes(sandbox) == {}
