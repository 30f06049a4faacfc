"""A table the instance does not have stops the worker at once, naming the schema key to fix.

ServiceNow answers any request on an unknown table ``400 Invalid table <name>``. Until the sandbox
answers so itself, a stand-in instance on loopback answers every request that way.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from integration_helpers import PASSWORD, describe, etiu, output, worker_env


class _NoTables(BaseHTTPRequestHandler):
    """Every Table API request is on a table this instance lacks."""

    def do_GET(self) -> None:
        table = self.path.split("?")[0].rstrip("/").split("/table/")[-1].split("/")[0]
        body = json.dumps({"error": {"message": f"Invalid table {table}", "detail": None},
                           "status": "failure"}).encode()
        self.server.paths.append(self.path)  # type: ignore[attr-defined]
        self.send_response(400)
        self.send_header("Content-Type", "application/json;charset=UTF-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_POST = do_PATCH = do_GET

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@pytest.fixture
def instance_without_tables():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _NoTables)
    server.paths = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("command", [["run", "--once"], ["plan"]])
@pytest.mark.parametrize("variable, key", [
    ("SCHEMA__TICKET__TABLE", "schema.ticket.table"),
])
def test_unknown_table_names_the_schema_key_to_fix(tmp_path, instance_without_tables, command, variable, key):
    host, port = instance_without_tables.server_address[:2]
    env = worker_env(tmp_path, url=f"http://{host}:{port}", **{variable: "u_no_such_table"})

    result = etiu(command, env)

    assert result.returncode == 3, describe(result)
    failures = [line for line in result.stderr.splitlines() if line.startswith("etiu-worker:")]
    assert failures == [
        "etiu-worker: InvalidTableError: GET u_no_such_table, HTTP 400: Invalid table u_no_such_table: "
        f"set {key} (ETIU_{variable}) to the table's real name"
    ], describe(result)
    assert "Traceback" not in output(result)
    assert len(instance_without_tables.paths) == 1  # stopped at the first request
    assert PASSWORD not in output(result)
