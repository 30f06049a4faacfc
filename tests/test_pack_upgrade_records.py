"""The four upgrade packs of issue 12 (VIP, Aurea CX, piSaaS, Aurea CRM) as data: each pack.toml
loads (its records by role, its steps, dates, latches, phases and report), and the sandbox's demo
engagements of every pack, seeded into one instance beside the ETIU demo, group into exactly the
intended engagements of their own pack, each with the intended records in each role."""

from __future__ import annotations

from datetime import date

import pytest

from etiu_worker.sandbox import demo
from etiu_worker.sandbox.demo_packs import PACKS, seed_packs
from etiu_worker.sandbox.store import Store
from upgrade_packs_helpers import REPO, UPGRADE_PACKS, declarations_of, engagements, load

TODAY = date(2026, 12, 9)  # a Wednesday

# Each pack's roles and the table each lives in.
ROLES = {
    "vip-upgrade": {"change": "change_request", "tasks": "change_task"},
    "aurea-cx-managed": {"case": "sn_customerservice_case", "tasks": "sn_customerservice_task"},
    "pisaas-monthly": {"case": "sn_customerservice_case", "upgrade": "change_task", "release": "change_request"},
    "aurea-crm-cloud": {
        "case": "sn_customerservice_case", "tasks": "sn_customerservice_task", "dev_change": "change_request",
        "uat_change": "change_request", "prod_change": "change_request", "dev_tasks": "change_task",
        "uat_tasks": "change_task", "prod_tasks": "change_task", "handover": "change_task", "dev_fixes": "change_task",
    },
}

