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
