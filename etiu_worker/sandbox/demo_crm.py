"""Demo engagements of the Aurea CRM cloud upgrade pack (packs/aurea-crm-cloud).

Each is a Platinum Services request case (u_upgrade_service = crm_cloud_upgrade) with its case
tasks for the initiation and preparation, and a change request per environment under it (parent,
u_environment dev, uat or prod) with its change tasks (u_step). A task written ``(state, started,
done)`` went in progress and was done early (UTC) that many business days from today.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from .demo_parts import DemoEngagement, business_days, early, ensure_users, local, stamp, task_fields
from .store import Store

PACK = "aurea-crm-cloud"
SERVICE = "crm_cloud_upgrade"
CASE_NEW, CASE_OPEN = "1", "10"
TASK_OPEN, TASK_WIP, TASK_CLOSED = "1", "2", "3"  # case task states
PENDING, OPEN, IN_PROGRESS, CLOSED = "-5", "1", "2", "3"  # change task states
NEW, SCHEDULED, IMPLEMENT, REVIEW, CHANGE_CLOSED = "-5", "-2", "-1", "0", "3"  # change request states
TITLES = {
    "respond": "Respond to the request", "acknowledge": "Acknowledge the request formally",
    "analyse": "Analyse the questionnaire and the system", "verify_tests": "Verify the test cases",
    "stage_files": "Stage the upgrade files", "backup": "Back up the environment",
    "upgrade": "Upgrade the environment", "reapply": "Re-apply the settings", "transfer": "Transfer the fixes from Dev",
    "sanity": "Sanity test", "fix": "Fix issues and retest", "handover": "Hand over the Dev environment",
}
Task = tuple[str, int | None, int | None]  # (state, started, done) in business days from today
BEFORE = ("respond", "acknowledge", "analyse", "verify_tests", "stage_files")


def _closed(*steps: str, until: int) -> dict[str, Task]:
    """The steps closed one a business day, the last ``until`` business days from today."""
    first = until - len(steps) + 1
    return {step: (CLOSED, first + index, first + index) for index, step in enumerate(steps)}


@dataclass(frozen=True)
class Environment:
    """One environment's change request: its state, since when it is implemented, its tasks."""

    name: str  # dev, uat, prod or, to show the problem, an environment the pack does not know
    state: str = NEW
    started: int | None = None  # business days from today it went to Implement
    tasks: dict[str, Task] = field(default_factory=dict)
    agreed: tuple[int, str] | None = None  # the agreed local start: (business days from today, HH:MM)
    signoff: str = ""  # the Dev hand-over's approval: requested, approved


@dataclass(frozen=True)
class CrmEngagement:
    """One CRM cloud upgrade: the customer, the case, the case tasks, the environments."""

    story: str
    client: str
    zone: str
    opened: int
    case_tasks: dict[str, Task]
    environments: tuple[Environment, ...] = ()
    case_state: str = CASE_OPEN


def _backed_up(day: int) -> dict[str, Task]:
    return {"backup": (CLOSED, day, day)}


ENGAGEMENTS: tuple[CrmEngagement, ...] = (
    CrmEngagement("initiation", "Oscorp", "America/Chicago", -1, {"respond": (TASK_OPEN, -1, None)}, case_state=CASE_NEW),
    # The Development phase began 17 weekdays ago: past its 12 business days even when four of
    # them are holidays; the sanity test is still under way.
    CrmEngagement("development_over_limit", "Hooli", "America/Los_Angeles", -30, _closed(*BEFORE, until=-19), (
        Environment("dev", IMPLEMENT, -17, {**_backed_up(-18), **_closed("upgrade", "reapply", until=-8),
                                            "sanity": (IN_PROGRESS, -7, None)}),
        Environment("uat", tasks=_backed_up(-18)), Environment("prod", tasks=_backed_up(-18)))),
    # Dev handed over six weekdays ago (at least three business days, holidays or not) and not
    # signed off yet: the customer is reminded, UAT waits.
    CrmEngagement("signoff_pending", "Pied Piper", "America/New_York", -30, _closed(*BEFORE, until=-20), (
        Environment("dev", REVIEW, -18, {**_backed_up(-19), **_closed("upgrade", "reapply", "sanity", "fix", "handover",
                                                                       until=-6)}, signoff="requested"),
        Environment("uat", tasks={**_backed_up(-19), "upgrade": (PENDING, None, None)}),
        Environment("prod", tasks=_backed_up(-19)))),
    # The Prod change is scheduled while UAT's sanity test is still open (the UAT to Prod gate).
    CrmEngagement("prod_scheduled_early", "Dunder Mifflin", "Europe/London", -40, _closed(*BEFORE, until=-32), (
        Environment("dev", CHANGE_CLOSED, -30, {**_backed_up(-31), **_closed("upgrade", "reapply", "sanity", "fix",
                                                                               "handover", until=-15)}, signoff="approved"),
        Environment("uat", IMPLEMENT, -7, {**_backed_up(-31), **_closed("upgrade", "reapply", "transfer", until=-3),
                                           "sanity": (IN_PROGRESS, -2, None)}),
        Environment("prod", SCHEDULED, tasks=_backed_up(-31), agreed=(5, "20:00")))),
    # A change for an environment the pack does not know: the engagement needs a person.
    CrmEngagement("unknown_environment", "Wonka", "Europe/London", -12, _closed(*BEFORE, until=-5), (
        Environment("qa", NEW),)),
)