# Each demo engagement: its records in each role, as (step or number-less marker, state), and the
# keys of its problems (none but the one a story shows on purpose).
P_DONE = [("P1", "closed"), ("P2", "closed"), ("P3", "closed"), ("P4", "closed")]
L_PENDING = [(f"L{n}", "pending") for n in range(1, 7)]
INITIATION = [("respond", "closed_complete"), ("acknowledge", "closed_complete")]
BEFORE = [*INITIATION, ("analyse", "closed_complete"), ("verify_tests", "closed_complete"), ("stage_files", "closed_complete")]
STORIES = {
    ("vip-upgrade", "launch_not_agreed"): ({"tasks": [("P1", "closed"), ("P2", "closed"), ("P3", "open"), ("P4", "pending"), *L_PENDING]}, []),
    ("vip-upgrade", "launch_agreed"): ({"tasks": [("P1", "canceled"), *P_DONE[1:], *L_PENDING]}, []),
    ("vip-upgrade", "launch_day"): ({"tasks": [*P_DONE, ("L1", "closed"), ("L2", "canceled"), ("L3", "closed"),
                                               ("L4", "in_progress"), ("L5", "pending"), ("L6", "pending")]}, []),
    ("vip-upgrade", "qa_period"): ({"tasks": [*P_DONE, *((f"L{n}", "closed") for n in range(1, 6)), ("L6", "open")]}, []),
    ("vip-upgrade", "rollback"): ({"tasks": [*P_DONE, *((f"L{n}", "closed") for n in range(1, 6)), ("L6", "pending"),
                                             ("R4", "closed"), ("R3", "in_progress"), ("R2", "pending")]}, []),
    ("aurea-cx-managed", "intake_incomplete"): ({"tasks": [("respond", "open")]}, []),
    ("aurea-cx-managed", "environment_pending"): ({"tasks": [*INITIATION, ("setup", "closed_complete"),
                                                             ("prepare_upgrade", "closed_complete"), ("prepare_environment", "open"),
                                                             ("backup", "closed_complete"), ("upgrade", "pending")]}, []),
    ("aurea-cx-managed", "execution_overdue"): ({"tasks": [*INITIATION, ("setup", "closed_complete"),
                                                           ("prepare_upgrade", "closed_complete"),
                                                           ("prepare_environment", "closed_complete"), ("backup", "closed_complete"),
                                                           ("upgrade", "work_in_progress"), ("test", "pending"),
                                                           ("fix_retest", "pending")]}, []),
    ("aurea-cx-managed", "on_call"): ({"tasks": [*((step, "closed_complete") for step in (
        "respond", "acknowledge", "setup", "prepare_upgrade", "prepare_environment", "backup", "upgrade", "test", "fix_retest",
        "create_playbook", "review_playbook", "revise_playbook", "final_playbook")), ("oncall", "work_in_progress")]}, []),
    ("aurea-cx-managed", "duplicate_response"): ({"tasks": [("respond", "open"), ("respond", "pending")]},
                                                 ["duplicate-step:tasks:respond"]),
    ("pisaas-monthly", "notice_due"): ({"upgrade": [(None, "pending")], "release": [(None, "scheduled")]}, []),
    ("pisaas-monthly", "opted_out_in_time"): ({"upgrade": [(None, "pending")], "release": [(None, "scheduled")]}, []),
    ("pisaas-monthly", "opted_out_late"): ({"upgrade": [(None, "closed")], "release": [(None, "scheduled")]}, []),
    ("pisaas-monthly", "slot_missed"): ({"upgrade": [(None, "open")], "release": [(None, "scheduled")]}, []),
    ("pisaas-monthly", "awaiting_acceptance"): ({"upgrade": [(None, "pending")], "release": [(None, "assess")]}, []),
    ("aurea-crm-cloud", "initiation"): ({"tasks": [("respond", "open")], "dev_change": []}, []),
    ("aurea-crm-cloud", "development_over_limit"): ({
        "tasks": BEFORE, "dev_change": [(None, "implement")], "uat_change": [(None, "new")], "prod_change": [(None, "new")],
        "dev_tasks": [("backup", "closed"), ("upgrade", "closed"), ("reapply", "closed"), ("sanity", "in_progress")],
        "uat_tasks": [("backup", "closed")], "prod_tasks": [("backup", "closed")], "handover": []}, []),
    ("aurea-crm-cloud", "signoff_pending"): ({
        "dev_change": [(None, "review")], "uat_change": [(None, "new")],
        "dev_tasks": [("backup", "closed"), ("upgrade", "closed"), ("reapply", "closed"), ("sanity", "closed"),
                      ("fix", "closed"), ("handover", "closed")],
        "uat_tasks": [("backup", "closed"), ("upgrade", "pending")], "handover": [(None, "closed")]}, []),
    ("aurea-crm-cloud", "prod_scheduled_early"): ({
        "dev_change": [(None, "closed")], "uat_change": [(None, "implement")], "prod_change": [(None, "scheduled")],
        "uat_tasks": [("backup", "closed"), ("upgrade", "closed"), ("reapply", "closed"), ("transfer", "closed"),
                      ("sanity", "in_progress")], "prod_tasks": [("backup", "closed")]}, []),
    ("aurea-crm-cloud", "unknown_environment"): ({"tasks": BEFORE, "dev_change": [], "uat_change": [], "prod_change": []},
                                                 ["unknown-code:"]),
}


@pytest.fixture(scope="module")
def instance():
    """One sandbox instance with the ETIU demo and every upgrade pack's demo engagements."""
    store = Store()
    etiu_keys = demo.seed(store, TODAY)
    seeded = seed_packs(store, TODAY)
    return store, etiu_keys, seeded


def story(seeded, pack: str, name: str):
    return next(item for item in seeded[pack] if item.story == name)


@pytest.mark.parametrize("pack", UPGRADE_PACKS)
def test_each_pack_declares_its_roles_on_standard_tables_and_its_steps_dates_latches_and_report(pack):
    loaded = load(pack)

    assert {role: declared.table for role, declared in loaded.declarations.records.items()} == ROLES[pack]
    assert loaded.file.pack.name == pack and loaded.file.pack.match
    assert loaded.plan.order and loaded.moments.order and loaded.report.phases
    assert loaded.report.phases[0].name == "needs attention" and loaded.report.unreadable_phase == "needs attention"
    assert (REPO / "packs" / pack / "README.md").is_file()


