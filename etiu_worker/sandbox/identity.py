"""The instance's identity: the ``sys_properties`` row ``instance_name``, as every real instance has.

A sandbox without a name given picks ``sandbox-<random hex>`` once and keeps it with its data, so
two sandboxes differ and re-opening the same data file is the same instance again.
"""

from __future__ import annotations

import secrets

from .schema import PROPERTIES_TABLE
from .store import Store

NAME_PROPERTY = "instance_name"
_AUTHOR = "system"


def ensure_name(store: Store, wanted: str | None = None) -> str:
    """The instance name stored in ``store``, created (or changed to ``wanted``) if needed."""
    with store.lock:
        found = store.query(PROPERTIES_TABLE, f"name={NAME_PROPERTY}")
        if found and wanted in (None, found[0]["value"]):
            return found[0]["value"]
        name = wanted or f"sandbox-{secrets.token_hex(4)}"
        if found:
            store.update(PROPERTIES_TABLE, found[0]["sys_id"], {"value": name}, user=_AUTHOR)
        else:
            store.insert(PROPERTIES_TABLE, {"name": NAME_PROPERTY, "value": name,
                                            "description": "The name of this instance"}, user=_AUTHOR)
        return name
