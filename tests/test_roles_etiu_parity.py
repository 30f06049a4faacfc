"""The ETIU engagement written as role declarations: the engagements its records make.

Each scenario is one batch of raw records as ServiceNow sends them; the roles must build what the
ETIU-shaped model built (recorded from it before it was removed, as ``TODAY``): the engagements,
the record that counts in each role, the zone, the client's name and the problems' keys (which
are the sanity flags' keys, so they must not change).
"""

from __future__ import annotations

import pytest

from etiu_worker.engagement.grouping import build_engagements
from roles_helpers import ETIU_PACK, declarations

ZONE = "America/New_York"
ROLES = ("kickoff", "dev_upgrade", "validation", "best_practices", "support_week")
PLANNED_DATES = "Provide the planned start date and end date"


def ticket(number, key, code, state="1", **fields):
    fields.setdefault("work_start", "2026-11-23 14:00:00" if code == "ETIU03" else "")
    return {"sys_id": f"t-{number}", "number": number, "correlation_id": key, "u_etiu_code": code,
            "state": state, "short_description": f"{code} upgrade - Client {key}",
            "sys_updated_on": "2026-11-20 10:00:00", **fields}


def change(number, key, zone="Europe/Paris", state="-2", **fields):
    return {"sys_id": f"c-{number}", "number": number, "correlation_id": key, "state": state,
            "u_client_timezone": zone, "start_date": "2026-12-01 08:00:00", "end_date": "2026-12-01 11:00:00",
            "sys_updated_on": "2026-11-20 10:00:00", **fields}


def ctask(number, change_number, text=PLANNED_DATES, state="1", updated="2026-11-20 10:00:00"):
    return {"sys_id": f"k-{number}", "number": number, "change_request": {"value": f"c-{change_number}"},
            "short_description": text, "state": state, "sys_updated_on": updated}


def full(key, suffix):
    codes = ("ETIU01", "ETIU02", "ETIU03", "ETIU04", "SUPPORT_WEEK")
    return [ticket(f"TKT{suffix}{index}", key, code) for index, code in enumerate(codes)]


SCENARIOS = {
    "a clean engagement": (
        full("E1", 1), [change("CHG1", "E1")],
        [ctask("CT1", "CHG1", updated="2026-11-20 09:00:00"), ctask("CT2", "CHG1", updated="2026-11-21 09:00:00"),
         ctask("CT3", "CHG1", text="Run the smoke tests")],
    ),
    "two engagements, one without a change": (
        full("E1", 1) + full("E2", 2), [change("CHG1", "E1", state="3")], [ctask("CT1", "CHG1", state="3")],
    ),
    "a change with no tickets yet": ([], [change("CHG1", "E3", zone="")], []),
    "a duplicate code": (full("E1", 1) + [ticket("TKT9", "E1", "ETIU03", state="2")], [change("CHG1", "E1")], []),
    "an unknown code": (full("E1", 1) + [ticket("TKT9", "E1", "ETIU09")], [change("CHG1", "E1")], []),
    "an unknown state": (full("E1", 1)[:4] + [ticket("TKT9", "E1", "SUPPORT_WEEK", state="99")], [change("CHG1", "E1", state="42")], []),
    "unreadable dates": (
        full("E1", 1)[:2] + [ticket("TKT9", "E1", "ETIU03", work_start="next monday")],
        [change("CHG1", "E1", start_date="01/12/2026")], [ctask("CT1", "CHG1", updated="yesterday")],
    ),
    "an unknown time zone": (full("E1", 1), [change("CHG1", "E1", zone="Mars/Olympus")], []),
    "a task of another change": (full("E1", 1), [change("CHG1", "E1")], [ctask("CT1", "CHG7")]),
    "no record carries a key": ([ticket("TKT1", "", "ETIU01")], [], []),
}


def _dates_with_roles(engagement):
    change = engagement.one("change")
    starts = {role: ticket.work_start for role in ROLES if (ticket := engagement.one(role))}
    return {**starts, "window": (change.planned_start, change.planned_end) if change else None}


def with_roles(tickets, changes, ctasks):
    tables = {"u_etiu_ticket": tickets, "change_request": changes, "change_task": ctasks}
    built = build_engagements(declarations(ETIU_PACK), tables, ZONE)
    roles = (*ROLES, "change", "planned_dates")
    return [_summary(engagement.key, {role: engagement.one(role) for role in roles}, _dates_with_roles(engagement), engagement.zone.key,
                     engagement.name, engagement.problems) for engagement in built]


