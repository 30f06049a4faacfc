"""The reader derives each table's query from the pack's declared roles: one list request per
table, selecting the records that carry an engagement key or point at a record that does."""

from __future__ import annotations

from etiu_worker.actions.loading import runtime_playbook
from etiu_worker.config import load_settings
from etiu_worker.cycle.read import scopes
from roles_helpers import ETIU_PACK, STEPS_PACK, declarations


def queries(pack: str) -> list[tuple[str, str]]:
    return [(table, str(query)) for table, query in scopes(declarations(pack))]


def test_the_etiu_pack_reads_its_three_tables_as_it_always_has():
    assert queries(ETIU_PACK) == [
        ("u_etiu_ticket", "correlation_idISNOTEMPTY"),
        ("change_request", "correlation_idISNOTEMPTY"),
        ("change_task", "change_request.correlation_idISNOTEMPTY"),
    ]


def test_the_shipped_pack_with_an_old_schema_setting_reads_the_renamed_table_and_field(monkeypatch):
    monkeypatch.setenv("ETIU_SCHEMA__CHANGE__ENGAGEMENT", "u_engagement")

    found = dict((table, str(query)) for table, query in scopes(runtime_playbook(load_settings()).declarations))

    assert found["change_request"] == "u_engagementISNOTEMPTY"
    assert found["change_task"] == "change_request.u_engagementISNOTEMPTY"


def test_a_pack_of_step_tasks_reads_the_tasks_through_their_change():
    assert queries(STEPS_PACK) == [
        ("change_request", "correlation_idISNOTEMPTY"),
        ("change_task", "change_request.correlation_idISNOTEMPTY"),
    ]
