"""The upgrade packs' rules tried on the sandbox demo engagements with the stand-in planner the
packs were drafted against (tests/upgrade_packs_helpers.py): the demo stories get the actions the
seeds ask for (the 13:00 cut-off, the gates). Every rule of every pack also loads with the engine
(`rules check`, tests/test_pack_<short>_*.py), which these tests predate."""

from __future__ import annotations

from datetime import date

import pytest

from etiu_worker.sandbox.demo_packs import seed_packs
from etiu_worker.sandbox.store import Store
from upgrade_packs_helpers import at_utc, engagements, load, plan_drafts

TODAY = date(2026, 12, 9)  # a Wednesday
NOW = at_utc(TODAY, 8)


@pytest.fixture(scope="module")
def instance():
    store = Store()
    seeded = seed_packs(store, TODAY)
    return store, {(pack, item.story): item.key for pack, items in seeded.items() for item in items}


def planned(instance, pack: str, story: str, now=NOW):
    store, keys = instance
    loaded = load(pack)
    return plan_drafts(loaded, engagements(loaded.declarations, store)[keys[(pack, story)]], now)


def actions(instance, pack, story, now=NOW):
    return [(item.rule, item.kind, item.target, item.step, item.value) for item in planned(instance, pack, story, now)]


def test_an_opt_out_in_time_cancels_the_task_and_moves_the_customer_to_next_month(instance):
    assert actions(instance, "pisaas-monthly", "opted_out_in_time") == [
        ("opt_out_cutoff", "set_state", "upgrade", "", ""),
        ("opt_out_cutoff", "set_field", "case", "", "2027-01-01"),
        ("opt_out_cutoff", "comment", "case", "", ""),
    ]


def test_an_opt_out_a_minute_after_13_00_is_flagged_and_nothing_is_cancelled(instance):
    assert actions(instance, "pisaas-monthly", "opted_out_late") == [("late_opt_out", "flag", "['case', 'upgrade']", "", "")]


def test_the_notice_goes_out_72_hours_before_the_slot_and_no_answer_by_13_00_opens_the_task(instance):
    notice = planned(instance, "pisaas-monthly", "notice_due", at_utc(TODAY, 9))

    assert [(item.rule, item.kind) for item in notice] == [("customer_notice", "comment")]
    assert "opt out, please tell us by 13:00 on that day (2026-12-12 13:00 GMT)" in notice[0].note
    on_the_day = planned(instance, "pisaas-monthly", "notice_due", at_utc(date(2026, 12, 12), 13))
    assert ("opt_out_cutoff", "set_state") in [(item.rule, item.kind) for item in on_the_day]


def test_a_slot_over_with_its_task_open_is_flagged_to_replan(instance):
    assert actions(instance, "pisaas-monthly", "slot_missed") == [("slot_outcome", "flag", "['case', 'upgrade']", "", "")]


# The vip-upgrade pack's rules run on the engine: tests/test_pack_vip_rules.py holds what was
# asserted here of its launch day and rollback, on the engine's own plan.


def test_the_prod_change_scheduled_before_uats_sanity_test_is_flagged_and_uat_past_80_percent_warned(instance):
    found = actions(instance, "aurea-crm-cloud", "prod_scheduled_early")

    assert ("prod_gate", "flag", "prod_change", "", "") in found
    assert ("phase_limits", "flag", "uat_change", "", "") in found


def test_a_hand_over_waiting_for_sign_off_reminds_the_customer_and_a_broken_engagement_only_gets_flagged(instance):
    assert ("signoff_gate", "comment", "case", "", "") in actions(instance, "aurea-crm-cloud", "signoff_pending")
    assert [item[:2] for item in actions(instance, "aurea-crm-cloud", "unknown_environment")] == [("engagement_sanity", "flag")]


def test_the_customer_holding_the_environment_is_reminded_and_an_incomplete_intake_listed(instance):
    reminder = planned(instance, "aurea-cx-managed", "environment_pending")
    intake = planned(instance, "aurea-cx-managed", "intake_incomplete")

    assert [(item.rule, item.kind) for item in reminder] == [("customer_environment", "comment")]
    assert "the reason for the deadline; the acknowledgement that access" in intake[0].note
