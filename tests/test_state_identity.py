"""The state folder knows which instance it belongs to: a copied volume or a changed URL is caught.

Each test runs the real CLI against sandboxes over loopback. A sandbox's name is its
``instance_name`` system property, inserted as a person with admin rights would see it.
"""

from __future__ import annotations

import logging
import sqlite3

import pytest

from etiu_worker.state.cache import CACHE_NAME
from etiu_worker.config import ServiceNowSettings
from etiu_worker.state.journal import DATABASE_NAME, Journal
from etiu_worker.sandbox import Sandbox
from etiu_worker.servicenow.client import ServiceNowClient
from etiu_worker.state.identity import UNREADABLE, normalised_url, read_instance_name
from integration_helpers import (
    CYCLE_TABLES,
    PASSWORD,
    describe,
    etiu,
    sandbox,  # noqa: F401 - a fixture
    state_dir,
    worker_env,
    writes,
)


def named(instance: Sandbox, name: str) -> Sandbox:
    """The instance's ``instance_name`` system property set to ``name``, as an admin renames it."""
    [row] = instance.store.query("sys_properties", "name=instance_name")
    instance.store.update("sys_properties", row["sys_id"], {"value": name})
    return instance


def error_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("etiu-worker:")]


def cached_sys_ids(tmp_path) -> dict[str, set[str]]:
    with sqlite3.connect(state_dir(tmp_path) / CACHE_NAME) as db:
        rows = db.execute("SELECT tbl, sys_id FROM records").fetchall()
    return {table: {sys_id for tbl, sys_id in rows if tbl == table} for table in CYCLE_TABLES}


def instance_sys_ids(instance: Sandbox) -> dict[str, set[str]]:
    return {table: {row["sys_id"] for row in instance.store.query(table)} for table in CYCLE_TABLES}


@pytest.fixture
def other_sandbox():
    """A second demo instance on another port: where a copied state folder ends up pointed."""
    with Sandbox(seed_demo=True, password=PASSWORD).start(port=0) as instance:
        yield instance


@pytest.mark.parametrize(("url", "expected"), [
    ("https://Acme.Service-Now.com", "https://acme.service-now.com"),
    ("https://acme.service-now.com:443/", "https://acme.service-now.com"),
    ("https://user:secret@acme.service-now.com", "https://acme.service-now.com"),
    ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
    ("http://[::1]:8080", "http://[::1]:8080"),
    ("http://localhost:80", "http://localhost"),
])
def test_the_recorded_url_keeps_scheme_host_and_port_and_never_credentials(url, expected):
    assert normalised_url(url) == expected


def test_a_state_folder_from_another_url_stops_before_any_request_naming_both_and_how_to_adopt(
        tmp_path, sandbox, other_sandbox):
    assert etiu(["run", "--once"], worker_env(tmp_path, sandbox)).returncode == 0

    result = etiu(["run", "--once"], worker_env(tmp_path, other_sandbox))

    assert result.returncode == 3, describe(result)
    [line] = error_lines(result.stderr)
    assert sandbox.url in line and other_sandbox.url in line, line
    assert str(state_dir(tmp_path)) in line and "etiu-worker run --adopt-state" in line, line
    assert sum(other_sandbox.requests.values()) == 0, other_sandbox.requests
    assert "Traceback" not in result.stderr


def test_plan_also_refuses_a_state_folder_of_another_instance(tmp_path, sandbox, other_sandbox):
    assert etiu(["run", "--once"], worker_env(tmp_path, sandbox)).returncode == 0

    result = etiu(["plan"], worker_env(tmp_path, other_sandbox))

    assert result.returncode == 3, describe(result)
    assert sum(other_sandbox.requests.values()) == 0, other_sandbox.requests


@pytest.mark.parametrize("adopt", [["run", "--once", "--adopt-state"], ["run", "--once"]],
                         ids=["flag", "setting"])
def test_adopting_keeps_the_history_and_reads_every_record_of_the_new_instance_again(
        tmp_path, sandbox, other_sandbox, adopt):
    assert etiu(["run", "--once"], worker_env(tmp_path, sandbox)).returncode == 0
    with Journal.open(state_dir(tmp_path)) as journal:
        history = {entry.id for entry in journal.entries()}
    assert history
    settings = {} if "--adopt-state" in adopt else {"STATE__ADOPT": "true"}

    adopted = etiu(adopt, worker_env(tmp_path, other_sandbox, **settings))

    assert adopted.returncode == 0, describe(adopted)
    assert "adopted" in adopted.stderr and other_sandbox.url in adopted.stderr
    assert writes(other_sandbox), "the new instance's engagements are worked on"
    # The cache holds the new instance's records and none of the old one's.
    assert cached_sys_ids(tmp_path) == instance_sys_ids(other_sandbox)
    with Journal.open(state_dir(tmp_path)) as journal:
        assert history <= {entry.id for entry in journal.entries()}
    other_sandbox.reset_requests()
    again = etiu(["run", "--once"], worker_env(tmp_path, other_sandbox))
    assert again.returncode == 0, describe(again)
    assert writes(other_sandbox) == {}, "a second cycle on the adopted folder writes nothing"


