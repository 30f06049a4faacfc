"""Demo engagements, one in each phase of the upgrade playbook, dated relative to ``today``.

Each engagement is a spec in ``ENGAGEMENTS``; ``seed`` turns a spec into ETIU tickets, a Master
Change Request and its CTASKs. The roadmap every ETIU ticket carries in its short description is:

    <title> | Kickoff: <date> | Dev upgrade: <date> | Prod upgrade: <date> <HH:MM>[ <zone abbr>] | BP: <date> | Support week: <date>

where the prod upgrade is the client's local time, the support week starts on the first business
day after it and the BP session should fall in the five business days after it. Titles are kept
short so that every short description fits ServiceNow's 160 characters.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from . import dates
from .store import Store

PENDING, OPEN, WIP, CLOSED = "-5", "1", "2", "3"  # task states (ETIU tickets)
CHANGE_NEW, CHANGE_SCHEDULED, CHANGE_REVIEW, CHANGE_CLOSED, CHANGE_CANCELED = "-5", "-2", "0", "3", "4"
CTASK_PENDING, CTASK_CLOSED = "-5", "3"
PLANNED_DATES_CTASK = "Please provide the planned start date and end date"
TITLES = {"ETIU01": "Kickoff", "ETIU02": "Dev upgrade", "ETIU03": "Validation",
          "ETIU04": "BP session", "SUPPORT_WEEK": "Support week"}
UPGRADE_HOURS = 3

USERS = (  # user_name, name, time_zone
    ("admin", "System Administrator", "UTC"),
    ("aja.d", "Aja D.", "America/New_York"),
    ("jesse.m", "Jesse M.", "America/Chicago"),
    ("damien.r", "Damien R.", "America/Los_Angeles"),
)


@dataclass(frozen=True)
class Engagement:
    phase: str  # the story this engagement tells
    key: str  # correlation_id shared by the tickets and the change request
    client: str
    timezone: str
    kickoff: int  # business days from today (negative: in the past)
    prod: int  # business days from today to the prod upgrade
    tickets: tuple[tuple[str, str], ...]  # (code, state), a code may repeat
    change_state: str = CHANGE_NEW
    window: str = "none"  # none (not scheduled yet), right, utc_typed, lost
    validation_since: int | None = None  # business days ago ETIU03 went to Work in Progress
    bp_after: int = 2  # business days between the prod upgrade and the BP session
    drift: str = ""  # code of the ticket whose roadmap was edited to a later BP date
    prod_time: str = "18:00"
    abbreviation: bool = True  # whether the roadmap names the zone after the prod time
    consultant: str = "aja.d"


def _before(*codes: str) -> tuple[tuple[str, str], ...]:
    """The tickets of a phase: the codes given, with the usual ETIU01..04 states before them."""
    return tuple((code, state) for code, state in zip(("ETIU01", "ETIU02", "ETIU03", "ETIU04", "SUPPORT_WEEK"), codes))


ENGAGEMENTS: tuple[Engagement, ...] = (
    Engagement("kickoff", "ENG-ACME", "Acme Corp", "America/New_York", 0, 15,
               _before(OPEN, PENDING, PENDING, PENDING)),
    Engagement("dev_upgrade", "ENG-GLOBEX", "Globex", "Europe/London", -2, 10,
               _before(CLOSED, WIP, PENDING, PENDING), abbreviation=False, prod_time="19:00"),
    Engagement("validation", "ENG-INITECH", "Initech", "America/Chicago", -7, 3,
               _before(CLOSED, CLOSED, WIP, PENDING), validation_since=1, consultant="jesse.m"),
    # Five weekdays back: overdue (over 2 business days) even when two of them are holidays and the
    # UTC day the demo counts from is already the day after the client's.
    Engagement("validation_overdue", "ENG-UMBRELLA", "Umbrella Health", "America/Los_Angeles", -10, 2,
               _before(CLOSED, CLOSED, WIP, PENDING), validation_since=5, consultant="damien.r"),
    Engagement("scheduled_verified", "ENG-STARK", "Stark Logistics", "Australia/Sydney", -9, 3,
               _before(CLOSED, CLOSED, WIP, PENDING), CHANGE_SCHEDULED, "right", validation_since=2,
               prod_time="20:00"),
    Engagement("window_typed_as_utc", "ENG-WAYNE", "Wayne Enterprises", "America/New_York", -8, 4,
               _before(CLOSED, CLOSED, WIP, PENDING), CHANGE_SCHEDULED, "utc_typed", validation_since=1),
    Engagement("window_lost", "ENG-HOOLI", "Hooli", "America/Los_Angeles", -8, 3,
               _before(CLOSED, CLOSED, WIP, PENDING), CHANGE_SCHEDULED, "lost", validation_since=2,
               consultant="damien.r", prod_time="17:30"),
    Engagement("roadmap_drift", "ENG-SOYLENT", "Soylent Foods", "Europe/London", -6, 5,
               _before(CLOSED, CLOSED, WIP, PENDING), validation_since=1, drift="ETIU04"),
    Engagement("support_week", "ENG-VANDELAY", "Vandelay Inc", "America/Chicago", -16, -1,
               _before(CLOSED, CLOSED, CLOSED, WIP, OPEN), CHANGE_REVIEW, "right", consultant="jesse.m"),
    Engagement("support_week_ended", "ENG-CYBERDYNE", "Cyberdyne", "America/New_York", -22, -7,
               _before(CLOSED, CLOSED, CLOSED, CLOSED, OPEN), CHANGE_CLOSED, "right"),
    Engagement("support_week_ended_bp_open", "ENG-TYRELL", "Tyrell Corp", "Australia/Sydney", -21, -6,
               _before(CLOSED, CLOSED, CLOSED, WIP, OPEN), CHANGE_CLOSED, "right", prod_time="21:00"),
    Engagement("duplicate_codes", "ENG-DUNDER", "Dunder Mifflin", "America/New_York", -2, 11,
               _before(CLOSED, WIP, PENDING, PENDING) + (("ETIU02", PENDING),), consultant="jesse.m"),
    Engagement("bp_outside_support_week", "ENG-MASSIVE", "Massive Dynamic", "Europe/London", -15, -2,
               _before(CLOSED, CLOSED, CLOSED, WIP, OPEN), CHANGE_REVIEW, "right", bp_after=8),
    Engagement("change_canceled", "ENG-OSCORP", "Oscorp", "America/Chicago", -9, 3,
               _before(CLOSED, CLOSED, CLOSED, WIP, OPEN), CHANGE_CANCELED, "right", validation_since=3,
               consultant="damien.r"),
)


# ----- business days -----

def business_days(start: date, count: int) -> date:
    """``count`` business days (Monday to Friday) after ``start`` (before it when negative).

    Zero gives ``start`` itself, moved to the next business day if it falls on a weekend.
    """
    day, step = start, 1 if count >= 0 else -1
    while count == 0 and day.weekday() >= 5:
        day += timedelta(days=1)
    for _ in range(abs(count)):
        day += timedelta(days=step)
        while day.weekday() >= 5:
            day += timedelta(days=step)
    return day


# ----- the dates of one engagement -----

@dataclass(frozen=True)
class Roadmap:
    kickoff: date
    dev_upgrade: date
    prod_local: datetime  # aware, in the client's zone
    bp: date
    support_week: date
    abbreviation: bool

    def text(self, title: str, bp: date | None = None) -> str:
        zone = f" {self.prod_local.tzname()}" if self.abbreviation else ""
        return (f"{title} | Kickoff: {self.kickoff} | Dev upgrade: {self.dev_upgrade} | "
                f"Prod upgrade: {self.prod_local:%Y-%m-%d %H:%M}{zone} | BP: {bp or self.bp} | "
                f"Support week: {self.support_week}")


def roadmap(engagement: Engagement, today: date) -> Roadmap:
    kickoff = business_days(today, engagement.kickoff)
    prod_day = business_days(today, engagement.prod)
    prod_local = datetime.combine(prod_day, time.fromisoformat(engagement.prod_time), ZoneInfo(engagement.timezone))
    return Roadmap(kickoff, business_days(kickoff, 3), prod_local, business_days(prod_day, engagement.bp_after),
                   business_days(prod_day, 1), engagement.abbreviation)


def window(engagement: Engagement, plan: Roadmap) -> tuple[str, str]:
    """The change request's planned start and end as stored (UTC text), per the story."""
    if engagement.window in ("none", "lost"):
        return "", ""
    start = plan.prod_local.astimezone(UTC)
    if engagement.window == "utc_typed":  # the local wall time typed as if it were UTC
        start = plan.prod_local.replace(tzinfo=UTC)
    return dates.stamp(start), dates.stamp(start + timedelta(hours=UPGRADE_HOURS))


