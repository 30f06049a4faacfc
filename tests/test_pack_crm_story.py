"""The aurea-crm-cloud pack's story end to end: the real console script against the sandbox over
HTTP on loopback, `run --once` twice, then `report` and `report --html`.

Three engagements, dated from the real clock with wide margins (the worker reads it): a request
whose intake lacks the reason for the deadline and the customizations (one customer-visible
comment listing them); a Dev hand-over ten days old and not signed off while UAT's upgrade has
started (a reminder to the customer, a flag on the UAT change: the stage gate); a Prod change
scheduled while UAT's sanity test is open and with its agreed local start typed as UTC (two flags
on the Prod change). Every write is read back from the instance; the second run writes nothing.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from etiu_worker.sandbox import Sandbox
from integration_helpers import PASSWORD, REPO, describe, etiu, split_notes, worker_env, writes

PACK = REPO / "packs" / "aurea-crm-cloud"
ZONE = "America/Chicago"
BEFORE = ("respond", "acknowledge", "analyse", "verify_tests", "stage_files")
DEV = ("backup", "upgrade", "reapply", "sanity", "fix", "handover")


def stamp(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


class Seeder:
    """Inserts one engagement's records into the sandbox store, dated ``days`` from now."""

    def __init__(self, store, now: datetime) -> None:
        self.store, self.now = store, now

    def at(self, days: float) -> str:
        return stamp(self.now + timedelta(days=days))

    def case(self, customer: str, opened: float, **fields: str) -> dict:
        return self.store.insert("sn_customerservice_case", {
            "short_description": f"Platinum Services Request: Managed Upgrade - {customer}", "state": "10",
            "u_customer": customer, "u_upgrade_service": "crm_cloud_upgrade", "u_client_timezone": ZONE,
            "opened_at": self.at(opened), "u_earliest_start": str(date.today()), "u_ideal_start": str(date.today()),
            "u_deadline": str(date.today() + timedelta(days=200)), "u_deadline_reason": "The CRM licence renewal",
            "u_access_ack": "true", "u_customizations": "Sales dashboards", **fields})

    def case_tasks(self, case: dict, days: float) -> None:
        for step in BEFORE:
            self.store.insert("sn_customerservice_task", {"parent": case["sys_id"], "u_step": step, "state": "3",
                                                          "work_start": self.at(days), "sys_updated_on": self.at(days)})

    def change(self, case: dict, environment: str, state: str, started: float | None = None, **fields: str) -> dict:
        return self.store.insert("change_request", {
            "parent": case["sys_id"], "u_environment": environment, "u_upgrade_service": "crm_cloud_upgrade",
            "state": state, "work_start": self.at(started) if started is not None else "", **fields})

    def task(self, change: dict, step: str, state: str, days: float, **fields: str) -> dict:
        return self.store.insert("change_task", {"change_request": change["sys_id"], "u_step": step, "state": state,
                                                 "work_start": self.at(days), "sys_updated_on": self.at(days), **fields})


def seed(store, now: datetime) -> dict[str, dict]:
    s = Seeder(store, now)
    intake = s.case("Initech", -2 / 24, u_deadline_reason="", u_customizations="")

    gate = s.case("Globex", -30)
    s.case_tasks(gate, -28)
    dev = s.change(gate, "dev", "3", -25)
    for index, step in enumerate(DEV):
        s.task(dev, step, "3", -10 if step == "handover" else -25 + index, approval="requested" if step == "handover" else "")
    uat = s.change(gate, "uat", "-1", -1)
    s.task(uat, "backup", "3", -26)
    s.task(uat, "upgrade", "2", -1)
    prod_of_gate = s.change(gate, "prod", "-5")
    s.task(prod_of_gate, "backup", "3", -26)

    prod_case = s.case("Umbrella", -30)
    s.case_tasks(prod_case, -28)
    signed = s.change(prod_case, "dev", "3", -25)
    for index, step in enumerate(DEV):
        s.task(signed, step, "3", -20 + index, approval="approved" if step == "handover" else "")
    uat_running = s.change(prod_case, "uat", "-1", -3)
    for index, step in enumerate(("backup", "upgrade", "reapply", "transfer")):
        s.task(uat_running, step, "3", -3 + index / 4)
    s.task(uat_running, "sanity", "2", -1 / 24)
    agreed = datetime.combine(now.date() + timedelta(days=14), datetime.min.time()).replace(hour=20)
    typed_as_utc = agreed.replace(tzinfo=timezone.utc)
    prod = s.change(prod_case, "prod", "-2", u_agreed_local=f"{agreed:%Y-%m-%d %H:%M}", start_date=stamp(typed_as_utc),
                    end_date=stamp(typed_as_utc + timedelta(hours=6)))
    s.task(prod, "backup", "3", -26)
    return {"intake": intake, "gate": gate, "uat": uat, "prod_case": prod_case, "prod": prod,
            "expected_prod_start": agreed.replace(tzinfo=ZoneInfo(ZONE))}


