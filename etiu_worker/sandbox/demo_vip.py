"""Demo engagements of the VIP upgrade pack (packs/vip-upgrade), one per phase of its process.

Each is a change request (u_upgrade_service = vip_upgrade) and its change tasks, one per step
(u_step): the pre-launch P1-P4, the launch-day L1-L6 and, in a rollback, R4, R3 and R2. A task
written ``(state, at)`` was done (or started, when open or in progress) ``at`` a number of hours
after the launch, or, for the pre-launch steps, at 05:00 UTC that many business days from today
(from the launch day, for a launch already past).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from .demo_parts import DemoEngagement, business_days, early, ensure_users, local, stamp, task_fields
from .store import Store

PACK = "vip-upgrade"
SERVICE = "vip_upgrade"
PENDING, OPEN, IN_PROGRESS, CLOSED, CANCELED = "-5", "1", "2", "3", "4"  # change task states
ASSESS, SCHEDULED, IMPLEMENT, REVIEW = "-4", "-2", "-1", "0"  # change request states
TITLES = {
    "P1": "Customer confirms the non-production environment passed internal QA",
    "P2": "VIP provides the customer the upgrade report",
    "P3": "Determine the upgrade owner",
    "P4": "Customer determines the launch date and time",
    "L1": "Customer confirms we are ready to begin",
    "L2": "Merge the pre-update pull requests",
    "L3": "Initiate the upgrade from the VIP Dashboard",
    "L4": "Merge the post-update pull requests",
    "L5": "Customer begins full quality assurance",
    "L6": "Quality assurance period concludes",
    "R4": "Revert: Merge the post-update pull requests",
    "R3": "Revert: Initiate the upgrade from the VIP Dashboard",
    "R2": "Revert: Merge the pre-update pull requests",
}
OWNER_STEPS = ("L2", "L3", "L4", "R4", "R3", "R2")  # run by the upgrade owner
PRELAUNCH = ("P1", "P2", "P3", "P4")
LAUNCH = ("L1", "L2", "L3", "L4", "L5", "L6")
Task = tuple[str, float | None]  # (state, when: business days for P steps, hours after launch for the others)


@dataclass(frozen=True)
class VipEngagement:
    """One VIP upgrade: its client, the change's state, the launch, its tasks by step."""

    story: str
    client: str
    zone: str
    change_state: str
    launch_day: int | None  # business days from today; none: no launch agreed yet
    tasks: dict[str, Task]
    launch_clock: str = "10:00"
    qa_days: int = 5
    rollback: bool = False
    owner: str = "dana.k"
    assignees: dict[str, str] = field(default_factory=dict)  # a step given to someone else


def _done_before(*steps: str) -> dict[str, Task]:
    """The pre-launch steps all closed, on the business days before today."""
    return {step: (CLOSED, -len(steps) + index) for index, step in enumerate(steps)}


