"""The upgrade packs' steps, dates, latches and phases computed on their sandbox demo engagements,
as conditions will see them: each demo engagement is in the phase its story tells, and the dates
its rules will read fall where the seeds say (the QA period in business days across Thanksgiving,
the 13:00 opt-out cut-off on the client's wall clock, the notice 48 hours before the slot, a slot
moved after its notice, the phase limits, the gates)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from etiu_worker.sandbox.demo_packs import seed_packs
from etiu_worker.sandbox.store import Store
from upgrade_packs_helpers import at_utc, engagements, evaluate, load

TODAY = date(2026, 12, 9)  # a Wednesday
NOW = at_utc(TODAY, 8)  # 08:00 UTC: midnight in Los Angeles, 09:00 in Berlin


def demo(today: date = TODAY):
    """Each pack's demo engagements, by story, with the store they were seeded in."""
    store = Store()
    seeded = seed_packs(store, today)
    return store, {(pack, item.story): item.key for pack, items in seeded.items() for item in items}


@pytest.fixture(scope="module")
def instance():
    return demo()


def evaluated(instance, pack: str, story: str, now: datetime = NOW, memory=None):
    store, keys = instance
    loaded = load(pack)
    return evaluate(loaded, engagements(loaded.declarations, store)[keys[(pack, story)]], now, memory)


PHASES = [
    ("vip-upgrade", "launch_not_agreed", "pre launch"),
    ("vip-upgrade", "launch_agreed", "launch agreed"),
    ("vip-upgrade", "launch_day", "launch day"),
    ("vip-upgrade", "qa_period", "qa period"),
    ("vip-upgrade", "rollback", "rollback"),
    ("aurea-cx-managed", "intake_incomplete", "initiation"),
    ("aurea-cx-managed", "environment_pending", "execution"),
    ("aurea-cx-managed", "execution_overdue", "execution"),
    ("aurea-cx-managed", "on_call", "on call"),
    ("aurea-cx-managed", "duplicate_response", "needs attention"),
    ("pisaas-monthly", "notice_due", "notice due"),
    ("pisaas-monthly", "opted_out_in_time", "notified"),
    ("pisaas-monthly", "opted_out_late", "upgraded"),
    ("pisaas-monthly", "slot_missed", "slot missed"),
    ("pisaas-monthly", "awaiting_acceptance", "service acceptance"),
    ("aurea-crm-cloud", "initiation", "initiation"),
    ("aurea-crm-cloud", "development_over_limit", "development"),
    ("aurea-crm-cloud", "signoff_pending", "development"),
    ("aurea-crm-cloud", "prod_scheduled_early", "uat"),
    ("aurea-crm-cloud", "unknown_environment", "needs attention"),
]


@pytest.mark.parametrize(("pack", "story", "phase"), PHASES)
def test_each_demo_engagement_is_in_the_phase_its_story_tells_and_every_date_computes(instance, pack, story, phase):
    result = evaluated(instance, pack, story)

    assert result.phase == phase
    assert [name for name, value in result.dates.items() if hasattr(value, "_undefined_message")] == []
    assert [latch.error for latch in result.latches.values() if latch.error] == []


# --- VIP --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("today", "ends"), [
    (TODAY, datetime(2026, 12, 11, 13, 0)),  # QA began Friday Dec 4 at 13:00 Sydney: 5 business days
    (date(2026, 11, 25), datetime(2026, 12, 1, 13, 0)),  # began Friday Nov 20: Thanksgiving's two days do not count
])
def test_the_qa_period_ends_its_business_days_after_the_customer_began_full_qa_on_the_clients_wall_clock(today, ends):
    result = evaluated(demo(today), "vip-upgrade", "qa_period", at_utc(today, 8))

    assert result.dates["qa_ends"] == ends.replace(tzinfo=ZoneInfo("Australia/Sydney"))
    assert result.steps.launch.items.L6.ready and not result.steps.launch.items.L6.overdue


def test_the_agreed_launch_is_the_planned_start_on_the_clients_wall_clock(instance):
    result = evaluated(instance, "vip-upgrade", "launch_agreed")

    assert result.dates["launch"] == result.dates["planned_start"] == datetime(2026, 12, 14, 10, 0, tzinfo=ZoneInfo("Europe/London"))
    assert [step.id for step in result.steps.launch.next] == ["L1"]


def test_launch_day_goes_on_past_a_pull_request_step_not_needed(instance):
    launch = evaluated(instance, "vip-upgrade", "launch_day").steps.launch

    assert launch.items.L2.skipped and launch.items.L2.optional
    assert launch.items.L4.ready and not launch.out_of_order


