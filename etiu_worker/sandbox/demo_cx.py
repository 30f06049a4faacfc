"""Demo engagements of the Aurea CX managed upgrade pack (packs/aurea-cx-managed).

Each is a Platinum Services request case (u_upgrade_service = cx_managed_upgrade) with its intake
fields, and its case tasks, one per activity (u_step), as far as the engagement got. A task
written ``(state, started, done)`` went in progress and was done early (UTC) that many business
days from today (none: not yet).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from .demo_parts import DemoEngagement, business_days, early, ensure_users, stamp, task_fields
from .store import Store

PACK = "aurea-cx-managed"
SERVICE = "cx_managed_upgrade"
PENDING, OPEN, WIP, CLOSED = "-5", "1", "2", "3"  # case task states
CASE_NEW, CASE_OPEN = "1", "10"
TITLES = {
    "respond": "Respond to the request", "acknowledge": "Acknowledge the request formally",
    "setup": "Set up the project framework", "prepare_upgrade": "Prepare for the upgrade",
    "prepare_environment": "Prepare the environment for the upgrade",
    "backup": "Back up the configuration files", "upgrade": "Upgrade the development or staging environment",
    "test": "Perform non-functional testing", "fix_retest": "Fix issues and retest",
    "create_playbook": "Create the playbook", "review_playbook": "Review the playbook",
    "revise_playbook": "Discuss and make the agreed changes to the playbook",
    "final_playbook": "Deliver the final playbook", "oncall": "On-call support of the playbook",
}
CUSTOMER_STEPS = ("prepare_environment", "review_playbook")
Task = tuple[str, int | None, int | None]  # (state, started, done) in business days from today


def _closed(*steps: str, until: int) -> dict[str, Task]:
    """The steps closed one a business day, the last ``until`` business days from today."""
    first = until - len(steps) + 1
    return {step: (CLOSED, first + index, first + index) for index, step in enumerate(steps)}


@dataclass(frozen=True)
class CxEngagement:
    """One managed upgrade: the customer, the case's intake, its tasks by step."""

    story: str
    client: str
    zone: str
    opened: int  # business days from today the request case was opened
    tasks: tuple[tuple[str, Task], ...]  # a step may repeat (a duplicate task)
    case_state: str = CASE_OPEN
    intake: dict[str, str] = field(default_factory=dict)  # intake fields that differ from a complete one
    consultant: str = "rosa.m"


INITIATION = ("respond", "acknowledge", "setup")
ENGAGEMENTS: tuple[CxEngagement, ...] = (
    # The request came in yesterday without the deadline's reason and the access acknowledgement.
    CxEngagement("intake_incomplete", "Hooli Labs", "America/Los_Angeles", -1,
                 (("respond", (OPEN, -1, None)),), CASE_NEW, {"u_deadline_reason": "", "u_access_ack": "false"}),
    # The customer's environment is not prepared after five business days: the upgrade waits.
    CxEngagement("environment_pending", "Soylent Foods", "Europe/London", -10,
                 (*_closed(*INITIATION, until=-7).items(), ("prepare_upgrade", (CLOSED, -6, -6)),
                  ("prepare_environment", (OPEN, -5, None)), ("backup", (CLOSED, -5, -5)),
                  ("upgrade", (PENDING, None, None)))),
    # The upgrade has run seven business days, past its planned week.
    CxEngagement("execution_overdue", "Vandelay Industries", "America/Chicago", -16,
                 (*_closed(*INITIATION, "prepare_upgrade", "prepare_environment", "backup", until=-8).items(),
                  ("upgrade", (WIP, -7, None)), ("test", (PENDING, None, None)),
                  ("fix_retest", (PENDING, None, None)))),
    # The final playbook was delivered two business days ago: on-call support is open.
    CxEngagement("on_call", "Cyberdyne Systems", "America/New_York", -25,
                 (*_closed(*INITIATION, "prepare_upgrade", "prepare_environment", "backup", "upgrade", "test",
                           "fix_retest", "create_playbook", "review_playbook", "revise_playbook", "final_playbook",
                           until=-2).items(), ("oncall", (WIP, -2, None)))),
    # Two tasks for the consultant's response: the engagement needs a person (duplicate step).
    CxEngagement("duplicate_response", "Tyrell Corp", "America/Chicago", -2,
                 (("respond", (OPEN, -2, None)), ("respond", (PENDING, None, None))), CASE_NEW),
)


def seed_cx(store: Store, today: date) -> list[DemoEngagement]:
    """Seed the managed-upgrade demo engagements; returns them with their keys (the case numbers)."""
    with store.bulk():
        users = ensure_users(store)
        return [_seed(store, engagement, today, users) for engagement in ENGAGEMENTS]


def _intake(engagement: CxEngagement, today: date) -> dict[str, str]:
    complete = {
        "u_current_version": "CX Process 16.2", "u_earliest_start": str(business_days(today, engagement.opened + 3)),
        "u_ideal_start": str(business_days(today, engagement.opened + 5)),
        "u_deadline": str(business_days(today, engagement.opened + 30)),
        "u_deadline_reason": "The current version leaves support at the end of the quarter", "u_access_ack": "true",
    }
    return {**complete, **engagement.intake}


def _seed(store: Store, engagement: CxEngagement, today: date, users: dict[str, str]) -> DemoEngagement:
    opened = early(business_days(today, engagement.opened), -60)
    case = store.insert("sn_customerservice_case", {
        "short_description": f"{engagement.client} - Platinum Services Request: Managed Upgrade",
        "state": engagement.case_state, "u_customer": engagement.client, "u_upgrade_service": SERVICE,
        "u_client_timezone": engagement.zone, "opened_at": stamp(opened), "assigned_to": users[engagement.consultant],
        **_intake(engagement, today), "sys_created_on": stamp(opened), "sys_updated_on": stamp(opened),
    })
    for step, (state, started, done) in engagement.tasks:
        # Started at 05:30 UTC, done at 06:30 UTC, on their days.
        moments = [early(business_days(today, days), minutes) if days is not None else None
                   for days, minutes in ((done, 90), (started, 30))]
        store.insert("sn_customerservice_task", {
            "parent": case["sys_id"], "u_step": step, "short_description": TITLES[step],
            "assigned_to": "" if step in CUSTOMER_STEPS else users[engagement.consultant],
            **task_fields(state, moments[0], moments[1], opened),
        })
    return DemoEngagement(PACK, engagement.story, case["number"], engagement.client)