def test_adopting_a_folder_of_the_same_instance_changes_nothing(tmp_path, sandbox):
    assert etiu(["run", "--once"], worker_env(tmp_path, sandbox)).returncode == 0
    sandbox.reset_requests()

    result = etiu(["run", "--once", "--adopt-state"], worker_env(tmp_path, sandbox))

    assert result.returncode == 0, describe(result)
    assert "adopted" not in result.stderr
    assert dict(sandbox.requests) == {("GET", table): 1 for table in CYCLE_TABLES}


def test_an_instance_whose_name_changed_behind_the_same_url_is_refused(tmp_path, sandbox):
    named(sandbox, "acme-prod")
    every_run = {"STATE__FULL_RESYNC_HOURS": "0.000001"}  # the name is checked again on every run
    assert etiu(["run", "--once"], worker_env(tmp_path, sandbox, **every_run)).returncode == 0
    [property_row] = sandbox.store.query("sys_properties", "name=instance_name")
    sandbox.store.update("sys_properties", property_row["sys_id"], {"value": "acme-dev"})
    sandbox.reset_requests()

    result = etiu(["run", "--once"], worker_env(tmp_path, sandbox, **every_run))

    assert result.returncode == 3, describe(result)
    [line] = error_lines(result.stderr)
    assert "instance_name acme-prod" in line and "instance_name acme-dev" in line, line
    assert dict(sandbox.requests) == {("GET", "sys_properties"): 1}, "stopped before any other request"


def test_the_instance_name_is_read_once_and_not_on_every_quiet_cycle(tmp_path, sandbox):
    named(sandbox, "acme-prod")
    assert etiu(["run", "--once"], worker_env(tmp_path, sandbox)).returncode == 0
    assert sandbox.requests[("GET", "sys_properties")] == 1
    with Journal.open(state_dir(tmp_path)) as journal:
        assert journal.metadata()["instance_name"] == "acme-prod"
        assert journal.metadata()["instance_url"] == sandbox.url
    sandbox.reset_requests()

    assert etiu(["run", "--once"], worker_env(tmp_path, sandbox)).returncode == 0
    assert ("GET", "sys_properties") not in sandbox.requests


@pytest.mark.parametrize("status", [403, 404, 400])
def test_an_unreadable_instance_name_falls_back_to_the_url_and_says_so_at_info(sandbox, caplog, status):
    named(sandbox, "acme-prod")
    sandbox.faults.script = [status]
    settings = ServiceNowSettings(url=sandbox.url, user=sandbox.user, password=PASSWORD, max_attempts=1)
    with ServiceNowClient(settings) as client, caplog.at_level(logging.INFO, "etiu_worker.state.identity"):
        assert read_instance_name(client) == UNREADABLE
    [record] = [r for r in caplog.records if r.name == "etiu_worker.state.identity"]
    assert record.levelno == logging.INFO and "URL alone" in record.getMessage()


def test_a_state_folder_from_before_this_check_is_taken_as_this_instances(tmp_path, sandbox):
    assert etiu(["run", "--once"], worker_env(tmp_path, sandbox)).returncode == 0
    with sqlite3.connect(state_dir(tmp_path) / DATABASE_NAME) as db:
        db.execute("DELETE FROM meta")

    result = etiu(["run", "--once"], worker_env(tmp_path, sandbox))

    assert result.returncode == 0, describe(result)
    with Journal.open(state_dir(tmp_path)) as journal:
        assert journal.metadata()["instance_url"] == sandbox.url


def test_an_instance_name_read_that_keeps_failing_is_tried_again_later_not_taken_as_refused(sandbox, caplog):
    named(sandbox, "acme-prod")
    sandbox.faults.script = [503, 503]
    settings = ServiceNowSettings(url=sandbox.url, user=sandbox.user, password=PASSWORD, max_attempts=2,
                                  max_backoff=0.01)
    with ServiceNowClient(settings, sleep=lambda _: None) as client:
        assert read_instance_name(client) is None
        assert read_instance_name(client) == "acme-prod"
