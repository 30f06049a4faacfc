"""The real client, pysnow 0.7.17, works against the sandbox the way it works against an instance."""

from __future__ import annotations

from datetime import datetime

import pysnow
import pytest
import requests
from pysnow.exceptions import EmptyContent, NoResults

from etiu_worker.sandbox import Sandbox


@pytest.fixture
def sb():
    with Sandbox().start() as sandbox:
        yield sandbox


@pytest.fixture
def client(sb):
    return pysnow.Client(host=sb.address, user=sb.user, password=sb.password, use_ssl=False)


def resource(client: pysnow.Client, table: str):
    return client.resource(api_path=f"/table/{table}")  # a fresh resource per call: pysnow leaks parameters


def test_pysnow_creates_reads_and_deletes(sb, client):
    created = resource(client, "u_etiu_ticket").create(payload={"u_etiu_code": "ETIU01", "state": 1})
    assert (created["number"], created["state"]) == ("ETIU0001001", "1")
    found = resource(client, "u_etiu_ticket").get(query={"u_etiu_code": "ETIU01"}).one()
    assert found["sys_id"] == created["sys_id"]
    assert resource(client, "u_etiu_ticket").delete(query={"number": "ETIU0001001"}) == {"status": "record deleted"}
    with pytest.raises(NoResults):
        resource(client, "u_etiu_ticket").get(query={"number": "ETIU0001001"}).one()


def test_pysnow_streams_a_page_and_reads_display_values(sb, client):
    sb.store.insert("change_request", {"state": "-2", "correlation_id": "ENG-ACME"})
    change_requests = resource(client, "change_request")
    change_requests.parameters.display_value = True  # sent as "True"
    assert change_requests.get(query="correlation_id=ENG-ACME", stream=True).first()["state"] == "Scheduled"


def test_pysnow_update_and_patch_write_fields_and_journal(sb, client):
    change = sb.store.insert("change_request", {"correlation_id": "ENG-ACME"})
    updated = resource(client, "change_request").update(query={"correlation_id": "ENG-ACME"},
                                                        payload={"work_notes": "Timezone check"})
    assert updated["sys_mod_count"] == "1"
    patched = resource(client, "change_request").request(
        "PATCH", path_append=f"/{change['sys_id']}", json={"start_date": "2026-11-24 23:00:00"}).one()
    assert (patched["start_date"], patched["sys_mod_count"]) == ("2026-11-24 23:00:00", "2")
    assert [entry["value"] for entry in sb.store.journal(sys_id=change["sys_id"])] == ["Timezone check"]


def test_pysnow_query_builder_between_dates_and_ordering(sb, client):
    for number, updated in (("CHG0030001", "2026-01-05 10:00:00"), ("CHG0030002", "2026-02-05 10:00:00")):
        sb.store.insert("change_request", {"number": number, "sys_updated_on": updated})
    query = (pysnow.QueryBuilder().field("sys_updated_on").between(datetime(2026, 1, 1), datetime(2026, 1, 31))
             .AND().field("number").order_descending())
    assert [record["number"] for record in resource(client, "change_request").get(query=query).all()] == ["CHG0030001"]


def test_pysnow_raises_empty_content_on_a_202_and_http_error_on_a_429(sb, client):
    sb.faults.script = ["202", 429]
    with pytest.raises(EmptyContent):
        resource(client, "change_request").get(query={}).all()
    with pytest.raises(requests.HTTPError) as raised:
        resource(client, "change_request").get(query={}).all()
    assert raised.value.response.status_code == 429
    assert raised.value.response.json()["error"]["message"] == "Rate limit exceeded"