@pytest.fixture(scope="module")
def story(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("crm")
    with Sandbox(password=PASSWORD).start(port=0) as sandbox:
        records = seed(sandbox.store, datetime.now(timezone.utc))
        env = worker_env(tmp_path, sandbox, RULES__PACKS=json.dumps([str(PACK)]))
        first = etiu(["run", "--once"], env)
        notes = {name: notes_of(sandbox.store, "sn_customerservice_case" if "case" in name or name in ("intake", "gate") else
                                "change_request", records[name]["sys_id"]) for name in ("intake", "gate", "uat", "prod")}
        sandbox.reset_requests()
        second = etiu(["run", "--once"], env)
        html = tmp_path / "report.html"
        yield {"first": first, "second": second, "second_writes": writes(sandbox), "notes": notes, "records": records,
               "report": etiu(["report"], env), "html": etiu(["report", "--html", str(html)], env), "page": html}


def notes_of(store, table: str, sys_id: str) -> dict[str, list[str]]:
    """The record's journal as the instance holds it: its work notes and its customer-visible comments."""
    return {element: split_notes([entry["value"] for entry in store.journal(table, sys_id, element)])
            for element in ("work_notes", "comments")}


def test_the_first_run_exits_0_and_the_second_writes_nothing(story):
    assert story["first"].returncode == 0, describe(story["first"])
    assert story["second"].returncode == 0, describe(story["second"])
    assert story["second_writes"] == {}
    assert "Nothing to do" in story["second"].stdout


def test_an_incomplete_intake_gets_one_customer_visible_comment_listing_what_is_missing(story):
    notes = story["notes"]["intake"]

    assert len(notes["comments"]) == 1 and notes["work_notes"] == []
    assert "we still need: the reason for the deadline; the list of customizations." in notes["comments"][0]
    assert "rule intake_missing" in notes["comments"][0]


def test_a_hand_over_not_signed_off_reminds_the_customer_and_uat_started_before_it_is_flagged(story):
    reminder, = story["notes"]["gate"]["comments"]
    flag, = story["notes"]["uat"]["work_notes"]

    assert reminder.startswith("A reminder: the Dev environment was handed over to you on ") and "rule signoff_gate" in reminder
    assert flag.startswith("[PLATINUM FLAG] The UAT upgrade started before the customer signed the Dev hand-over off")


def test_the_prod_change_scheduled_before_uats_sanity_test_and_off_its_agreed_start_is_flagged_twice(story):
    gate, window = sorted(story["notes"]["prod"]["work_notes"], key=lambda note: "rule prod_window" in note)
    expected = story["records"]["expected_prod_start"]

    assert "rule prod_gate" in gate and "while UAT's sanity test is not closed complete (open)" in gate
    assert "rule prod_window" in window
    assert f"was agreed for {expected:%Y-%m-%d %H:%M}" in window and f"({stamp(expected)[:16]} UTC)" in window


def test_the_report_and_its_page_show_the_packs_phases_and_next_deadlines(story):
    report, html = story["report"], story["html"]

    assert report.returncode == 0 and html.returncode == 0, describe(report) + describe(html)
    rows = {line.split("│")[1].strip(): line for line in report.stdout.splitlines() if line.startswith("│ CS")}
    intake, gate, prod = (rows[story["records"][name]["number"]] for name in ("intake", "gate", "prod_case"))
    assert "│ initiation │" in intake and "response due" in intake
    assert "│ uat        │" in gate and "UAT phase ends" in gate
    assert "flag prod_window: The planned start of" in report.stdout
    page = story["page"].read_text(encoding="utf-8")
    assert "Aurea CRM cloud upgrades" in page and "UAT phase ends" in page and "Development (12 business days)" in page


def test_a_prod_slot_moved_after_it_was_scheduled_is_flagged_on_the_next_run_and_only_once(tmp_path):
    with Sandbox(password=PASSWORD).start(port=0) as sandbox:
        now = datetime.now(timezone.utc)
        s = Seeder(sandbox.store, now)
        case = s.case("Soylent", -30)
        s.case_tasks(case, -28)
        for environment in ("dev", "uat"):
            change = s.change(case, environment, "3", -25)
            for step in ("backup", "upgrade", "reapply", "transfer", "sanity"):
                s.task(change, step, "3", -20)
        agreed = datetime.combine(now.date() + timedelta(days=14), datetime.min.time()).replace(hour=20, tzinfo=ZoneInfo(ZONE))
        prod = s.change(case, "prod", "-2", u_agreed_local=f"{agreed:%Y-%m-%d %H:%M}", start_date=stamp(agreed),
                        end_date=stamp(agreed + timedelta(hours=6)))
        s.task(prod, "backup", "3", -26)
        env = worker_env(tmp_path, sandbox, RULES__PACKS=json.dumps([str(PACK)]))

        scheduled = etiu(["run", "--once"], env)
        before = notes_of(sandbox.store, "change_request", prod["sys_id"])["work_notes"]
        moved = agreed + timedelta(days=1)
        sandbox.store.update("change_request", prod["sys_id"], {
            "u_agreed_local": f"{moved:%Y-%m-%d %H:%M}", "start_date": stamp(moved), "end_date": stamp(moved + timedelta(hours=6))})
        after_the_move = etiu(["run", "--once"], env)
        (flag,) = notes_of(sandbox.store, "change_request", prod["sys_id"])["work_notes"]
        sandbox.reset_requests()
        again = etiu(["run", "--once"], env)

    assert [result.returncode for result in (scheduled, after_the_move, again)] == [0, 0, 0], describe(after_the_move)
    assert before == []
    assert flag.startswith(f"[PLATINUM FLAG] The Prod upgrade moved: it was scheduled for {agreed:%Y-%m-%d %H:%M} ")
    assert f"now starts {moved:%Y-%m-%d %H:%M}" in flag and "rule prod_moved" in flag
    assert writes(sandbox) == {}
