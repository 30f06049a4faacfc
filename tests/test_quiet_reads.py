"""A quiet table costs one list request with no row, however its last change was made: the delta
reads from the instance's clock at the last read (less the overlap), not from the newest row, so a
bulk load stops being read again once the overlap has passed; a late commit inside the overlap is
still read. Over HTTP, the real client against the sandbox, on a clock the test moves."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from etiu_worker.config import ServiceNowSettings, StateSettings
from etiu_worker.cycle.read import read_scopes
from etiu_worker.sandbox import Sandbox
from etiu_worker.servicenow.client import ServiceNowClient
from etiu_worker.servicenow.query import Query
from etiu_worker.state.cache import RecordCache

LOADED = datetime(2026, 10, 14, 15, 0, 12, tzinfo=timezone.utc)
TASKS = "change_task"
SCOPE = [(TASKS, TASKS, Query.where("change_request.correlation_id", "ISNOTEMPTY"))]
OVERLAP = StateSettings().watermark_overlap_seconds
PAGE = 100
BULK = 300  # three full pages


class Clock:
    """The instance's clock, where the test puts it."""

    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment


@pytest.fixture
def instance(tmp_path):
    """A sandbox holding one change and 300 of its CTASKs created in the same second, the real
    client (pages of 100) and a record cache; the clock stands at the bulk load."""
    clock = Clock(LOADED)
    sb = Sandbox(password="pw")
    sb.store.now = clock
    change = sb.store.insert("change_request", {"correlation_id": "ENG-1", "short_description": "Upgrade"})
    with sb.store.bulk():
        tasks = [sb.store.insert(TASKS, {"change_request": change["sys_id"], "short_description": f"Step {n}"})
                 for n in range(BULK)]
    sb.start(port=0)
    settings = ServiceNowSettings(url=sb.url, user=sb.user, password="pw", page_size=PAGE, allow_insecure_http=True)
    with ServiceNowClient(settings) as client, RecordCache.open(tmp_path / "state") as cache:
        yield sb, clock, client, cache, tasks
    sb.stop()


def read(instance, after: timedelta) -> list[dict]:
    """One read of the CTASKs at ``after`` past the bulk load; the list requests it cost."""
    sb, clock, client, cache, _ = instance
    clock.moment = LOADED + after
    sb.reset_requests()
    read_scopes(client, cache, SCOPE, StateSettings(dir=cache.path.parent), LOADED + after)
    return sb.requests[("GET", TASKS)]


def test_a_quiet_read_after_a_bulk_load_is_one_request_once_the_overlap_has_passed(instance):
    assert read(instance, timedelta(seconds=1)) >= BULK // PAGE  # the first, full read: three pages
    read(instance, timedelta(minutes=10))  # the bulk load is inside this read's overlap: read again

    assert read(instance, timedelta(minutes=20)) == 1
    assert read(instance, timedelta(minutes=30)) == 1


def test_a_quiet_read_asks_from_the_last_read_less_the_overlap_and_gets_no_row(instance):
    sb, *_ = instance
    for minutes in (0, 10, 20):
        read(instance, timedelta(minutes=minutes, seconds=1))
    asked = []
    sb.on_request = lambda method, table, params: asked.append(params["sysparm_query"])

    read(instance, timedelta(minutes=30, seconds=1))

    since = datetime.strptime(asked[0].split("sys_updated_on>=")[1][:19], "%Y-%m-%d %H:%M:%S")
    last_read = (LOADED + timedelta(minutes=20, seconds=1) - timedelta(seconds=OVERLAP)).replace(tzinfo=None)
    assert last_read - timedelta(seconds=2) <= since <= last_read  # Date has whole seconds: never later
    assert [len(sb.store.query(TASKS, query)) for query in asked] == [0]


def test_rows_read_again_unchanged_inside_the_overlap_are_not_merged_again(instance):
    _, _, _, cache, tasks = instance
    read(instance, timedelta(seconds=1))

    assert cache.merge(TASKS, [dict(row) for row in cache.records(TASKS)], read_at="2026-10-14 15:10:00") == 0
    assert cache.merge(TASKS, [{**cache.records(TASKS)[0], "sys_mod_count": "1"}]) == 1
    assert cache.watermark(TASKS) == "2026-10-14 15:10:00"


def test_a_late_commit_inside_the_overlap_after_a_quiet_read_is_still_read(instance):
    sb, clock, _, cache, tasks = instance
    for minutes in (0, 10, 20):
        read(instance, timedelta(minutes=minutes, seconds=1))
    # Stamped two minutes before the last read, committed after it (a long transaction).
    clock.moment = LOADED + timedelta(minutes=18)
    sb.store.update(TASKS, tasks[7]["sys_id"], {"short_description": "Step 7, late"})

    read(instance, timedelta(minutes=25))

    assert {row["sys_id"]: row["short_description"] for row in cache.records(TASKS)}[tasks[7]["sys_id"]] == "Step 7, late"


def test_an_edit_after_a_quiet_read_is_read_by_the_next(instance):
    sb, clock, _, cache, tasks = instance
    for minutes in (0, 10, 20):
        read(instance, timedelta(minutes=minutes, seconds=1))
    clock.moment = LOADED + timedelta(minutes=24)
    sb.store.update(TASKS, tasks[9]["sys_id"], {"short_description": "Step 9, edited"})

    assert read(instance, timedelta(minutes=25)) == 1
    assert {row["sys_id"]: row["short_description"] for row in cache.records(TASKS)}[tasks[9]["sys_id"]] == "Step 9, edited"


def test_a_table_empty_at_its_full_read_without_the_instances_clock_is_read_in_full_again(instance):
    """An empty table and no Date header leave no watermark: the next read is full, not a crash."""
    sb, _, _, cache, _ = instance
    cache.replace(TASKS, [], LOADED, query=cache.query(TASKS) or "")
    read(instance, timedelta(seconds=1))
    cache.replace(TASKS, [], LOADED, query=cache.query(TASKS))

    read(instance, timedelta(minutes=1))

    assert len(cache.records(TASKS)) == BULK


def test_the_cache_tells_a_fields_values_and_the_sys_ids_without_decoding_the_rows(tmp_path):
    rows = [{"sys_id": "a", "assigned_to": "u1"}, {"sys_id": "b", "assigned_to": {"value": "u2", "link": "x"}},
            {"sys_id": "c"}, {"sys_id": "d", "assigned_to": "u1"}]
    with RecordCache.open(tmp_path) as cache:
        cache.replace(TASKS, rows, datetime(2026, 10, 14, tzinfo=timezone.utc))

        assert cache.field_values(TASKS, "assigned_to") == {"u1", "u2"}
        assert cache.sys_ids(TASKS) == {"a", "b", "c", "d"}
