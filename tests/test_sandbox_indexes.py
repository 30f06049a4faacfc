"""The sandbox's indexes change how fast it answers, never what: an indexed query equals a scan."""

from __future__ import annotations

import random

import pytest

from etiu_worker.sandbox import Store

TICKETS, JOURNAL = "u_etiu_ticket", "sys_journal_field"


def scanned(store: Store, table: str, encoded: str) -> list[str]:
    """The answer of a full scan: a query ORed (^NQ) with one no index narrows, which matches nothing."""
    return [record["sys_id"] for record in store.query(table, f"{encoded}^NQsys_idISEMPTY")]


def answered(store: Store, table: str, encoded: str) -> list[str]:
    return [record["sys_id"] for record in store.query(table, encoded)]


@pytest.fixture
def store():
    store = Store(timezone="America/New_York")
    chance = random.Random(7)
    stamps = [f"2026-10-{day:02d} {hour:02d}:00:00" for day in (13, 14) for hour in range(0, 24, 3)]
    for n in range(300):
        store.insert(TICKETS, {
            "sys_id": f"{n:03d}" if n % 50 == 0 else f"id{n:04d}" + ("X" if n % 37 == 0 else ""),
            "correlation_id": f"ENG-{n % 40:03d}", "state": str(n % 3),
            "sys_created_on": chance.choice(stamps), "sys_updated_on": chance.choice(stamps),
            "work_notes": "Noted" if n % 4 == 0 else "",
        })
    return store


def queries(store: Store) -> list[str]:
    ids = [record["sys_id"] for record in store.query(TICKETS)]
    return [
        f"sys_idIN{','.join(ids[:40])}^ORDERBYsys_id",
        f"sys_idIN{ids[3].upper()}, {ids[5]} ,nope",
        f"sys_id={ids[37]}", "sys_id=id0037x", "sys_idIN000,50,0100",  # mixed case; integers
        "correlation_id=eng-007", "correlation_idINENG-001,ENG-002^state=1",
        "sys_updated_on>=2026-10-14 06:00:00", "sys_updated_on>2026-10-14 06:00:00^ORDERBYDESCsys_updated_on",
        "sys_updated_on>=javascript:gs.dateGenerate('2026-10-14','start')^correlation_id=ENG-003",
        "sys_updated_on>=5", "sys_updated_on>=",
        "correlation_id=ENG-001^ORstate=2", "u_no_field=ENG-001^sys_id=000",
        "correlation_id=ENG-001^sys_updated_on>=2026-10-14 06:00:00^NQstate=2^sys_updated_on>=2026-10-14 12:00:00",
        f"sys_idIN{','.join(ids[:5])}^NQcorrelation_id=ENG-002", "correlation_id=ENG-003^NQstate=1",
    ]


def test_indexed_answers_equal_a_scan_in_content_and_order(store):
    for encoded in queries(store):
        assert answered(store, TICKETS, encoded) == scanned(store, TICKETS, encoded), encoded


def test_the_indexes_follow_updates_deletes_and_reinserts(store):
    for encoded in queries(store):  # build every index first
        answered(store, TICKETS, encoded)
    chance = random.Random(3)
    ids = [record["sys_id"] for record in store.query(TICKETS)]
    for n, sys_id in enumerate(chance.sample(ids, 60)):
        if n % 3 == 0:
            store.delete(TICKETS, sys_id)
            store.insert(TICKETS, {"sys_id": sys_id, "correlation_id": "ENG-007"})
        else:
            store.update(TICKETS, sys_id, {"correlation_id": f"ENG-{n:03d}", "work_notes": "Moved",
                                           "sys_updated_on": f"2026-10-14 {n % 24:02d}:30:00"})
    for encoded in queries(store):
        assert answered(store, TICKETS, encoded) == scanned(store, TICKETS, encoded), encoded


def test_journal_entries_are_found_by_the_record_they_belong_to(store):
    noted = [record["sys_id"] for record in store.query(TICKETS, "ORDERBYsys_id")][:80]
    encoded = f"element_idIN{','.join(noted)}^sys_created_on>=2026-01-01 00:00:00"
    assert answered(store, JOURNAL, encoded) == scanned(store, JOURNAL, encoded)
    assert {entry["element_id"] for entry in store.query(JOURNAL, encoded)} == {
        sys_id for sys_id in noted if store.journal(TICKETS, sys_id)}
