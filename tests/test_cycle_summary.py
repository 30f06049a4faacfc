"""The line a cycle prints first says how many engagements it found, and how many it evaluated
when incremental evaluation left some alone."""

from __future__ import annotations

from collections import Counter
from types import SimpleNamespace

from etiu_worker.cycle.planning import CyclePlan
from etiu_worker.report.text import print_cycle


def report(found: int, evaluated: int) -> SimpleNamespace:
    plan = CyclePlan([SimpleNamespace(key=f"ENG-{n}") for n in range(evaluated)], total=found)
    return SimpleNamespace(run_id="r1", dry_run=False, duration=0.25, plan=plan, outcomes=[], requests=Counter(),
                           failed=[])


def test_a_cycle_that_evaluated_some_engagements_says_how_many_of_all_it_found(capsys):
    print_cycle(report(found=34, evaluated=31))
    assert capsys.readouterr().out.startswith("run r1: 34 engagements (31 evaluated), 0 writes planned in 0.25s\n")


def test_a_cycle_that_evaluated_every_engagement_names_them_once(capsys):
    print_cycle(report(found=34, evaluated=34))
    assert capsys.readouterr().out.startswith("run r1: 34 engagements, 0 writes planned in 0.25s\n")


def with_packs(plan_report: SimpleNamespace, **packs: int) -> SimpleNamespace:
    keys = iter(engagement.key for engagement in plan_report.plan.engagements)
    plan_report.plan.packs = {name: tuple(next(keys) for _ in range(count)) for name, count in packs.items()}
    return plan_report


def test_several_packs_that_evaluated_every_engagement_say_what_each_took(capsys):
    print_cycle(with_packs(report(found=3, evaluated=3), etiu=2, golive=1))
    assert capsys.readouterr().out.startswith("packs: etiu 2 engagements, golive 1 engagement\nrun r1: 3 engagements,")


def test_several_packs_that_evaluated_some_engagements_say_each_packs_share_of_the_evaluated(capsys):
    print_cycle(with_packs(report(found=30, evaluated=3), etiu=2, golive=1))
    assert capsys.readouterr().out.startswith("packs, of the evaluated: etiu 2 engagements, golive 1 engagement\n"
                                              "run r1: 30 engagements (3 evaluated),")


def test_several_packs_that_evaluated_no_engagement_print_no_packs_line(capsys):
    print_cycle(with_packs(report(found=30, evaluated=0), etiu=0, golive=0))
    assert capsys.readouterr().out.startswith("run r1: 30 engagements (0 evaluated),")
