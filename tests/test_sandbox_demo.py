"""The demo seed tells one engagement story per playbook phase, with well-formed roadmaps."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import requests

from etiu_worker.sandbox import Sandbox, Store
from etiu_worker.sandbox import demo
from etiu_worker.sandbox.demo import business_days

ROADMAP = re.compile(
    r"^(?P<title>[^|]+) \| Kickoff: (?P<kickoff>\d{4}-\d{2}-\d{2}) \| Dev upgrade: (?P<dev>\d{4}-\d{2}-\d{2}) \| "
    r"Prod upgrade: (?P<prod>\d{4}-\d{2}-\d{2} \d{2}:\d{2})(?: (?P<zone>[A-Z]{2,5}))? \| "
    r"BP: (?P<bp>\d{4}-\d{2}-\d{2}) \| Support week: (?P<support>\d{4}-\d{2}-\d{2})$"
)
PHASES = {
    "kickoff", "dev_upgrade", "validation", "validation_overdue", "scheduled_verified", "window_typed_as_utc",
    "window_lost", "roadmap_drift", "support_week", "support_week_ended", "support_week_ended_bp_open",
    "duplicate_codes", "bp_outside_support_week", "change_canceled",
}
TODAYS = [date(2026, 11, 25), date(2026, 11, 28), date(2027, 3, 29), date(2027, 7, 5)]  # Wed, Sat, DST edges


class Engagement:
    """Everything the seed made for one engagement key, read back from the store."""

    def __init__(self, store: Store, key: str) -> None:
        self.tickets = store.query("u_etiu_ticket", f"correlation_id={key}")
        [self.change] = store.query("change_request", f"correlation_id={key}")
        self.ctasks = store.query("change_task", f"change_request={self.change['sys_id']}")

    def states(self) -> dict[str, str]:
        return {ticket["u_etiu_code"]: ticket["state"] for ticket in self.tickets}

    def ticket(self, code: str) -> dict[str, str]:
        [ticket] = [ticket for ticket in self.tickets if ticket["u_etiu_code"] == code]
        return ticket

    def planned_dates_ctask(self) -> dict[str, str] | None:
        found = [task for task in self.ctasks if task["short_description"] == demo.PLANNED_DATES_CTASK]
        return found[0] if found else None

    def roadmap(self, code: str = "ETIU01") -> re.Match[str]:
        match = ROADMAP.match(self.ticket(code)["short_description"])
        assert match, self.ticket(code)["short_description"]
        return match


@pytest.fixture(params=TODAYS, ids=str)
def today(request) -> date:
    return request.param


@pytest.fixture
def store(today):
    store = Store()
    demo.seed(store, today)
    return store


@pytest.fixture
def phase(store):
    keys = {engagement.phase: engagement.key for engagement in demo.ENGAGEMENTS}
    return lambda name: Engagement(store, keys[name])


def prod_local(match: re.Match[str], timezone: str) -> datetime:
    return datetime.strptime(match["prod"], "%Y-%m-%d %H:%M").replace(tzinfo=ZoneInfo(timezone))


def day(text: str) -> date:
    return date.fromisoformat(text)


def test_the_demo_has_one_engagement_per_phase_with_realistic_clients():
    assert {engagement.phase for engagement in demo.ENGAGEMENTS} == PHASES
    assert len({engagement.key for engagement in demo.ENGAGEMENTS}) == len(PHASES)
    assert len({engagement.timezone for engagement in demo.ENGAGEMENTS}) == 5


def test_every_ticket_carries_a_roadmap_in_the_grammar_within_160_characters(store):
    for ticket in store.query("u_etiu_ticket"):
        assert ROADMAP.match(ticket["short_description"]), ticket["short_description"]
        assert len(ticket["short_description"]) <= 160


def test_roadmap_dates_follow_the_playbook(store, today):
    for engagement in demo.ENGAGEMENTS:
        seeded = Engagement(store, engagement.key)
        roadmap = seeded.roadmap()
        prod = prod_local(roadmap, engagement.timezone)
        assert day(roadmap["kickoff"]) < day(roadmap["dev"]) < prod.date()
        assert day(roadmap["support"]) == business_days(prod.date(), 1)  # first business day after the upgrade
        if roadmap["zone"]:
            assert roadmap["zone"] == prod.tzname()
        within_support_week = prod.date() < day(roadmap["bp"]) <= business_days(prod.date(), 5)
        assert within_support_week == (engagement.phase != "bp_outside_support_week")


def test_siblings_share_one_roadmap_except_the_drifted_ticket(phase):
    for name in PHASES - {"roadmap_drift"}:
        engagement = phase(name)
        assert len({ticket["short_description"].split(" | ", 1)[1] for ticket in engagement.tickets}) == 1


def test_the_change_request_window_is_the_prod_upgrade_in_utc_and_lasts_three_hours(store):
    for engagement in demo.ENGAGEMENTS:
        if engagement.window != "right":
            continue
        seeded = Engagement(store, engagement.key)
        start = prod_local(seeded.roadmap(), engagement.timezone).astimezone(UTC)
        assert seeded.change["start_date"] == start.strftime("%Y-%m-%d %H:%M:%S")
        assert seeded.change["end_date"] == (start + timedelta(hours=3)).strftime("%Y-%m-%d %H:%M:%S")
        assert seeded.change["u_client_timezone"] == engagement.timezone


def test_kickoff_has_etiu01_open_and_the_rest_pending(phase):
    assert phase("kickoff").states() == {"ETIU01": "1", "ETIU02": "-5", "ETIU03": "-5", "ETIU04": "-5"}


def test_dev_upgrade_is_in_progress(phase):
    assert phase("dev_upgrade").states() == {"ETIU01": "3", "ETIU02": "2", "ETIU03": "-5", "ETIU04": "-5"}


def test_validation_started_yesterday_and_prod_is_a_few_days_ahead(phase, today):
    engagement = phase("validation")
    etiu03 = engagement.ticket("ETIU03")
    assert etiu03["state"] == "2"
    assert day(etiu03["work_start"][:10]) == business_days(today, -1)
    assert today < day(engagement.roadmap()["prod"][:10]) <= business_days(today, 5)


def test_overdue_validation_started_five_business_days_ago(phase, today):
    etiu03 = phase("validation_overdue").ticket("ETIU03")
    assert etiu03["state"] == "2"
    assert day(etiu03["work_start"][:10]) == business_days(today, -5)


def test_scheduled_and_verified_waits_for_the_worker_to_move_the_tickets(phase):
    engagement = phase("scheduled_verified")
    assert engagement.states() == {"ETIU01": "3", "ETIU02": "3", "ETIU03": "2", "ETIU04": "-5"}
    assert engagement.change["state"] == "-2"
    assert engagement.planned_dates_ctask()["state"] == "3"
    assert engagement.change["start_date"] and engagement.change["end_date"]


def test_a_window_typed_as_utc_holds_the_local_time_unconverted(phase):
    engagement = phase("window_typed_as_utc")
    assert engagement.planned_dates_ctask()["state"] == "3"
    assert engagement.change["start_date"] == engagement.roadmap()["prod"] + ":00"


def test_a_lost_window_has_empty_planned_dates_after_the_ctask_closed(phase):
    engagement = phase("window_lost")
    assert engagement.planned_dates_ctask()["state"] == "3"
    assert (engagement.change["start_date"], engagement.change["end_date"]) == ("", "")


def test_roadmap_drift_puts_a_different_bp_on_the_most_recently_updated_ticket(phase):
    engagement = phase("roadmap_drift")
    bps = {ticket["u_etiu_code"]: engagement.roadmap(ticket["u_etiu_code"])["bp"] for ticket in engagement.tickets}
    [odd] = [code for code, bp in bps.items() if list(bps.values()).count(bp) == 1]
    newest = max(engagement.tickets, key=lambda ticket: ticket["sys_updated_on"])
    assert newest["u_etiu_code"] == odd
    assert sum(ticket["sys_updated_on"] == newest["sys_updated_on"] for ticket in engagement.tickets) == 1


def test_support_week_phases(phase, today):
    running = phase("support_week")
    assert running.states() == {"ETIU01": "3", "ETIU02": "3", "ETIU03": "3", "ETIU04": "2", "SUPPORT_WEEK": "1"}
    assert day(running.roadmap()["support"]) <= business_days(today, 0)
    ended = phase("support_week_ended")
    assert (ended.states()["ETIU04"], ended.states()["SUPPORT_WEEK"]) == ("3", "1")
    assert business_days(day(ended.roadmap()["support"]), 4) < today
    still_open = phase("support_week_ended_bp_open")
    assert (still_open.states()["ETIU04"], still_open.states()["SUPPORT_WEEK"]) == ("2", "1")
    assert business_days(day(still_open.roadmap()["support"]), 4) < today


def test_duplicate_codes_give_two_etiu02_tickets(phase):
    codes = [ticket["u_etiu_code"] for ticket in phase("duplicate_codes").tickets]
    assert codes.count("ETIU02") == 2


def test_a_canceled_change_request_had_been_scheduled(phase):
    engagement = phase("change_canceled")
    assert engagement.change["state"] == "4"
    assert engagement.change["start_date"] and engagement.planned_dates_ctask()["state"] == "3"
    assert engagement.states()["ETIU03"] == "3"


def test_etiu03_has_a_work_start_once_it_went_to_work_in_progress(store):
    for ticket in store.query("u_etiu_ticket", "u_etiu_code=ETIU03^stateIN2,3"):
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", ticket["work_start"])


def test_no_demo_timestamp_is_in_the_future_of_its_day(store, today):
    latest = datetime.combine(today, datetime.min.time()).strftime("%Y-%m-%d %H:%M:%S")
    for table in ("u_etiu_ticket", "change_request", "change_task", "sys_journal_field"):
        for record in store.query(table):
            assert record["sys_updated_on"] < latest and record["sys_created_on"] < latest


def test_a_demo_sandbox_serves_the_engagements_over_http():
    with Sandbox(seed_demo=True, today=date(2026, 11, 25)).start() as sb:
        response = requests.get(
            f"{sb.url}/api/now/table/change_task", auth=(sb.user, sb.password), timeout=5,
            params={"sysparm_display_value": "true", "sysparm_query": (
                f"short_descriptionLIKE{demo.PLANNED_DATES_CTASK}^change_request.correlation_id=ENG-STARK")},
        )
        [ctask] = response.json()["result"]
        assert ctask["state"] == "Closed"
        assert ctask["change_request"]["display_value"].startswith("CHG")