def seed_crm(store: Store, today: date) -> list[DemoEngagement]:
    """Seed the CRM cloud demo engagements; returns them with their keys (the case numbers)."""
    with store.bulk():
        users = ensure_users(store)
        return [_seed(store, engagement, today, users) for engagement in ENGAGEMENTS]


def _moments(task: Task, today: date) -> tuple[datetime | None, datetime | None]:
    """(done, started) of a task: started at 05:30 UTC, done at 06:30 UTC on their days."""
    _, started, done = task
    return (early(business_days(today, done), 90) if done is not None else None,
            early(business_days(today, started), 30) if started is not None else None)


def _seed(store: Store, engagement: CrmEngagement, today: date, users: dict[str, str]) -> DemoEngagement:
    opened = early(business_days(today, engagement.opened), -60)
    case = store.insert("sn_customerservice_case", {
        "short_description": f"Platinum Services Request: Managed Upgrade - {engagement.client}",
        "state": engagement.case_state, "u_customer": engagement.client, "u_upgrade_service": SERVICE,
        "u_client_timezone": engagement.zone, "opened_at": stamp(opened), "assigned_to": users["dana.k"],
        "u_earliest_start": str(business_days(today, engagement.opened + 3)),
        "u_ideal_start": str(business_days(today, engagement.opened + 5)),
        "u_deadline": str(business_days(today, engagement.opened + 45)),
        "u_deadline_reason": "The CRM renewal at the end of the quarter", "u_access_ack": "true",
        "u_customizations": "Custom sales dashboards; a web service to the billing system",
        "sys_created_on": stamp(opened), "sys_updated_on": stamp(opened),
    })
    for step, task in engagement.case_tasks.items():
        store.insert("sn_customerservice_task", {
            "parent": case["sys_id"], "u_step": step, "short_description": TITLES[step], "assigned_to": users["dana.k"],
            **task_fields(task[0], *_moments(task, today), opened)})
    for environment in engagement.environments:
        _seed_environment(store, engagement, environment, case["sys_id"], today, opened, users)
    return DemoEngagement(PACK, engagement.story, case["number"], engagement.client)


def _seed_environment(store: Store, engagement: CrmEngagement, environment: Environment, case: str, today: date,
                      opened: datetime, users: dict[str, str]) -> None:
    agreed = local(business_days(today, environment.agreed[0]), environment.agreed[1], engagement.zone) \
        if environment.agreed else None
    started = early(business_days(today, environment.started)) if environment.started is not None else None
    change = store.insert("change_request", {
        "short_description": f"Aurea CRM upgrade, {environment.name.upper()} - {engagement.client}",
        "state": environment.state, "parent": case, "u_environment": environment.name, "u_upgrade_service": SERVICE,
        "u_client_timezone": engagement.zone, "work_start": stamp(started), "assigned_to": users["dana.k"],
        "u_agreed_local": f"{agreed:%Y-%m-%d %H:%M}" if agreed else "",
        "start_date": stamp(agreed), "end_date": stamp(agreed + timedelta(hours=6) if agreed else None),
        "sys_created_on": stamp(opened), "sys_updated_on": stamp(started or opened),
    })
    for order, (step, task) in enumerate(environment.tasks.items(), start=1):
        store.insert("change_task", {
            "change_request": change["sys_id"], "u_step": step, "short_description": TITLES[step],
            "order": str(order * 100), "assigned_to": users["dana.k"],
            "approval": environment.signoff if step == "handover" else "",
            **task_fields(task[0], *_moments(task, today), opened)})