def _summary(key, records, dates, zone, name, problems):
    counted = {role: (record.sys_id, record.state) if record else None for role, record in records.items()}
    return {"key": key, "roles": counted, "dates": dates, "zone": zone, "name": name,
            "problems": sorted(p.key for p in problems)}


# What the ETIU-shaped model built from each scenario, recorded from it before it was removed:
# (key, the sys_id counted in kickoff, dev_upgrade, validation, best_practices, support_week,
# change and planned_dates, the zone, the client's name, the problems' keys).
FULL = ("t-TKT10", "t-TKT11", "t-TKT12", "t-TKT13", "t-TKT14")
TODAY = {
    "a clean engagement": [("E1", (*FULL, "c-CHG1", "k-CT2"), "Europe/Paris", "Client E1", [])],
    "two engagements, one without a change": [
        ("E1", (*FULL, "c-CHG1", "k-CT1"), "Europe/Paris", "Client E1", []),
        ("E2", ("t-TKT20", "t-TKT21", "t-TKT22", "t-TKT23", "t-TKT24", None, None), "America/New_York", "Client E2", [])],
    "a change with no tickets yet": [("E3", (None,) * 5 + ("c-CHG1", None), "America/New_York", "E3", [])],
    "a duplicate code": [("E1", ("t-TKT10", "t-TKT11", None, "t-TKT13", "t-TKT14", "c-CHG1", None), "Europe/Paris",
                          "Client E1", ["duplicate-code:ETIU03"])],
    "an unknown code": [("E1", (*FULL, "c-CHG1", None), "Europe/Paris", "Client E1", ["unknown-code:TKT9"])],
    "an unknown state": [("E1", ("t-TKT10", "t-TKT11", "t-TKT12", "t-TKT13", "t-TKT9", "c-CHG1", None), "Europe/Paris",
                          "Client E1", ["unknown-state:CHG1:42", "unknown-state:TKT9:99"])],
    "unreadable dates": [("E1", ("t-TKT10", "t-TKT11", "t-TKT9", None, None, "c-CHG1", "k-CT1"), "Europe/Paris",
                          "Client E1", ["bad-date:CHG1:start_date", "bad-date:CT1:sys_updated_on",
                                        "bad-date:TKT9:work_start"])],
    "an unknown time zone": [("E1", (*FULL, "c-CHG1", None), "America/New_York", "Client E1", ["timezone:Mars/Olympus"])],
    "a task of another change": [("E1", (*FULL, "c-CHG1", None), "Europe/Paris", "Client E1", [])],
    "no record carries a key": [],
}


@pytest.mark.parametrize("name", SCENARIOS, ids=SCENARIOS.keys())
def test_the_etiu_roles_build_the_engagements_the_etiu_model_built(name):
    built = [(summary["key"], tuple(counted[0] if counted else None for counted in summary["roles"].values()),
              summary["zone"], summary["name"], summary["problems"]) for summary in with_roles(*SCENARIOS[name])]
    assert built == TODAY[name]


def test_the_scenarios_cover_every_problem_of_today():
    seen = {key.split(":")[0] for found in TODAY.values() for summary in found for key in summary[4]}
    assert seen == {"duplicate-code", "unknown-code", "unknown-state", "bad-date", "timezone"}


def test_a_duplicate_change_is_the_problem_of_today_and_counts_no_change():
    records = (full("E1", 1), [change("CHG1", "E1"), change("CHG2", "E1")], [])
    (engagement,) = build_engagements(declarations(ETIU_PACK), {
        "u_etiu_ticket": records[0], "change_request": records[1]}, ZONE)
    assert [p.key for p in engagement.problems] == ["duplicate-change"]
    assert engagement.one("change") is None
    assert [record.number for record in engagement.each("change")] == ["CHG1", "CHG2"]


def test_a_duplicate_code_says_which_state_closes_the_extra_records():
    tickets, changes, _ = SCENARIOS["a duplicate code"]
    (engagement,) = build_engagements(declarations(ETIU_PACK), {"u_etiu_ticket": tickets, "change_request": changes}, ZONE)
    assert [(p.message, p.number) for p in engagement.problems] == [
        ("2 records carry the code ETIU03: TKT12, TKT9; keep one and close the others as Closed Skipped", "TKT12")]
    assert engagement.one("validation") is None