@pytest.mark.parametrize("pack", UPGRADE_PACKS)
def test_every_date_the_report_draws_or_counts_down_to_is_declared(pack):
    loaded = load(pack)
    names = set(loaded.moments.dates.names)
    report = loaded.file.report
    drawn = [*report.timeline.span, *(m.date for m in report.timeline.markers),
             *(d.date for d in report.deadlines or ()), *(b.start for b in report.timeline.bands if b.start),
             *(b.end for b in report.timeline.bands if b.end)]

    assert sorted(set(drawn) - names) == []


def test_the_rollback_undoes_the_launch_steps_done_last_first_under_their_own_step_ids():
    rollback = load("vip-upgrade").plan.groups["rollback"]

    assert [(step.id, step.mirrors, step.owner) for step in rollback.steps] == [
        ("R4", "launch.L4", "upgrade_owner"), ("R3", "launch.L3", "upgrade_owner"), ("R2", "launch.L2", "upgrade_owner")]
    assert rollback.reverse and rollback.only_done


def test_each_environment_upgrade_waits_for_every_backup_and_the_gate_before_it():
    steps = load("aurea-crm-cloud").plan.steps

    assert set(steps["dev.upgrade"].after) == {"dev.backup", "uat.backup", "prod.backup"}
    assert set(steps["uat.upgrade"].after) == {"uat.backup", "dev.backup", "prod.backup", "dev.handover"}
    assert set(steps["prod.upgrade"].after) == {"prod.backup", "dev.backup", "uat.backup", "uat.sanity"}
    assert steps["uat.sanity"].after == ("uat.transfer",) and steps["prod.sanity"].after == ("prod.transfer",)


@pytest.mark.parametrize("pack", UPGRADE_PACKS)
def test_a_pack_finds_in_a_shared_instance_exactly_its_own_demo_engagements(instance, pack):
    store, etiu_keys, seeded = instance
    found = engagements(load(pack).declarations, store)

    assert sorted(found) == sorted(item.key for item in seeded[pack])
    assert not set(found) & set(etiu_keys)


def test_the_etiu_pack_finds_only_its_own_demo_engagements_beside_the_upgrade_packs(instance):
    store, etiu_keys, _ = instance

    assert sorted(engagements(declarations_of("etiu"), store)) == sorted(etiu_keys)


@pytest.mark.parametrize(("pack", "name"), sorted(STORIES))
def test_each_demo_engagement_has_the_intended_records_in_each_role_and_no_unintended_problem(instance, pack, name):
    store, _, seeded = instance
    item = story(seeded, pack, name)
    engagement = engagements(load(pack).declarations, store)[item.key]
    roles, problems = STORIES[(pack, name)]

    assert engagement.name == item.client
    for role, expected in roles.items():
        assert [(record.step, record.state) for record in engagement.each(role)] == expected, role
    assert len(engagement.problems) == len(problems)
    assert all(problem.key.startswith(prefix) for problem, prefix in zip(engagement.problems, problems))


def test_every_pack_with_demo_data_has_a_pack_folder_and_an_unknown_one_is_refused():
    assert PACKS == UPGRADE_PACKS

    with pytest.raises(ValueError, match="no demo data for the pack 'vip'; the packs with demo data are vip-upgrade, "):
        seed_packs(Store(), TODAY, packs=("vip",))


def test_seeding_one_pack_seeds_only_its_records():
    store = Store()
    seeded = seed_packs(store, TODAY, packs=("pisaas-monthly",))

    assert list(seeded) == ["pisaas-monthly"]
    assert store.query("sn_customerservice_task") == [] and len(store.query("change_request")) == 2
    assert engagements(load("vip-upgrade").declarations, store) == {}
