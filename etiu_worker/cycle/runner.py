"""Wiring for the CLI: settings in, a cycle (or a loop of them) out.

Order matters: the rules are loaded and checked before the client is built, so a broken rules
folder exits with the invalid-configuration code before any request is sent.
"""

from __future__ import annotations

import logging
import random
import signal
import threading
from contextlib import contextmanager
from pathlib import Path

from pydantic import SecretStr

from . import engine, metrics
from ..servicenow import client as servicenow_module
from ..state.cache import RecordCache
from ..config import Settings, env_name, schema_key_for_table
from ..errors import AuthenticationError, InvalidTableError, RateLimitedError, ServerError, UnreachableError
from ..state.journal import Journal
from ..state.lock import exclusive_run
from .people import remember_assignees
from ..playbook.pack_records import assignee_tables
from .progress import SyncProgress
from .progress import wanted as progress_wanted
from ..actions import KINDS
from ..actions.loading import runtime_packs
from ..playbook.pack_schema import is_overridden
from ..servicenow.client import ServiceNowClient
from ..state.identity import check_instance, remember_instance

log = logging.getLogger(__name__)
# In the client's per-request messages about tries: what came of the request is logged anyway.
RETRY_MARKS = ("; retrying in", ": giving up after")


def _prepare(settings: Settings):
    """Every pack the run takes, loaded and checked, before anything else."""
    playbooks = runtime_packs(settings, keep_compiled=True)
    settings.servicenow.require_credentials()
    return playbooks


def _warn_if_tls_is_off(settings: Settings) -> None:
    if not settings.servicenow.verify_tls:
        log.warning("TLS certificate checks are OFF (servicenow.verify_tls = false): the instance is not authenticated")
    if settings.servicenow.insecure_http:
        log.warning("credentials travel in cleartext over plain HTTP (servicenow.allow_insecure_http = true): use https://")


@contextmanager
def _naming_schema_key(settings: Settings, playbooks):
    """An unknown table stops the run with the schema key to fix (ServiceNow says only its name):
    the deprecated setting when it is set, else the key of the (first) pack.toml declaring it."""
    try:
        yield
    except InvalidTableError as error:
        error.fix = _fix_for(settings, playbooks, error.table) or error.fix
        raise


def _fix_for(settings: Settings, playbooks, table: str) -> str | None:
    key = schema_key_for_table(settings.schema, table)
    if key is not None and is_overridden(settings.schema, key.removeprefix("schema.")):
        return f"set {key} ({env_name(*key.split('.'))}) to the table's real name"
    for playbook in playbooks:
        if playbook.files is not None and _roles_on(playbook, table):
            sections = ", ".join(f"[records.{role}]" for role in _roles_on(playbook, table))
            return f"set table in {sections} of {playbook.files.pack_file} to the table's real name"
    return None


def _roles_on(playbook, table: str) -> list[str]:
    return [role for role, record in playbook.declarations.records.items() if record.table == table]


@contextmanager
def _connections(settings: Settings):
    with ServiceNowClient(settings.servicenow) as client, Journal.open(settings.state.dir, action_kinds=KINDS) as journal, \
            RecordCache.open(settings.state.dir) as cache:
        yield client, journal, cache


def run_once(settings: Settings) -> engine.CycleReport:
    playbooks = _prepare(settings)
    _warn_if_tls_is_off(settings)
    with exclusive_run(settings.state.dir), _connections(settings) as (client, journal, cache), \
            SyncProgress(progress_wanted(settings.worker.log_format)) as progress, _naming_schema_key(settings, playbooks):
        check_instance(client, journal, cache, settings)
        report = engine.run_cycle(client, journal, cache, playbooks, settings, progress=progress)
        remember_instance(client, journal)
        _export_metrics(settings, report, journal)
        _remember_assignees(client, cache, playbooks)
        return report


def plan_once(settings: Settings) -> engine.CycleReport:
    playbooks = _prepare(settings)
    _warn_if_tls_is_off(settings)
    with _connections(settings) as (client, journal, cache), _naming_schema_key(settings, playbooks):
        check_instance(client, journal, cache, settings)
        return engine.run_cycle(client, journal, cache, playbooks, settings, dry_run=True)


def run_forever(settings: Settings) -> None:
    """Cycle, sleep, repeat, until SIGTERM or SIGINT.

    A signal lets the write in flight finish, then the loop returns. While ServiceNow cannot be
    reached the pause doubles, up to 8 poll intervals, and the log speaks only when that changes:
    one line when cycles start failing, one when they succeed again (the client's per-try retry
    and give-up lines are DEBUG here, or they would repeat every cycle).
    """
    playbooks = _prepare(settings)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    failures = 0
    with exclusive_run(settings.state.dir), _connections(settings) as (client, journal, cache), _retries_at_debug(), \
            _naming_schema_key(settings, playbooks):
        while not stop.is_set():
            try:
                _warn_if_tls_is_off(settings)
                check_instance(client, journal, cache, settings)
                report = engine.run_cycle(client, journal, cache, playbooks, settings, should_stop=stop.is_set)
                remember_instance(client, journal)
                _export_metrics(settings, report, journal)
                _remember_assignees(client, cache, playbooks)
                if failures:
                    log.info("ServiceNow answers again after %d failed cycles", failures)
                failures = 0
            except (UnreachableError, RateLimitedError, ServerError, AuthenticationError) as error:
                if not failures:
                    log.error("cycle failed; backing off and trying again: %s", error)
                failures += 1
            stop.wait(_pause(settings, failures))
    log.info("stopped")


class _RetryAtDebug(logging.Filter):
    """Logs the client's "retrying in Ns" and "giving up" warnings at DEBUG: dropped unless DEBUG is on."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno != logging.WARNING or not any(mark in str(record.msg) for mark in RETRY_MARKS):
            return True
        record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return logging.getLogger().isEnabledFor(logging.DEBUG)


@contextmanager
def _retries_at_debug():
    client_log, quiet = logging.getLogger(servicenow_module.__name__), _RetryAtDebug()
    client_log.addFilter(quiet)
    try:
        yield
    finally:
        client_log.removeFilter(quiet)


def _remember_assignees(client, cache, playbooks) -> None:
    seen: list[tuple[str, ...]] = []
    for playbook in playbooks:
        tables = assignee_tables(playbook.declarations)
        if tables not in seen:  # packs over the same records ask for their assignees once
            seen.append(tables)
            remember_assignees(client, cache, tables)


def _export_metrics(settings: Settings, report: engine.CycleReport, journal: Journal) -> None:
    path = settings.worker.metrics_path
    if path is None:
        return
    succeeded = [run.finished_at for run in journal.runs(limit=50) if run.outcome == "ok" and run.finished_at]
    last_success = max(succeeded).timestamp() if succeeded else None
    metrics.write_atomically(path, metrics.render(report, journal.open_flags(), last_success))


def _pause(settings: Settings, failures: int) -> float:
    interval = settings.worker.poll_interval * min(2 ** max(failures - 1, 0), 8)
    return interval + random.uniform(0, interval * settings.worker.jitter)


def demo_settings(settings: Settings, url: str, user: str, password: str, state_dir: Path) -> Settings:
    """The user's settings, pointed at an in-process sandbox and a throwaway state folder."""
    servicenow = settings.servicenow.model_copy(
        update={"url": url, "user": user, "password": SecretStr(password), "verify_tls": True, "auth": "basic"}
    )
    state = settings.state.model_copy(update={"dir": state_dir})
    return settings.model_copy(update={"servicenow": servicenow, "state": state})
