"""A step's clock: where it starts, when it warns, when it is overdue, pausing, projected finish."""

from __future__ import annotations

import tomllib
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from etiu_worker.playbook.durations import TimeFrame
from etiu_worker.playbook.step_states import StepFacts, StepRecord
from etiu_worker.playbook.projections import PRECISION, next_class_change
from etiu_worker.playbook.step_status import derive_steps, projected_finishes
from etiu_worker.playbook.steps import load_steps
from etiu_worker.engagement.workdays import BusinessCalendar

NEW_YORK = ZoneInfo("America/New_York")
FRAME = TimeFrame(BusinessCalendar(holidays={date(2026, 11, 26), date(2026, 11, 27)}), NEW_YORK)
NO_HOLIDAYS = TimeFrame(BusinessCalendar(), NEW_YORK)


def local(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=NEW_YORK)


def plan(text: str):
    return load_steps(tomllib.loads(text)["steps"])


# ETIU: client validation is a step of 2 business days from ETIU03's work start.
VALIDATION = plan('''
[steps.validation]
role = "etiu03"
duration = "2bd"
start_from = "etiu03.work_start"
''')
WORK_START = local(11, 25, 15)  # the Wednesday before Thanksgiving


def validation_at(now: datetime, meaning: str = "open"):
    facts = {"validation": StepFacts(StepRecord(meaning), start=WORK_START)}
    return derive_steps(VALIDATION, facts, FRAME, now).validation


@pytest.mark.parametrize(("now", "business_days", "overdue"), [
    (local(11, 27, 15), 0.375, False),         # Wednesday's last 9 hours; Thanksgiving and Friday count nothing
    (local(11, 30, 15), 1.0, False),
    (local(12, 1, 15), 2.0, False),            # exactly 2.0 business days is not over
    (local(12, 1, 15, 1), 2.0 + 1 / 1440, True),
])
def test_validation_is_overdue_once_over_two_business_days_with_thanksgiving_not_counted(now, business_days, overdue):
    validation = validation_at(now)

    assert validation.due == local(12, 1, 15)
    assert validation.share == pytest.approx(business_days / 2)
    assert validation.overdue is overdue


def test_an_overdue_step_says_since_when_in_the_engagements_zone():
    assert validation_at(local(12, 2, 9)).why == "overdue: due 2026-12-01 15:00 EST"


def test_a_done_step_is_never_overdue_and_keeps_the_share_it_used():
    validation = derive_steps(VALIDATION, {"validation": StepFacts(StepRecord("done", done_at=local(11, 30, 15)),
                                                                   start=WORK_START)}, FRAME, local(12, 9, 9)).validation

    assert validation.done and not validation.overdue
    assert validation.share == pytest.approx(0.5)  # one business day of two
    assert validation.projected_finish == local(11, 30, 15)


def test_a_step_whose_start_is_not_known_yet_has_no_due_time():
    validation = derive_steps(VALIDATION, {}, FRAME, local(12, 1, 15)).validation

    assert validation.due is None and not validation.overdue and validation.share is None
    assert validation.state == "missing" and validation.why == "ready"


# Seed 002: the consultant responds within 1 business day of the request, warned at 75%.
RESPONSE = plan('''
[steps.respond]
role = "case_task"
title = "Respond to the request"
owner = "consultant"
duration = "1bd"
start_from = "case.opened_at"
warn_at = 0.75
paused_when = "case.u_waiting_on == 'customer'"
''')
OPENED = local(11, 23, 9)  # Monday 09:00


def response_at(now: datetime, paused: bool = False):
    facts = {"respond": StepFacts(StepRecord("open", started_at=OPENED), start=OPENED, paused=paused)}
    return derive_steps(RESPONSE, facts, FRAME, now).respond


@pytest.mark.parametrize(("now", "warn", "overdue"), [
    (local(11, 23, 23), False, False),       # 14 of 24 hours
    (local(11, 24, 3), True, False),         # 18 hours: 75%
    (local(11, 24, 9, 1), True, True),
])
def test_the_response_warns_at_three_quarters_of_its_business_day(now, warn, overdue):
    response = response_at(now)

    assert (response.warn, response.overdue) == (warn, overdue)


def test_a_warned_step_says_how_much_of_its_duration_is_used():
    assert response_at(local(11, 24, 3)).why == "in progress, 75% of 1bd used: due 2026-11-24 09:00 EST"


def test_a_paused_step_is_neither_warned_nor_overdue_and_resumes_without_remembering_the_pause():
    paused = response_at(local(11, 24, 10), paused=True)
    resumed = response_at(local(11, 24, 10), paused=False)

    assert paused.paused and not paused.warn and not paused.overdue
    assert paused.why == "in progress, paused"
    assert resumed.overdue  # the time spent paused counted: the engine keeps no history of pauses


