"""Several packs without HTTP: which tables are read once and which get a cache name of their own,
how a pack's [pack] match is checked at load, and which pack each engagement goes to."""

from __future__ import annotations

import shutil
from datetime import datetime, timezone
from pathlib import Path
from types import SimpleNamespace

import pytest

from etiu_worker.actions.loading import load_pack
from etiu_worker.config import StateSettings
from etiu_worker.cycle.pack_reads import Scope, cache_names, distinct, pack_scopes, tables_of
from etiu_worker.cycle.read import encoded, read_scopes, remember_own_writes
from etiu_worker.servicenow.query import Query
from etiu_worker.errors import RulesError
from etiu_worker.playbook.pack_folders import pack_folder
from etiu_worker.playbook.pack_match import assign
from etiu_worker.state.cache import RecordCache
from integration_helpers import SHIPPED_PACK
from roles_helpers import ETIU_PACK, STEPS_PACK, declarations

AT = datetime(2026, 11, 16, 15, 0, tzinfo=timezone.utc)
OTHER_KEY_PACK = STEPS_PACK.replace('field = "correlation_id"', 'field = "u_engagement"')


def pack(name: str, text: str):
    return SimpleNamespace(name=name, declarations=declarations(text))


def test_a_single_pack_keeps_each_table_under_its_own_name():
    chosen = pack_scopes([pack("etiu", ETIU_PACK)])

    assert [scope.cache_name for scope in chosen["etiu"]] == ["u_etiu_ticket", "change_request", "change_task"]


def test_a_table_two_packs_read_with_the_same_query_is_read_once():
    chosen = pack_scopes([pack("etiu", ETIU_PACK), pack("steps", STEPS_PACK)])

    assert [scope.cache_name for scope in distinct(chosen)] == ["u_etiu_ticket", "change_request", "change_task"]
    assert [scope.cache_name for scope in chosen["steps"]] == ["change_request", "change_task"]


def test_a_table_another_pack_reads_with_another_query_is_read_once_with_both_queries_ored():
    chosen = pack_scopes([pack("etiu", ETIU_PACK), pack("steps", OTHER_KEY_PACK)])

    assert [(scope.cache_name, str(scope.own)) for scope in chosen["steps"]] == [
        ("change_request", "u_engagementISNOTEMPTY"),
        ("change_task", "change_request.u_engagementISNOTEMPTY"),
    ]
    assert [encoded(scope.query) for scope in distinct(chosen)][1:] == [
        "correlation_idISNOTEMPTY^NQu_engagementISNOTEMPTY",
        "change_request.correlation_idISNOTEMPTY^NQchange_request.u_engagementISNOTEMPTY",
    ]
    assert cache_names(chosen, "steps")["change_request"] == ["change_request"]


def written(table: str, row: dict):
    return SimpleNamespace(write=SimpleNamespace(table=table), saved=row, status="done")


def test_a_verified_write_enters_its_packs_copy_and_updates_only_rows_the_other_copy_holds(tmp_path):
    query = Query.where("correlation_id", "ISNOTEMPTY")
    chosen = {"etiu": [Scope("change_request", "change_request", query)],
              "steps": [Scope("steps:change_request", "change_request", query)]}
    shared = {"sys_id": "s", "sys_updated_on": "2026-11-16 12:00:00", "state": "-2"}
    with RecordCache.open(tmp_path) as cache:
        cache.replace("change_request", [shared], AT)
        cache.replace("steps:change_request", [shared], AT)
        outcomes = [written("change_request", {**shared, "state": "-1"}),
                    written("change_request", {"sys_id": "new", "sys_updated_on": "2026-11-16 12:01:00"})]
        remember_own_writes(cache, None, outcomes, {}, cache_names(chosen, "etiu"))

        assert {row["sys_id"]: row.get("state") for row in cache.records("change_request")} == {"s": "-1", "new": None}
        assert {row["sys_id"]: row.get("state") for row in cache.records("steps:change_request")} == {"s": "-1"}


class ListingClient:
    """Answers each list with the rows given for its table and key field, for each ^NQ query,
    updated at or after that query's ``sys_updated_on>=`` when it has one, as the instance would;
    its clock stands at ``now``."""

    def __init__(self, rows: dict[tuple[str, str], list[dict]], now: datetime) -> None:
        self.rows, self.now = rows, now

    def instance_now(self):
        return self.now

    def list(self, table, query, **_options):
        found = {}
        for text in str(query).split("^NQ"):
            since = text.split("sys_updated_on>=", 1)[1] if "sys_updated_on>=" in text else ""
            found.update((row["sys_id"], row) for (name, field), rows in self.rows.items()
                         if name == table and text.startswith(field) for row in rows if row["sys_updated_on"] >= since)
        return list(found.values())

    def iter_pages(self, table, query, **options):
        yield self.list(table, query, **options)  # one page: a full read reads page by page


