"""A role found from the records pointing at it (``referenced_by``) has no engagement key to query
by: the reader reads its table by the role's identity, or not at all when it has none."""

from __future__ import annotations

import pytest

from etiu_worker.cycle.read import scopes
from roles_helpers import declarations

PACK = """
[engagement]
key = {{ role = "case", field = "number" }}

[records.case]
table = "sn_customerservice_case"
states = {{ open = "1" }}
meaning = {{ open = "open" }}

[records.task]
table = "change_task"
link = {{ ref = "u_case", of = "case" }}
states = {{ open = "1" }}
meaning = {{ open = "open" }}

[records.release]
table = "change_request"
link = {{ referenced_by = "change_request", of = "task", shared = true }}
{identity}
states = {{ open = "1" }}
meaning = {{ open = "open" }}
"""


@pytest.mark.parametrize(("identity", "query"), [
    ('identity = { field = "u_service", contains = "monthly" }', "u_serviceLIKEmonthly"),
    ('identity = { field = "u_kind", value = "RELEASE" }', "u_kind=RELEASE"),
])
def test_a_role_found_from_the_records_pointing_at_it_is_read_by_its_identity(identity, query):
    found = dict((table, str(q)) for table, q in scopes(declarations(PACK.format(identity=identity))))

    assert found == {"sn_customerservice_case": "numberISNOTEMPTY", "change_task": "u_case.numberISNOTEMPTY",
                     "change_request": query}


def test_a_role_found_from_the_records_pointing_at_it_without_an_identity_is_not_read():
    tables = [table for table, _ in scopes(declarations(PACK.format(identity="")))]

    assert tables == ["sn_customerservice_case", "change_task"]
