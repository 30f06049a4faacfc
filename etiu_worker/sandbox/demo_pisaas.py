"""Demo engagements of the piSaaS monthly upgrade pack (packs/pisaas-monthly).

Two release change requests (u_upgrade_service = pisaas_monthly): this month's, scheduled (its
service acceptance done), and next month's, still in service acceptance for longer than its 10
business days. Each customer has a case (the engagement) and an implementation change task under
a release, whose planned start and end are its upgrade slot, on the customer's wall clock
``days`` calendar days from today. An opt-out is written on the case (u_opt_out_at).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from .demo_parts import DemoEngagement, business_days, early, ensure_users, local, stamp, task_fields
from .store import Store

PACK = "pisaas-monthly"
SERVICE = "pisaas_monthly"
PENDING, OPEN, CLOSED = "-5", "1", "3"  # change task states
ASSESS, SCHEDULED = "-4", "-2"  # change request states
CASE_OPEN = "10"
SLOT_HOURS = 2


@dataclass(frozen=True)
class Release:
    """A month's release change: its state, when it was opened, its window (business days from today)."""

    name: str
    state: str
    opened: int
    window: tuple[int, int]


RELEASES = {
    "this_month": Release("piSaaS dashboard release - this month", SCHEDULED, -14, (-5, 10)),
    "next_month": Release("piSaaS dashboard release - next month", ASSESS, -11, (15, 30)),
}


@dataclass(frozen=True)
class PisaasEngagement:
    """One customer's monthly upgrade: its slot, its task's state, its opt-out if any."""

    story: str
    client: str
    zone: str
    release: str
    days: int  # calendar days from today to the slot
    slot_clock: str
    task_state: str
    opt_out: tuple[int, str] | None = None  # (calendar days from today, local HH:MM)
    done_after_hours: float | None = None  # when a closed task was closed, after the slot's start


ENGAGEMENTS: tuple[PisaasEngagement, ...] = (
    # The slot is three days out: the notice (72 hours before it) is due about now, by 48 hours before.
    PisaasEngagement("notice_due", "Acme Analytics", "Europe/London", "this_month", 3, "09:00", PENDING),
    # Opted out the day before yesterday, well before 13:00 on the slot's day.
    PisaasEngagement("opted_out_in_time", "Globex BI", "Europe/Berlin", "this_month", 2, "18:00", PENDING,
                     opt_out=(-2, "10:00")),
    # Opted out one minute after 13:00 on the day: flagged, nothing cancelled; the upgrade went ahead.
    PisaasEngagement("opted_out_late", "Initech Data", "America/New_York", "this_month", -2, "18:00", CLOSED,
                     opt_out=(-2, "13:01"), done_after_hours=1.5),
    # No answer, the task was opened at 13:00 as notified, and the slot passed with it still open.
    PisaasEngagement("slot_missed", "Umbrella Reports", "Europe/London", "this_month", -2, "19:00", OPEN),
    # Next month's release is still in service acceptance: no notice may go out yet.
    PisaasEngagement("awaiting_acceptance", "Massive Insights", "Europe/London", "next_month", 25, "10:00", PENDING),
)


def seed_pisaas(store: Store, today: date) -> list[DemoEngagement]:
    """Seed the two releases and the customers' cases and tasks; returns them with their keys
    (the case numbers)."""
    with store.bulk():
        users = ensure_users(store)
        releases = {name: _seed_release(store, release, today, users) for name, release in RELEASES.items()}
        return [_seed(store, engagement, today, releases[engagement.release], users) for engagement in ENGAGEMENTS]


def _seed_release(store: Store, release: Release, today: date, users: dict[str, str]) -> str:
    opened = early(business_days(today, release.opened))
    start, end = (early(business_days(today, days)) for days in release.window)
    return store.insert("change_request", {
        "short_description": release.name, "state": release.state, "u_upgrade_service": SERVICE,
        "opened_at": stamp(opened), "start_date": stamp(start), "end_date": stamp(end), "assigned_to": users["sam.t"],
        "sys_created_on": stamp(opened), "sys_updated_on": stamp(opened + timedelta(days=1)),
    })["sys_id"]


def _seed(store: Store, engagement: PisaasEngagement, today: date, release: str, users: dict[str, str]) -> DemoEngagement:
    created = early(business_days(today, -10))
    opt_out = _opt_out(engagement, today)
    case = store.insert("sn_customerservice_case", {
        "short_description": f"Monthly piSaaS upgrade - {engagement.client}", "state": CASE_OPEN,
        "u_customer": engagement.client, "u_upgrade_service": SERVICE, "u_client_timezone": engagement.zone,
        "u_opt_out_at": stamp(opt_out), "opened_at": stamp(created), "assigned_to": users["sam.t"],
        "sys_created_on": stamp(created), "sys_updated_on": stamp(opt_out or created),
    })
    slot = local(today + timedelta(days=engagement.days), engagement.slot_clock, engagement.zone)
    store.insert("change_task", {
        "change_request": release, "u_customer_case": case["sys_id"], "assigned_to": users["lee.w"],
        "short_description": f"Upgrade the piSaaS instance of {engagement.client}",
        "planned_start_date": stamp(slot), "planned_end_date": stamp(slot + timedelta(hours=SLOT_HOURS)),
        **task_fields(engagement.task_state, *_times(engagement, slot), created),
        **({"close_code": "successful"} if engagement.task_state == CLOSED else {}),
    })
    return DemoEngagement(PACK, engagement.story, case["number"], engagement.client)


def _opt_out(engagement: PisaasEngagement, today: date) -> datetime | None:
    if engagement.opt_out is None:
        return None
    days, clock = engagement.opt_out
    return local(today + timedelta(days=days), clock, engagement.zone)


def _times(engagement: PisaasEngagement, slot: datetime) -> tuple[datetime | None, datetime | None]:
    """(done, started): a closed task was done after its slot's start, an open one opened at the
    13:00 cut-off of the slot's day."""
    if engagement.task_state == CLOSED:
        return slot + timedelta(hours=engagement.done_after_hours or SLOT_HOURS), None
    if engagement.task_state == OPEN:
        return None, slot.replace(hour=13, minute=0)
    return None, None