ENGAGEMENTS: tuple[VipEngagement, ...] = (
    VipEngagement("launch_not_agreed", "Acme News", "America/New_York", ASSESS, None,
                  {"P1": (CLOSED, -3), "P2": (CLOSED, -2), "P3": (OPEN, -1), "P4": (PENDING, None),
                   **{step: (PENDING, None) for step in LAUNCH}}),
    VipEngagement("launch_agreed", "Globex Media", "Europe/London", SCHEDULED, 3,
                  {"P1": (CANCELED, -4), **_done_before("P2", "P3", "P4"), **{step: (PENDING, None) for step in LAUNCH}}),
    # Yesterday's launch, L2 not needed, L4 under way and given to the TAM rather than the owner.
    VipEngagement("launch_day", "Initech Press", "America/Chicago", IMPLEMENT, -1,
                  {**_done_before(*PRELAUNCH), "L1": (CLOSED, 0.25), "L2": (CANCELED, 0.5), "L3": (CLOSED, 1),
                   "L4": (IN_PROGRESS, 1.5), "L5": (PENDING, None), "L6": (PENDING, None)},
                  launch_clock="09:00", assignees={"L4": "pete.s"}),
    VipEngagement("qa_period", "Stark Sites", "Australia/Sydney", REVIEW, -3,
                  {**_done_before(*PRELAUNCH), "L1": (CLOSED, 0.25), "L2": (CLOSED, 0.5), "L3": (CLOSED, 1),
                   "L4": (CLOSED, 1.5), "L5": (CLOSED, 3), "L6": (OPEN, 3)}, owner="lee.w"),
    # The customer found the site non-functional during QA and decided to roll back: the post-update
    # pull requests are reverted, the software version is being reverted, the pre-update PRs wait.
    VipEngagement("rollback", "Wayne Daily", "America/Los_Angeles", IMPLEMENT, -2,
                  {**_done_before(*PRELAUNCH), "L1": (CLOSED, 0.25), "L2": (CLOSED, 0.5), "L3": (CLOSED, 1),
                   "L4": (CLOSED, 1.5), "L5": (CLOSED, 2), "L6": (PENDING, None),
                   "R4": (CLOSED, 5), "R3": (IN_PROGRESS, 5.5), "R2": (PENDING, None)},
                  launch_clock="08:00", rollback=True),
)


def seed_vip(store: Store, today: date) -> list[DemoEngagement]:
    """Seed the VIP demo engagements; returns them with their keys (the change numbers)."""
    with store.bulk():
        users = ensure_users(store)
        return [_seed(store, engagement, today, users) for engagement in ENGAGEMENTS]


def _seed(store: Store, engagement: VipEngagement, today: date, users: dict[str, str]) -> DemoEngagement:
    launch = _launch(engagement, today)
    created = early(business_days(today, -8))
    change = store.insert("change_request", {
        "short_description": f"VIP upgrade - {engagement.client}", "state": engagement.change_state,
        "u_upgrade_service": SERVICE, "u_client_timezone": engagement.zone, "u_upgrade_owner": users[engagement.owner],
        "u_qa_period_bd": str(engagement.qa_days), "u_rollback_decided": "true" if engagement.rollback else "false",
        "u_agreed_local": f"{launch:%Y-%m-%d %H:%M}" if launch else "",
        "start_date": stamp(launch), "end_date": stamp(launch + timedelta(hours=4) if launch else None),
        "assigned_to": users["pete.s"], "sys_created_on": stamp(created), "sys_updated_on": stamp(created),
    })
    for order, (step, task) in enumerate(engagement.tasks.items(), start=1):
        store.insert("change_task", {
            "change_request": change["sys_id"], "u_step": step, "short_description": TITLES[step], "order": str(order * 100),
            "assigned_to": users[engagement.assignees.get(step, engagement.owner if step in OWNER_STEPS else "pete.s")],
            **task_fields(task[0], *_times(step, task, launch, _prelaunch_base(engagement, today)), created),
        })
    return DemoEngagement(PACK, engagement.story, change["number"], engagement.client)


def _launch(engagement: VipEngagement, today: date) -> datetime | None:
    if engagement.launch_day is None:
        return None
    return local(business_days(today, engagement.launch_day), engagement.launch_clock, engagement.zone)


def _prelaunch_base(engagement: VipEngagement, today: date) -> date:
    """The day the pre-launch steps are dated from: today, or the launch day once it is past."""
    return business_days(today, min(engagement.launch_day or 0, 0))


def _times(step: str, task: Task, launch: datetime | None, base: date) -> tuple[datetime | None, datetime | None]:
    """(done, started) of a task: a closed or cancelled one was done then, an open one started then."""
    state, when = task
    if when is None or state == PENDING:
        return None, None
    if step.startswith("P"):
        moment = early(business_days(base, int(when)))
    else:
        assert launch is not None, f"{step} has a time but the engagement has no launch"
        moment = launch + timedelta(hours=when)
    return (moment, None) if state in (CLOSED, CANCELED) else (None, moment)
