"""How a write's change reads in plan, journal and demo: the change itself, in the names people use."""

from __future__ import annotations

import pytest

from etiu_worker.report.changes import format_change
from etiu_worker.config import Settings
from etiu_worker.playbook.packs import configured_names

SCHEMA = configured_names(Settings())
SD = "short_description"
TITLE = "Client process validation - Acme Corp"


def roadmap(bp: str, title: str = TITLE, prod: str = "2026-11-24 18:00 EST") -> str:
    return f"{title} | Kickoff: 2026-11-02 | Dev upgrade: 2026-11-05 | Prod upgrade: {prod} | BP: {bp}"


@pytest.mark.parametrize(("table", "before", "after", "shown"), [
    ("u_etiu_ticket", {SD: roadmap("2026-12-10")}, {SD: roadmap("2026-12-11")}, "BP: 2026-12-10 → 2026-12-11"),
    ("u_etiu_ticket", {SD: roadmap("TBD")}, {SD: roadmap("2026-12-11")}, "BP: — → 2026-12-11"),
    ("u_etiu_ticket", {SD: roadmap("2026-12-10", prod="2026-11-24 18:00")},
     {SD: roadmap("2026-12-10", prod="2026-11-25 09:30 EST")},
     "Prod upgrade: 2026-11-24 18:00 → 2026-11-25 09:30 EST"),
    ("u_etiu_ticket", {SD: roadmap("2026-12-10", title="Validation")}, {SD: roadmap("2026-12-11")},
     f"title: Validation → {TITLE}; BP: 2026-12-10 → 2026-12-11"),
    ("u_etiu_ticket", {SD: "Kickoff: 2026-13-45"}, {SD: "Kickoff: 2026-11-02"},
     "short_description: Kickoff: 2026-13-45 → Kickoff: 2026-11-02"),
    ("u_etiu_ticket", {"state": "2"}, {"state": "3"}, "state: Work in Progress → Closed Complete"),
    ("u_etiu_ticket", {"state": "-5"}, {"state": "2"}, "state: Pending → Work in Progress"),
    ("change_request", {"state": "-2"}, {"state": "-1"}, "state: Scheduled → Implement"),
    ("change_task", {"state": "2"}, {"state": "3"}, "state: In Progress → Closed"),
    ("u_etiu_ticket", {"state": "99"}, {"state": "3"}, "state: 99 → Closed Complete"),
    ("u_etiu_ticket", {}, {"work_notes": "Kickoff booked\nfor Monday"}, "work note: Kickoff booked for Monday"),
    ("u_etiu_ticket", {}, {"comments": "x" * 80}, f"comment: {'x' * 59}…"),
])
def test_a_change_reads_as_the_change_itself(table, before, after, shown):
    assert format_change(before, after, schema=SCHEMA, table=table) == shown


def test_without_the_schema_a_change_shows_the_values_as_stored():
    assert format_change({"state": "2"}, {"state": "3", "work_notes": "done"}) == "state: 2 → 3; work_notes: — → done"
