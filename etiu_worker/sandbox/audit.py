"""Field history: the ``sys_audit`` rows a write to an audited table leaves, as ServiceNow keeps them.

One row per changed field (journal fields are not audited: their entries are ``sys_journal_field``
rows), stamped with the record's own update time and author, so that a test which back-dates a
person's edit through ``Store.update`` gets a history that agrees with the record.
"""

from __future__ import annotations

from .schema import TableSpec

Record = dict[str, str]


def rows(table: str, declared: TableSpec, old: Record, new: Record) -> list[Record]:
    """The audit rows of one write; ``old`` is empty for an insert."""
    stamp = new.get("sys_updated_on" if old else "sys_created_on", "")
    user = new.get("sys_updated_by" if old else "sys_created_by", "")
    common = {
        "tablename": table, "documentkey": new["sys_id"], "user": user, "reason": "",
        "record_checkpoint": new.get("sys_mod_count", "0"),
        "sys_created_on": stamp, "sys_created_by": user, "sys_updated_on": stamp, "sys_updated_by": user,
    }
    return [
        {**common, "fieldname": name, "oldvalue": old.get(name, ""), "newvalue": new.get(name, "")}
        for name in _changed(declared, old, new)
    ]


def _changed(declared: TableSpec, old: Record, new: Record) -> list[str]:
    return [name for name in declared.fields
            if name not in declared.journals and old.get(name, "") != new.get(name, "")]