def test_a_rollback_undoes_the_steps_done_last_first_one_after_the_other(instance):
    result = evaluated(instance, "vip-upgrade", "rollback")
    rollback = result.steps.rollback

    assert list(rollback.items) == ["R4", "R3", "R2"]
    assert rollback.items.R4.done and rollback.items.R3.ready and rollback.items.R2.blocked_by == ("rollback.R3",)
    assert result.latches["rollback"].set and result.latches["rollback"].at == NOW


# --- piSaaS -----------------------------------------------------------------------------------


def test_an_opt_out_in_time_is_before_13_00_on_the_slots_day_in_the_clients_zone(instance):
    result = evaluated(instance, "pisaas-monthly", "opted_out_in_time")

    assert result.dates["cutoff"] == datetime(2026, 12, 11, 13, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    assert result.context["case"].opt_out_at < result.dates["cutoff"]


def test_a_late_opt_out_is_one_minute_past_the_cut_off(instance):
    result = evaluated(instance, "pisaas-monthly", "opted_out_late")

    assert result.dates["cutoff"] == datetime(2026, 12, 7, 13, 0, tzinfo=ZoneInfo("America/New_York"))
    assert result.context["case"].opt_out_at - result.dates["cutoff"] == timedelta(minutes=1)


def test_the_notice_is_remembered_with_its_slot_from_72_hours_before_it_and_a_moved_slot_is_seen():
    store, keys = fresh = demo()
    slot = datetime(2026, 12, 12, 9, 0, tzinfo=ZoneInfo("Europe/London"))
    before = evaluated(fresh, "pisaas-monthly", "notice_due")
    sent = evaluated(fresh, "pisaas-monthly", "notice_due", at_utc(TODAY, 9))

    assert before.dates["notice_from"] == slot - timedelta(hours=72) and not before.latches["notice"].set
    assert sent.latches["notice"].set and sent.latches["notice"].value == slot
    assert sent.dates["notice_due"] == slot - timedelta(hours=48)

    task = sent.context["upgrade"]
    store.update("change_task", task.sys_id, {"planned_start_date": "2026-12-12 15:00:00"})
    moved = evaluated(fresh, "pisaas-monthly", "notice_due", at_utc(TODAY, 10), sent.moments.memory())

    assert moved.latches["notice"].changed and moved.dates["announced_slot"] == slot
    assert moved.dates["slot"] == datetime(2026, 12, 12, 15, 0, tzinfo=ZoneInfo("UTC"))


def test_next_months_release_is_still_in_service_acceptance_past_its_10_business_days(instance):
    acceptance = evaluated(instance, "pisaas-monthly", "awaiting_acceptance").steps.acceptance

    assert not acceptance.done and acceptance.overdue


# --- Aurea CX ---------------------------------------------------------------------------------


def test_the_upgrade_waits_for_the_customers_environment_whatever_the_consultant_did(instance):
    execution = evaluated(instance, "aurea-cx-managed", "environment_pending").steps.execution

    assert execution.items.backup.done
    assert execution.items.upgrade.blocked_by == ("preparation.prepare_environment",)


def test_an_upgrade_past_its_week_is_overdue_and_an_incomplete_intake_is_due_a_business_day_after_it_is_seen(instance):
    overdue = evaluated(instance, "aurea-cx-managed", "execution_overdue")
    intake = evaluated(instance, "aurea-cx-managed", "intake_incomplete")

    assert overdue.steps.execution.items.upgrade.overdue
    assert intake.latches["intake_incomplete"].set
    assert intake.dates["intake_due"] == datetime(2026, 12, 10, 0, 0, tzinfo=ZoneInfo("America/Los_Angeles"))


def test_on_call_support_ends_a_week_after_the_final_playbook(instance):
    result = evaluated(instance, "aurea-cx-managed", "on_call")

    assert result.dates["oncall_ends"] == result.dates["oncall_opened"] + timedelta(weeks=1)


# --- Aurea CRM --------------------------------------------------------------------------------


def test_a_phase_past_its_limit_is_overdue_and_one_past_80_percent_is_warned(instance):
    development = evaluated(instance, "aurea-crm-cloud", "development_over_limit").steps.dev_phase
    uat = evaluated(instance, "aurea-crm-cloud", "prod_scheduled_early").steps.uat_phase

    assert development.overdue
    assert uat.warn and not uat.overdue


def test_prod_waits_for_uats_sanity_test_and_its_window_is_the_agreed_local_time(instance):
    result = evaluated(instance, "aurea-crm-cloud", "prod_scheduled_early")

    assert result.steps.prod.items.upgrade.blocked_by == ("uat.sanity",)
    assert result.dates["prod_agreed"] == result.context["prod_change"].planned_start
    assert result.latches["signed_off"].set and result.latches["uat_transfer"].set


def test_a_hand_over_not_signed_off_does_not_set_the_sign_off(instance):
    result = evaluated(instance, "aurea-crm-cloud", "signoff_pending")

    assert result.steps.dev.items.handover.done and not result.latches["signed_off"].set
