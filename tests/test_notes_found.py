"""The read-back of a cycle's notes finds each note's reference line in its record's journal
(cycle/verify.py ``notes_found``) and keeps only where it was found, not the entries' texts."""

from __future__ import annotations

from etiu_worker.cycle.verify import notes_found

ENTRIES = [
    {"element_id": "a" * 32, "element": "work_notes", "value": "Roadmap synced\n\n[etiu:ref-1]",
     "sys_created_on": "2026-12-03 10:00:00"},
    {"element_id": "a" * 32, "element": "work_notes", "value": "again\n\n[etiu:ref-1]", "sys_created_on": "2026-12-03 10:05:00"},
    {"element_id": "a" * 32, "element": "comments", "value": "Dear client\n\n[etiu:ref-2]", "sys_created_on": "2026-12-03 10:01:00"},
    {"element_id": "b" * 32, "element": "work_notes", "value": "typed by a person", "sys_created_on": "2026-12-03 10:02:00"},
]


class JournalClient:
    """The journal table of an instance, answering list requests by the records asked for."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def list(self, table, query, fields=None):
        self.asked.append(table)
        ids = str(query).split("IN", 1)[1].split("^", 1)[0].split(",")
        return [dict(entry) for entry in ENTRIES if entry["element_id"] in ids]


def test_each_reference_is_found_on_its_record_with_the_first_entry_that_holds_it():
    client = JournalClient()
    found = notes_found(client, {"a" * 32: {"ref-1", "ref-2"}, "b" * 32: {"ref-3"}}, "2026-12-03 09:59:00")
    assert found == {("a" * 32, "ref-1"): "2026-12-03 10:00:00", ("a" * 32, "ref-2"): "2026-12-03 10:01:00"}
    assert client.asked == ["sys_journal_field"]


def test_a_reference_on_another_record_is_not_found_on_this_one():
    found = notes_found(JournalClient(), {"b" * 32: {"ref-1"}}, "2026-12-03 09:59:00")
    assert found == {}