def test_a_paused_steps_projected_finish_is_now_plus_what_is_left_of_its_duration():
    paused = response_at(local(11, 23, 15), paused=True)  # a quarter of the day used

    assert paused.projected_finish == local(11, 24, 9)
    assert response_at(local(11, 24, 15), paused=True).projected_finish == local(11, 24, 15)


# Seed 002's execution: steps after one another, each from when the one before finished.
DELIVERY = plan('''
[steps.delivery]
role = "case_task"
ordered = true
items = [
  {id = "backup", title = "Back up the configuration files", duration = "1bd"},
  {id = "upgrade", title = "Upgrade dev or staging", duration = "5bd"},
  {id = "playbook", title = "Create the playbook", duration = "2bd"},
]
''')
BACKUP_DONE = StepFacts(StepRecord("done", started_at=local(11, 16, 9), done_at=local(11, 17, 9)))
DEADLINE = local(11, 27, 17)


def test_the_projected_finish_adds_the_durations_left_and_thanksgiving_pushes_it_past_the_deadline():
    steps = derive_steps(DELIVERY, {"delivery.backup": BACKUP_DONE}, FRAME, local(11, 18, 9))
    without_holidays = derive_steps(DELIVERY, {"delivery.backup": BACKUP_DONE}, NO_HOLIDAYS, local(11, 18, 9))

    assert steps.delivery.items.upgrade.due == local(11, 24, 9)
    assert steps.projected_finish == local(11, 30, 9)
    assert steps.projected_finish > DEADLINE
    assert without_holidays.projected_finish == local(11, 26, 9) < DEADLINE


def test_an_overdue_step_is_projected_to_finish_now_and_the_rest_after_it():
    steps = derive_steps(DELIVERY, {"delivery.backup": BACKUP_DONE}, FRAME, local(11, 25, 12))

    assert steps.delivery.items.upgrade.overdue
    assert steps.delivery.items.upgrade.projected_finish == local(11, 25, 12)
    assert steps.delivery.projected_finish == local(12, 1, 12)


def test_when_every_step_is_done_the_projected_finish_is_the_last_done_time():
    done = {f"delivery.{id_}": StepFacts(StepRecord("done", done_at=local(11, day, 9)))
            for id_, day in (("backup", 17), ("upgrade", 20), ("playbook", 24))}

    steps = derive_steps(DELIVERY, done, FRAME, local(12, 1, 9))

    assert steps.done and steps.delivery.done and steps.delivery.why == "done"
    assert steps.projected_finish == local(11, 24, 9)
    assert steps.next == ()


def test_a_step_with_start_from_started_counts_from_when_its_record_went_in_progress():
    started = plan('''
[steps.review]
duration = "48h"
start_from = "started"
''')
    facts = {"review": StepFacts(StepRecord("open", started_at=local(11, 25, 15)))}

    review = derive_steps(started, facts, FRAME, local(11, 26, 15)).review

    assert review.due == local(11, 27, 15)  # hours are elapsed time: the holiday counts
    assert review.share == pytest.approx(0.5) and review.started


def test_a_business_day_across_the_fall_back_change_ends_at_the_same_wall_clock_time():
    friday = local(10, 30, 9)  # EDT; clocks fall back on Sunday, November 1
    facts = {"validation": StepFacts(StepRecord("open"), start=friday)}

    validation = derive_steps(load_steps({"validation": {"duration": "1bd", "start_from": "task.work_start"}}),
                              facts, FRAME, local(11, 2, 9, 1)).validation

    assert validation.due == local(11, 2, 9)
    assert validation.due.utcoffset().total_seconds() == -5 * 3600
    assert validation.overdue


@pytest.mark.parametrize("now", [local(11, 18, 9), local(11, 24, 8, 59), local(11, 25, 12), local(12, 2, 9)])
@pytest.mark.parametrize("paused", [False, True])
def test_the_projected_finishes_alone_are_those_the_whole_derivation_gives(now, paused):
    facts = {"delivery.backup": BACKUP_DONE, "delivery.upgrade": StepFacts(StepRecord("open"), paused=paused)}
    steps = derive_steps(DELIVERY, facts, FRAME, now)

    assert projected_finishes(DELIVERY, facts, FRAME, now) == [s.projected_finish for s in steps.delivery.items.values()]


@pytest.mark.parametrize(("instants", "changes"), [
    ([local(11, 24, 9), local(12, 1, 0)], local(11, 24, 9)),  # the upgrade's projected finish passes its due time
    ([local(12, 1, 0)], local(11, 25, 0)),  # then days: the upgrade's, the playbook's two business days after it
])
def test_a_wake_up_comes_just_before_a_projected_finish_changes_day_or_passes_an_instant(instants, changes):
    facts = {"delivery.backup": BACKUP_DONE}
    at = local(11, 18, 9)
    wake = next_class_change(DELIVERY, facts, FRAME, derive_steps(DELIVERY, facts, FRAME, at), instants, at)

    assert changes - PRECISION <= wake <= changes
