"""The ETIU pack declares its records ([engagement], [records.*]); every key of the old [schema]
still works for one release, landing on the declarations."""

from __future__ import annotations

import tomllib

import pytest

import playbook_helpers as h
from etiu_worker.actions.loading import load_playbook
from etiu_worker.config import SchemaSettings, Settings
from etiu_worker.errors import RulesError
from etiu_worker.playbook.pack_schema import declarations_with

TABLES = tomllib.loads((h.SHIPPED_PACK / "pack.toml").read_text(encoding="utf-8"))
TICKET_ROLES = ("kickoff", "dev_upgrade", "validation", "best_practices", "support_week")


def declared(keys: dict[tuple[str, ...], str]):
    return declarations_with(TABLES, keys, "pack.toml")


# (an old [schema] key, a value, where the declarations hold it)
OLD_KEYS = [
    (("ticket", "table"), "x_acme_etiu", lambda d: {d.records[role].table for role in TICKET_ROLES}),
    (("ticket", "engagement"), "u_engagement", lambda d: {d.engagement.key.field} | {d.records[r].link.field for r in TICKET_ROLES}),
    (("ticket", "code"), "u_code", lambda d: {d.records[role].identity.field for role in TICKET_ROLES}),
    (("ticket", "short_description"), "u_title", lambda d: {d.engagement.name.field, d.records["kickoff"].fields["title"].field}),
    (("ticket", "work_start"), "u_started", lambda d: {d.records["validation"].fields["work_start"].field}),
    (("ticket", "state"), "u_state", lambda d: {d.records[role].state_field for role in TICKET_ROLES}),
    (("codes", "validation"), "VAL03", lambda d: {d.records["validation"].identity.value}),
    (("change", "table"), "x_change", lambda d: {d.records["change"].table}),
    (("change", "engagement"), "u_engagement", lambda d: {d.records["change"].link.field}),
    (("change", "planned_start"), "u_start", lambda d: {d.records["change"].fields["planned_start"].field}),
    (("change", "timezone"), "u_zone", lambda d: {d.engagement.zone.field}),
    (("ctask", "table"), "x_task", lambda d: {d.records["planned_dates"].table}),
    (("ctask", "change_request"), "u_parent", lambda d: {d.records["planned_dates"].link.ref}),
    (("ctask", "short_description"), "u_summary", lambda d: {d.records["planned_dates"].identity.field}),
    (("ctask", "planned_dates_match"), "dates please", lambda d: {d.records["planned_dates"].identity.contains}),
    (("ticket_states", "closed_skipped"), "8", lambda d: {d.records[role].states["closed_skipped"] for role in TICKET_ROLES}),
    (("change_states", "canceled"), "9", lambda d: {d.records["change"].states["canceled"]}),
    (("ctask_states", "closed"), "30", lambda d: {d.records["planned_dates"].states["closed"]}),
]


@pytest.mark.parametrize("key, value, held", OLD_KEYS, ids=[".".join(row[0]) for row in OLD_KEYS])
def test_an_old_schema_key_lands_on_the_declarations(key, value, held):
    assert held(declared({key: value})) == {value}


def test_an_old_layout_pack_without_records_runs_with_the_shipped_records(tmp_path):
    rules, templates = h.copy_playbook(tmp_path)
    text = (rules / "playbook.toml").read_text(encoding="utf-8")
    (rules / "playbook.toml").write_text(text[: text.index("[engagement]")], encoding="utf-8")

    playbook = load_playbook(rules, templates, SchemaSettings())

    assert sorted(playbook.declarations.records) == sorted(TICKET_ROLES + ("change", "planned_dates"))


def test_an_old_code_setting_for_a_role_the_pack_lacks_is_refused_naming_the_role():
    with pytest.raises(RulesError) as refused:
        declared({("codes", "validaton"): "VAL03"})

    assert str(refused.value) == (
        "pack.toml: schema.codes.validaton: 'validaton' is not a role of the pack (did you mean 'validation'?); "
        "the roles are: kickoff, dev_upgrade, validation, best_practices, support_week, change, planned_dates")


def test_the_environment_sets_a_roles_code_by_the_roles_name(monkeypatch):
    monkeypatch.setenv("ETIU_SCHEMA__CODES__VALIDATION", "VAL03")

    assert Settings().schema.codes == {"validation": "VAL03"}