# ----- seeding -----

def seed(store: Store, today: date) -> list[str]:
    """Create the demo users and engagements; returns the engagement keys."""
    with store.bulk():
        users = {name: store.insert("sys_user", {"user_name": name, "name": full, "time_zone": zone})["sys_id"]
                 for name, full, zone in USERS}
        for engagement in ENGAGEMENTS:
            _seed_engagement(store, engagement, today, users[engagement.consultant])
    return [engagement.key for engagement in ENGAGEMENTS]


def _at(day: date, hour: int, minute: int = 0) -> str:
    # Early UTC hours: in the past for every zone on the day after, whatever the clock says.
    return dates.stamp(datetime.combine(day, time(hour, minute), UTC))


def _seed_engagement(store: Store, engagement: Engagement, today: date, consultant: str) -> None:
    plan = roadmap(engagement, today)
    created = _at(plan.kickoff - timedelta(days=7), 5)
    touched = _at(business_days(today, -1), 6)
    common = {"correlation_id": engagement.key, "assigned_to": consultant, "sys_created_on": created,
              "sys_updated_on": touched, "sys_created_by": engagement.consultant,
              "sys_updated_by": engagement.consultant}
    change = _seed_change(store, engagement, plan, common)
    _seed_ctasks(store, engagement, change, {k: v for k, v in common.items() if k != "correlation_id"})
    for code, state in engagement.tickets:
        ticket = store.insert("u_etiu_ticket", {**common, **_ticket(engagement, plan, code, state, today)},
                              user=engagement.consultant)
        if code == engagement.drift:
            _seed_drift_history(store, engagement, plan, ticket)


