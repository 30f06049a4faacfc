"""N engagements in a mix of phases, built from the demo's own specs (``etiu_worker.sandbox.demo``).

Engagement ``i`` takes the story of demo spec ``i mod 14`` (kickoff, dev upgrade, validation,
validation overdue, scheduled and verified, window typed as UTC, window lost, roadmap drift,
support week, support week ended, ..., duplicate codes, BP outside the support week, change
cancelled) under its own key. Each has five tickets, one Master Change Request and one CTASK:

* phases before scheduling get their Support Week ticket in Pending from the start (the demo
  creates it at scheduling), so that every engagement has five tickets (the duplicate-codes story
  keeps its two ETIU02 and has no Support Week ticket: five as well);
* the CTASK is the planned-dates CTASK once the window is set, else the post-upgrade health check;
* the records were last updated by their consultant at some time in the three days before the demo's
  "yesterday 06:00 UTC" (engagement by engagement, spread evenly), not all in the same second: a
  real instance's stamps are spread, and the worker's delta sync re-reads every row updated within
  ``state.watermark_overlap_seconds`` of the newest one.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta

from etiu_worker.sandbox import Store, demo

TICKETS, CHANGES, CTASKS = "u_etiu_ticket", "change_request", "change_task"
TABLES = (TICKETS, CHANGES, CTASKS)
CODES = ("ETIU01", "ETIU02", "ETIU03", "ETIU04", "SUPPORT_WEEK")
# Stories whose roadmap every ticket agrees on and that nothing else keeps busy: a person's edit of
# a date is then carried to the siblings, and nothing else.
EDITABLE = ("kickoff", "dev_upgrade", "validation", "scheduled_verified", "support_week")
SPREAD = timedelta(days=3)
SPREAD_STEP = 7919  # seconds between two engagements' last updates, modulo SPREAD (a prime: no pattern)
_BP = re.compile(r"BP: (\d{4}-\d{2}-\d{2})")


def specs(count: int) -> list[demo.Engagement]:
    stories = demo.ENGAGEMENTS
    out = []
    for index in range(count):
        story = stories[index % len(stories)]
        tickets = story.tickets
        codes = [code for code, _ in tickets]
        if len(tickets) < 5 and "SUPPORT_WEEK" not in codes:
            tickets = tickets + (("SUPPORT_WEEK", demo.PENDING),)
        out.append(replace(story, key=f"ENG-{index + 1:05d}", tickets=tickets))
    return out


def seed(store: Store, count: int, today: date) -> list[demo.Engagement]:
    """Create the demo users and ``count`` engagements; returns their specs."""
    engagements = specs(count)
    with store.bulk():
        users = {name: store.insert("sys_user", {"user_name": name, "name": full, "time_zone": zone})["sys_id"]
                 for name, full, zone in demo.USERS}
        for index, engagement in enumerate(engagements):
            earlier = timedelta(seconds=(index * SPREAD_STEP) % SPREAD.total_seconds())
            _seed_engagement(store, engagement, today, users[engagement.consultant], earlier)
    return engagements


def _seed_engagement(store: Store, engagement: demo.Engagement, today: date, consultant: str,
                     earlier: timedelta) -> None:
    plan = demo.roadmap(engagement, today)
    created = demo._at(plan.kickoff - timedelta(days=7), 5)
    yesterday = datetime.combine(demo.business_days(today, -1), time(6), UTC)
    touched = demo.dates.stamp(yesterday - earlier)  # after created: kickoff is at most today
    common = {"correlation_id": engagement.key, "assigned_to": consultant, "sys_created_on": created,
              "sys_updated_on": touched, "sys_created_by": engagement.consultant,
              "sys_updated_by": engagement.consultant}
    change = demo._seed_change(store, engagement, plan, common)
    task = {key: value for key, value in common.items() if key not in ("correlation_id", "assigned_to")}
    if engagement.window != "none":  # the planned-dates CTASK appears once the upgrade is being scheduled
        store.insert(CTASKS, {**task, "change_request": change, "state": demo.CTASK_CLOSED,
                              "short_description": demo.PLANNED_DATES_CTASK})
    else:
        store.insert(CTASKS, {**task, "change_request": change, "state": demo.CTASK_PENDING,
                              "short_description": "Post-upgrade health check"})
    for code, state in engagement.tickets:
        ticket = store.insert(TICKETS, {**common, **demo._ticket(engagement, plan, code, state, today)},
                              user=engagement.consultant)
        if code == engagement.drift:  # the hand edit's history, as the demo seeds it
            demo._seed_drift_history(store, engagement, plan, ticket)


def rows(store: Store) -> dict[str, int]:
    """How many records of each table the worker reads (its scopes)."""
    return {
        TICKETS: len(store.select(TICKETS, "correlation_idISNOTEMPTY")),
        CHANGES: len(store.select(CHANGES, "correlation_idISNOTEMPTY")),
        CTASKS: len(store.select(CTASKS, "change_request.correlation_idISNOTEMPTY")),
    }


def edit_bp_dates(store: Store, engagements: list[demo.Engagement], share: float = 0.01) -> list[str]:
    """A person moves the BP date one business day later on one ticket (ETIU01) of ``share`` of
    the engagements, through the UI (``store.update``: sys_updated_on moves). Returns their keys."""
    eligible = [engagement.key for engagement in engagements if engagement.phase in EDITABLE]
    wanted = max(1, round(len(engagements) * share))
    step = max(1, len(eligible) // wanted)
    keys = eligible[::step][:wanted]
    for key in keys:
        [ticket] = store.query(TICKETS, f"correlation_id={key}^u_etiu_code=ETIU01")
        old = _BP.search(ticket["short_description"])
        assert old, ticket["short_description"]
        new = demo.business_days(date.fromisoformat(old.group(1)), 1)
        text = _BP.sub(f"BP: {new}", ticket["short_description"], count=1)
        store.update(TICKETS, ticket["sys_id"], {"short_description": text})
    return keys