def test_one_packs_newest_row_never_hides_rows_only_the_other_packs_query_selects(tmp_path):
    chosen = pack_scopes([pack("etiu", ETIU_PACK), pack("steps", OTHER_KEY_PACK)])
    scopes = [(scope.cache_name, scope.table, scope.query) for scope in distinct(chosen) if scope.table == "change_request"]
    newer = {"sys_id": "a", "sys_updated_on": "2026-11-16 12:00:00", "correlation_id": "E1", "u_engagement": ""}
    older = {"sys_id": "b", "sys_updated_on": "2026-11-10 09:00:00", "correlation_id": "", "u_engagement": "E2"}
    client = ListingClient({("change_request", "correlation_id"): [newer], ("change_request", "u_engagement"): [older]},
                           datetime(2026, 11, 14, 9, 0, tzinfo=timezone.utc))
    with RecordCache.open(tmp_path) as cache:
        read_scopes(client, cache, scopes, StateSettings(dir=tmp_path), AT)
        # Changed after the last read, before the first pack's newest row.
        between = {"sys_id": "c", "sys_updated_on": "2026-11-14 10:00:00", "correlation_id": "", "u_engagement": "E3"}
        client.rows[("change_request", "u_engagement")].append(between)
        rows = read_scopes(client, cache, scopes, StateSettings(dir=tmp_path), AT)

    assert tables_of(chosen["steps"], rows)["change_request"] == [older, between]
    assert tables_of(chosen["etiu"], rows)["change_request"] == [newer]


def with_match(tmp_path: Path, match: str) -> Path:
    folder = tmp_path / "etiu"
    shutil.copytree(SHIPPED_PACK, folder)
    text = (folder / "pack.toml").read_text(encoding="utf-8")
    (folder / "pack.toml").write_text(text.replace("[pack]\n", f"[pack]\nmatch = {match}\n", 1), encoding="utf-8")
    return folder


@pytest.mark.parametrize(("match", "message"), [
    ('"key =="', "[pack] match[0]: condition 'key ==' does not compile: unexpected 'end of template'"),
    ('["true", "clinet == \'Acme\'"]', "[pack] match[1]: condition \"clinet == 'Acme'\" fails on the sample engagement: 'clinet' is undefined (did you mean 'client'?)"),
    ('"change.state == \'schedled\'"', "[pack] match[0]: condition \"change.state == 'schedled'\" compares a change state with 'schedled', which is not a change state (did you mean 'scheduled'?)"),
])
def test_a_match_that_cannot_hold_is_refused_at_load_naming_pack_toml_and_the_condition(tmp_path, match, message):
    folder = with_match(tmp_path, match)

    with pytest.raises(RulesError) as refused:
        load_pack(pack_folder(folder))

    assert message in str(refused.value)
    assert str(folder / "pack.toml") in str(refused.value)


def test_a_match_written_as_one_condition_or_a_list_loads_as_a_list_of_conditions(tmp_path):
    playbook = load_pack(pack_folder(with_match(tmp_path, '"key != \'ENG-X\'"')))

    assert [condition.text for condition in playbook.match] == ["key != 'ENG-X'"]


def engagement(key: str):
    return SimpleNamespace(key=key, problems=(), records=())


def matching(name: str, keys: set[str] | None):
    """A pack whose match holds for ``keys`` (None: no match, every engagement)."""
    return SimpleNamespace(name=name, match=keys)


def test_each_engagement_goes_to_the_one_pack_that_claims_it_and_a_shared_one_to_the_first_with_a_problem(monkeypatch):
    from etiu_worker.playbook import pack_match

    monkeypatch.setattr(pack_match, "claims", lambda playbook, e, memory, at: playbook.match is None or e.key in playbook.match)
    monkeypatch.setattr(pack_match, "replace", lambda e, problems: SimpleNamespace(key=e.key, problems=problems))
    built = {"a": [engagement("E1"), engagement("E2")], "b": [engagement("E1"), engagement("E2"), engagement("E3")]}

    owned = assign([matching("a", {"E1", "E2"}), matching("b", {"E2", "E3"})], built, {}, AT)

    assert [(e.key, [p.message for p in e.problems]) for e in owned["a"]] == [
        ("E1", []), ("E2", ["engagement E2 is claimed by packs a and b: no pack acts on it until the [pack] match "
                            "of all but one of them leaves it out"])]
    assert [e.key for e in owned["b"]] == ["E3"]


def pisaas_with_match(tmp_path: Path, match: str):
    folder = tmp_path / "pisaas-monthly"
    shutil.copytree(SHIPPED_PACK.parent / "pisaas-monthly", folder)
    text = (folder / "pack.toml").read_text(encoding="utf-8")
    shipped = 'match = ["case is not none", "case.service == \'pisaas_monthly\'"]'
    assert shipped in text
    (folder / "pack.toml").write_text(text.replace(shipped, f"match = {match}"), encoding="utf-8")
    return load_pack(pack_folder(folder))


@pytest.mark.parametrize("match", [
    '["case is not none"]',  # reads a record only: evaluated without the steps and dates
    '["steps is defined", "steps.acceptance is defined"]',
    '["dates is mapping", "latches is mapping"]',
])
def test_a_match_claims_the_engagement_with_every_name_it_reads_computed(tmp_path, match):
    from etiu_worker.actions.sample import SAMPLE_NOW, sample_context
    from etiu_worker.playbook.pack_match import claims

    playbook = pisaas_with_match(tmp_path, match)
    engagement, _ = sample_context(playbook)
    assert claims(playbook, engagement, {}, SAMPLE_NOW)
