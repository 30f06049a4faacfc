"""The five shipped packs on one instance read each table once per cycle: one query ORing the packs'
queries (``^NQ``), cached once, each pack given exactly the rows its own query would have selected."""

from __future__ import annotations

from collections import Counter

import pytest

from etiu_worker.actions.loading import runtime_packs
from etiu_worker.cycle.pack_reads import distinct, pack_scopes, tables_of
from etiu_worker.cycle.read import encoded, scopes
from etiu_worker.sandbox import Sandbox
from etiu_worker.sandbox.demo_packs import PACKS as DEMO_PACKS
from etiu_worker.servicenow.client import ServiceNowClient

from safety_helpers import FIXED_DAY, PASSWORD, converge, deterministic_ids, in_process_settings, run_cycle

MIX = ("etiu", *DEMO_PACKS)
TABLES = {"u_etiu_ticket", "change_request", "change_task", "sn_customerservice_case", "sn_customerservice_task"}


@pytest.fixture
def mix(clock, tmp_path):
    with deterministic_ids():
        sb = Sandbox(seed_demo=True, today=FIXED_DAY, password=PASSWORD, demo_packs=DEMO_PACKS)
    sb.store.now = clock
    settings = in_process_settings(sb.start(port=0), tmp_path / "state")
    yield sb, settings.model_copy(update={"rules": settings.rules.model_copy(update={"packs": list(MIX)})})
    sb.stop()


def test_every_shared_table_is_one_read_of_the_packs_queries_ored(mix):
    chosen = pack_scopes(runtime_packs(mix[1]))

    reads = distinct(chosen)
    assert sorted(scope.table for scope in reads) == sorted(TABLES)
    assert encoded(next(scope.query for scope in reads if scope.table == "change_task")).count("^NQ") == 3


def test_each_pack_gets_exactly_the_rows_its_own_query_selects_before_and_after_the_worker_wrote(mix):
    sb, settings = mix
    assert filtered_tables(settings) == own_tables(settings)
    converge(settings)
    assert filtered_tables(settings) == own_tables(settings)


def own_tables(settings) -> dict[tuple[str, str], list[str]]:
    """Each pack's rows of each table as its own query selects them on the instance."""
    with ServiceNowClient(settings.servicenow) as client:
        return {(p.name, table): ids(client.list(table, query))
                for p in runtime_packs(settings) for table, query in scopes(p.declarations)}


def filtered_tables(settings) -> dict[tuple[str, str], list[str]]:
    """Each pack's rows of each table, filtered here from one read of the packs' queries ORed."""
    chosen = pack_scopes(runtime_packs(settings))
    with ServiceNowClient(settings.servicenow) as client:
        rows = {scope.cache_name: client.list(scope.table, encoded(scope.query)) for scope in distinct(chosen)}
    found = {(pack, table): ids(kept) for pack in chosen for table, kept in tables_of(chosen[pack], rows).items()}
    assert any(len(found[(pack, scope.table)]) < len(rows[scope.cache_name])
               for pack in chosen for scope in chosen[pack])  # some pack's rows were filtered
    return found


def test_a_quiet_cycle_of_the_five_packs_reads_each_table_once_and_writes_nothing(mix):
    sb, settings = mix
    converge(settings)

    quiet = run_cycle(settings).report

    assert quiet.requests == Counter({("GET", table): 1 for table in TABLES})
    assert quiet.plan.writes == [] and quiet.outcomes == []


def ids(rows: list[dict]) -> list[str]:
    return sorted(row["sys_id"] for row in rows)


def test_a_cold_cycle_of_the_five_packs_reads_each_table_back_once_per_100_written_records(mix):
    """The packs' writes go out as one round: a table written by four packs is read back once."""
    sb, settings = mix
    read_backs: Counter = Counter()  # by sys_id, with the written fields (a freshness check reads whole rows)
    sb.on_request = lambda method, table, params: read_backs.update(
        [table] if method == "GET" and params.get("sysparm_query", "").startswith("sys_idIN")
        and params.get("sysparm_fields") else [])

    cold = run_cycle(settings).report

    written = Counter(outcome.write.table for outcome in cold.outcomes if not outcome.write.is_create)
    assert written["change_request"] and written["change_task"]  # tables several packs write to
    assert all(read_backs[table] <= 1 for table in written), read_backs