def _seed_drift_history(store: Store, engagement: Engagement, plan: Roadmap, ticket: dict[str, str]) -> None:
    """The sys_audit row of the hand edit that moved the drifted ticket's BP date: the worker, seeing
    the engagement for the first time, tells by it which date is the person's change."""
    store.insert("sys_audit", {
        "tablename": "u_etiu_ticket", "documentkey": ticket["sys_id"], "fieldname": "short_description",
        "oldvalue": plan.text(f"{TITLES[ticket['u_etiu_code']]} - {engagement.client}"),
        "newvalue": ticket["short_description"], "user": engagement.consultant, "reason": "",
        "record_checkpoint": "1", "sys_created_on": ticket["sys_updated_on"],
    })


def _seed_change(store: Store, engagement: Engagement, plan: Roadmap, common: dict[str, str]) -> str:
    start, end = window(engagement, plan)
    return store.insert("change_request", {
        **common,
        "short_description": f"Express to Enterprise production upgrade - {engagement.client}",
        "state": engagement.change_state, "start_date": start, "end_date": end,
        "u_client_timezone": engagement.timezone,
    })["sys_id"]


def _seed_ctasks(store: Store, engagement: Engagement, change: str, common: dict[str, str]) -> None:
    common = {key: value for key, value in common.items() if key != "assigned_to"}  # not a change_task field
    if engagement.window != "none":  # the CTASK appears once the conversion is scheduled
        store.insert("change_task", {**common, "change_request": change, "state": CTASK_CLOSED,
                                     "short_description": PLANNED_DATES_CTASK})
    done = engagement.prod < 0 and engagement.change_state != CHANGE_CANCELED
    store.insert("change_task", {**common, "change_request": change, "short_description": "Post-upgrade health check",
                                 "state": CTASK_CLOSED if done else CTASK_PENDING})


def _ticket(engagement: Engagement, plan: Roadmap, code: str, state: str, today: date) -> dict[str, str]:
    drifted = code == engagement.drift
    fields = {
        "u_etiu_code": code, "state": state,
        "short_description": plan.text(f"{TITLES[code]} - {engagement.client}",
                                       business_days(plan.bp, 1) if drifted else None),
    }
    if drifted:  # edited by hand after its siblings, and only this ticket
        fields["sys_updated_on"] = _at(business_days(today, -1), 7, 30)
    if code == "ETIU03" and state in (WIP, CLOSED):
        fields.update(_validation_times(engagement, plan, state, today))
    if code == "ETIU02" and state == CLOSED:
        fields["work_notes"] = "Dev upgrade and technical validation complete: no blocking issues found."
    return fields


def _validation_times(engagement: Engagement, plan: Roadmap, state: str, today: date) -> dict[str, str]:
    """ETIU03's work_start (when it went to Work in Progress) and, once closed, its work_end."""
    if engagement.validation_since is not None:
        started = business_days(today, -engagement.validation_since)
    else:  # long done: validation took place the week before the prod upgrade
        started = business_days(plan.prod_local.date(), -4)
    times = {"work_start": _at(started, 5)}
    if state == CLOSED:
        times["work_end"] = _at(min(business_days(started, 1), business_days(today, -1)), 5, 30)
    return times
