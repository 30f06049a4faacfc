"""The intake comment of the two Aurea packs is keyed on the fields still missing, read from the
case: a customer who fills some in is asked for the rest, and a worker that lost its state folder
finds its comments on the case and asks for nothing again.

In-process against the sandbox over loopback (the pack's demo instance and one more request), on
the fixed ticking clock, one pack at a time.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass

import pytest

from etiu_worker.sandbox import Sandbox

from safety_helpers import FIXED_DAY, PASSWORD, converge, in_process_settings, note_footer, write_requests
from integration_helpers import REPO

CASES = "sn_customerservice_case"


@dataclass(frozen=True)
class Intake:
    pack: str
    rule: str
    case: dict  # a complete intake but for the two fields left empty
    filled: tuple[str, str]  # the first field the customer then fills in, and its value
    asked_first: str  # a phrase of the first comment that names that field
    still_asked: str  # a phrase that names the other field


INTAKES = {
    "aurea-cx-managed": Intake("aurea-cx-managed", "intake_complete", {
        "short_description": "Initech - Platinum Services Request: Managed Upgrade", "u_upgrade_service": "cx_managed_upgrade",
        "u_current_version": "CX Process 16.2", "u_deadline_reason": "", "u_access_ack": "false"},
        ("u_deadline_reason", "the current version leaves support"), "the reason for the deadline",
        "the acknowledgement that access"),
    "aurea-crm-cloud": Intake("aurea-crm-cloud", "intake_missing", {
        "short_description": "Platinum Services Request: Managed Upgrade - Initech", "u_upgrade_service": "crm_cloud_upgrade",
        "u_deadline_reason": "", "u_customizations": ""},
        ("u_deadline_reason", "The CRM licence renewal"), "the reason for the deadline", "the list of customizations"),
}


@pytest.fixture(params=INTAKES.values(), ids=INTAKES.keys())
def intake(request, clock):
    """The sandbox with one request whose intake lacks two fields, and the intake of its pack."""
    # The pack's demo engagements beside it: a table the worker finds empty is not what is tested here.
    sb = Sandbox(seed_demo=True, today=FIXED_DAY, password=PASSWORD, demo_packs=(request.param.pack,))
    sb.store.now = clock
    case = sb.store.insert(CASES, {
        "state": "10", "u_customer": "Initech", "u_client_timezone": "America/Chicago", "opened_at": "2026-10-14 14:00:00",
        "u_earliest_start": "2026-11-02", "u_ideal_start": "2026-11-09", "u_deadline": "2027-01-29",
        "u_deadline_reason": "the reason", "u_access_ack": "true", "u_customizations": "Sales dashboards",
        "sys_created_on": "2026-10-14 14:00:00", "sys_updated_on": "2026-10-14 14:00:00", **request.param.case})
    sb.start(port=0)
    request.addfinalizer(sb.stop)
    return sb, case, request.param


def intake_comments(sb: Sandbox, case: dict, rule: str) -> list[str]:
    return [entry["value"] for entry in sb.store.journal(CASES, case["sys_id"])
            if entry["element"] == "comments" and (note_footer(entry["value"]) or ("",))[0] == rule]


def pack_settings(sb: Sandbox, state, pack: str):
    settings = in_process_settings(sb, state)
    return settings.model_copy(update={"rules": settings.rules.model_copy(update={"packs": [str(REPO / "packs" / pack)]})})


def test_a_customer_who_fills_in_some_intake_fields_is_asked_for_the_rest_once(intake, tmp_path):
    sb, case, pack = intake
    settings = pack_settings(sb, tmp_path / "state", pack.pack)
    converge(settings)
    [first] = intake_comments(sb, case, pack.rule)

    sb.store.update(CASES, case["sys_id"], {pack.filled[0]: pack.filled[1]})
    converge(settings)

    [again, rest] = intake_comments(sb, case, pack.rule)
    assert again == first and pack.asked_first in first and pack.still_asked in first
    assert pack.still_asked in rest and pack.asked_first not in rest


def test_a_lost_state_folder_asks_for_no_intake_field_again(intake, tmp_path):
    sb, case, pack = intake
    converge(pack_settings(sb, tmp_path / "state", pack.pack))
    comments, writes = intake_comments(sb, case, pack.rule), write_requests(sb)
    assert len(comments) == 1

    shutil.rmtree(tmp_path / "state")
    cycles = converge(pack_settings(sb, tmp_path / "state", pack.pack))

    assert len(cycles) == 1 and write_requests(sb) == writes, [w.rule for w in cycles[0].report.plan.writes]
    assert intake_comments(sb, case, pack.rule) == comments
