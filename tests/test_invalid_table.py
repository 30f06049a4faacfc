"""A table the instance does not have stops the worker at once, naming the schema key to fix.

ServiceNow answers any request on an unknown table ``400 Invalid table <name>``; so does the
sandbox. A typo in any of the three tables the worker reads is caught at the first request on it.
"""

from __future__ import annotations

import pytest

from integration_helpers import PASSWORD, describe, etiu, output, sandbox, worker_env  # noqa: F401 - fixture


@pytest.mark.parametrize("command", [["run", "--once"], ["plan"]])
@pytest.mark.parametrize("variable, key", [
    ("SCHEMA__TICKET__TABLE", "schema.ticket.table"),
    ("SCHEMA__CHANGE__TABLE", "schema.change.table"),
    ("SCHEMA__CTASK__TABLE", "schema.ctask.table"),
])
def test_unknown_table_names_the_schema_key_to_fix(tmp_path, sandbox, command, variable, key):
    env = worker_env(tmp_path, sandbox, **{variable: "u_no_such_table"})

    result = etiu(command, env)

    assert result.returncode == 3, describe(result)
    failures = [line for line in result.stderr.splitlines() if line.startswith("etiu-worker:")]
    assert failures == [
        "etiu-worker: InvalidTableError: GET u_no_such_table, HTTP 400: Invalid table u_no_such_table: "
        f"set {key} (ETIU_{variable}) to the table's real name"
    ], describe(result)
    assert "Traceback" not in output(result)
    assert sandbox.requests[("GET", "u_no_such_table")] == 1  # stopped at the first request on it
    assert not [pair for pair in sandbox.requests if pair[0] != "GET"], sandbox.requests  # wrote nothing
    assert PASSWORD not in output(result)
