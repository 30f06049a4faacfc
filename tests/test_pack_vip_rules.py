"""The VIP upgrade pack's rules on the engine's own plan (no HTTP): each fixture of
packs/vip-upgrade/fixtures meets its [expect] and plans the writes its story needs, and the
sandbox's demo engagements get what the seed asks for (the upgrade owner on L2-L4, a rollback
opened one step after the other)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from etiu_worker.actions.loading import load_pack
from etiu_worker.config import Settings
from etiu_worker.cycle.engine import plan_cycle
from etiu_worker.cycle.rule_tester import run_fixture
from etiu_worker.playbook.context import pack_engagements
from etiu_worker.playbook.pack_folders import pack_folder
from etiu_worker.sandbox.demo_packs import seed_packs
from etiu_worker.sandbox.store import Store
from upgrade_packs_helpers import REPO, at_utc

PACK = REPO / "packs" / "vip-upgrade"
FIXTURES = sorted((PACK / "fixtures").glob("*.toml"))
OWNER = "a0000000000000000000000000000d01"  # the fixtures' upgrade owner
TODAY = date(2026, 12, 9)  # a Wednesday
NOW = at_utc(TODAY, 8)


@pytest.fixture(scope="module")
def playbook():
    return load_pack(pack_folder(PACK))


def fixture(playbook, name: str):
    return run_fixture(PACK / "fixtures" / f"{name}.toml", playbook, Settings())


def planned(playbook, name: str) -> list[tuple[str, str, str, dict]]:
    """(rule, kind, target, fields) of each write the fixture plans, in order."""
    return [(write.rule, write.kind, write.target, dict(write.fields)) for write in fixture(playbook, name).writes]


def test_the_pack_has_at_least_eight_fixtures():
    assert len(FIXTURES) >= 8


def test_every_template_of_the_pack_is_posted_by_some_rule(playbook):
    named = {action.template for rule in playbook.rules for action in rule.actions if action.template}

    assert sorted(path.name for path in (PACK / "templates").glob("*.j2")) == sorted(named)


@pytest.mark.parametrize("path", FIXTURES, ids=[path.stem for path in FIXTURES])
def test_every_fixture_meets_its_expect_section(playbook, path):
    result = run_fixture(path, playbook, Settings())

    assert result.passed, result.render()


def test_a_new_change_gets_p1_to_l6_pending_with_l2_to_l4_for_the_upgrade_owner(playbook):
    writes = planned(playbook, "new_change_gets_its_checklist")

    assert [(target, fields["state"]) for _, _, target, fields in writes] == [
        (f"tasks {step}", "-5") for step in ("P1", "P2", "P3", "P4", "L1", "L2", "L3", "L4", "L5", "L6")]
    assert [target for _, _, target, fields in writes if fields.get("assigned_to") == OWNER] == [
        "tasks L2", "tasks L3", "tasks L4"]


def test_a_held_gate_flags_the_launch_step_that_left_pending_naming_what_it_waits_for(playbook):
    [write] = fixture(playbook, "launch_gate_held").writes

    assert (write.rule, write.kind, write.target) == ("launch_gate", "flag", "tasks L1")
    assert "P4 (Customer determines the launch date and time: open) not closed yet" in write.note


@pytest.mark.parametrize(("name", "target", "says"), [
    ("launch_step_closed_out_of_order", "tasks L3", "was closed out of order, while L2 is not done"),
    ("upgrade_step_cannot_be_skipped", "tasks L3", "was cancelled, but it cannot be skipped"),
    ("rollback_step_closed_out_of_order", "tasks R3", "was closed out of order, while R4 is not done"),
])
def test_a_step_out_of_order_or_skipped_when_it_may_not_be_is_flagged_on_its_task(playbook, name, target, says):
    [flag] = [write for write in fixture(playbook, name).writes if write.kind == "flag"]

    assert flag.target == target and says in flag.note


@pytest.mark.parametrize(("name", "says"), [
    ("window_moved_after_the_launch_was_agreed", "The planned start is 2026-12-15 10:00 EST (2026-12-15 15:00 UTC), "
                                                 "but the agreed launch is 2026-12-14 10:00 EST (2026-12-14 15:00 UTC)"),
    ("window_entered_with_the_winter_offset_after_spring_forward", "but the agreed launch is 2027-03-15 10:00 EDT "
                                                                   "(2027-03-15 14:00 UTC)"),
])
def test_a_planned_start_that_is_not_the_agreed_launch_is_flagged_with_both_local_times(playbook, name, says):
    [write] = fixture(playbook, name).writes

    assert (write.rule, write.kind, write.target) == ("planned_window", "flag", "change request")
    assert says in write.note and "Time zone hint" not in write.note


def test_the_qa_period_closes_l6_then_the_change_successful_at_exactly_its_end(playbook):
    writes = planned(playbook, "qa_period_ends_at_exactly_its_time")

    assert [(rule, kind, target, fields) for rule, kind, target, fields in writes if rule == "qa_period_over"] == [
        ("qa_period_over", "set_state", "tasks L6", {"state": "3"}),
        ("qa_period_over", "set_field", "change request", {"close_code": "successful"}),
        ("qa_period_over", "set_state", "change request", {"state": "3"})]


def test_the_qa_comment_counts_business_days_past_thanksgiving_and_names_the_support_channel(playbook):
    [comment] = [write for write in fixture(playbook, "qa_period_does_not_count_thanksgiving").writes
                 if write.kind == "comment"]

    assert "began 2026-11-25 15:00 EST" in comment.note
    assert "until the QA period ends on 2026-12-04 15:00 EST (America/New_York)" in comment.note
    assert "go through Zendesk" in comment.note


def test_a_rollback_creates_the_steps_done_last_first_the_first_open_and_none_for_a_step_skipped(playbook):
    writes = planned(playbook, "rollback_created_in_reverse_order")

    assert [(target, fields["state"], fields["assigned_to"]) for _, kind, target, fields in writes if kind == "create"] == [
        ("tasks R4", "1", OWNER), ("tasks R3", "-5", OWNER)]
    assert not [rule for rule, *_ in writes if rule.startswith("qa_period")]


def test_a_rollback_done_closes_the_change_unsuccessful_and_flags_the_next_date(playbook):
    writes = planned(playbook, "rollback_done_closes_the_change_unsuccessful")

    assert [(kind, fields) for rule, kind, _, fields in writes if rule == "rollback_done"] == [
        ("set_field", {"close_code": "unsuccessful"}), ("set_state", {"state": "3"}), ("flag", {})]


# --- the sandbox's demo engagements ------------------------------------------------------------


def demo_plan(playbook, store: Store, key: str, now=NOW) -> list[tuple[str, str, str, dict]]:
    tables = {table: store.query(table) for table in ("change_request", "change_task")}
    engagements = [item for item in pack_engagements(playbook, tables, "UTC") if item.key == key]
    cycle = plan_cycle(playbook, engagements, {}, now, lambda sys_id, ref: False)
    return [(write.rule, write.kind, write.target, dict(write.fields)) for write in cycle.writes]


def demo(story: str) -> tuple[Store, str]:
    store = Store()
    (item,) = [item for item in seed_packs(store, TODAY, packs=("vip-upgrade",))["vip-upgrade"] if item.story == story]
    return store, item.key


def test_a_launch_step_given_to_someone_else_goes_to_the_upgrade_owner(playbook):
    store, key = demo("launch_day")
    owner = store.query("sys_user", "user_name=dana.k")[0]["sys_id"]

    assert ("upgrade_owner", "set_field", "tasks L4", {"assigned_to": owner}) in demo_plan(playbook, store, key)


def test_a_decided_rollback_opens_each_step_only_once_the_one_before_it_is_closed(playbook):
    store, key = demo("rollback")  # R4 closed, R3 in progress, R2 pending

    assert [write for write in demo_plan(playbook, store, key) if write[0] == "rollback"] == []
    change = store.query("change_request", f"number={key}")[0]
    r3 = store.query("change_task", f"change_request={change['sys_id']}^u_step=R3")[0]
    store.update("change_task", r3["sys_id"], {"state": "3", "sys_updated_on": "2026-12-08 06:00:00"})
    assert ("rollback", "set_state", "tasks R2", {"state": "1"}) in demo_plan(playbook, store, key)
