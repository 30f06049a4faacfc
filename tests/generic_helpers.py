"""A small pack in the shape of seed 000 (a change request, its tasks identified by a step field,
rollback tasks on their own table), written to a folder and parsed as the worker parses a pack,
for the tests of the generic actions (create, each: targets). Engagements are built from raw
records with the generic grouping, and one action is planned on them as the engine plans it:
no HTTP, no clock."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from etiu_worker.actions import KINDS, Plan
from etiu_worker.engagement.engagements import Engagement
from etiu_worker.engagement.grouping import build_engagements
from etiu_worker.playbook.pack_folders import pack_folder
from etiu_worker.playbook.rules import Playbook, parse_pack

CHANGE = "c" * 32
OWNER = "0" * 31 + "9"

PACK = """
[pack]
name = "vip"
title = "VIP upgrade"
description = "A launch checklist with a rollback."

[calendar]
weekend = ["saturday", "sunday"]

[engagement]
key = { role = "change", field = "correlation_id" }
zone = { role = "change", field = "u_client_timezone" }

[records.change]
table = "change_request"
states = { scheduled = "-2", implement = "-1", closed = "3" }
meaning = { scheduled = "pending", implement = "open", closed = "done" }
fields = { owner = { field = "u_upgrade_owner", type = "reference" }, note = { field = "u_note" } }
writable = ["note"]

[records.tasks]
table = "change_task"
link = { ref = "change_request", of = "change" }
identity = { field = "u_step" }
many = "each"
states = { pending = "-5", open = "1", closed = "3", skipped = "7" }
meaning = { pending = "pending", open = "open", closed = "done", skipped = "skipped" }
fields = { assignee = { field = "assigned_to", type = "reference" }, title = { field = "short_description" }, step_id = { field = "u_step" }, parent = { field = "change_request" }, work_start = { field = "work_start", type = "datetime" } }
writable = ["assignee", "title"]

[records.rollback]
table = "u_rollback_task"
link = { ref = "u_change", of = "change" }
identity = { field = "u_step" }
many = "each"
states = { pending = "-5", open = "1", closed = "3" }
meaning = { pending = "pending", open = "open", closed = "done" }
fields = { title = { field = "short_description" } }
writable = ["title"]

[records.review]
table = "u_review"
link = { field = "u_engagement" }
identity = { field = "u_kind", value = "REVIEW" }
states = { open = "1", closed = "3" }
meaning = { open = "open", closed = "done" }
fields = { title = { field = "short_description" }, kind = { field = "u_kind" }, release = { field = "u_release", type = "reference" } }
writable = ["title"]

[records.handover]
table = "change_task"
link = { ref = "change_request", of = "change" }
identity = { field = "short_description", contains = "hand-over" }
states = { open = "1", closed = "3" }
meaning = { open = "open", closed = "done" }
fields = { title = { field = "short_description" } }

[records.release]
table = "u_release"
link = { referenced_by = "u_release", of = "review", shared = true }

[steps.prelaunch]
role = "tasks"
items = [
  { id = "P1", title = "Customer QA passed", optional = true },
  { id = "P2", title = "Upgrade report provided" },
  { id = "P3", title = "Upgrade owner determined" },
  { id = "P4", title = "Launch date and time agreed" },
]

[steps.launch]
role = "tasks"
ordered = true
after = ["prelaunch.P2", "prelaunch.P3", "prelaunch.P4"]
items = [
  { id = "L1", title = "Customer confirms ready" },
  { id = "L2", title = "Merge pre-update pull requests", optional = true },
  { id = "L3", title = "Initiate the upgrade from the dashboard" },
  { id = "L4", title = "Merge post-update pull requests", optional = true },
]

[steps.rollback]
role = "rollback"
mirror = { of = "launch", items = ["L2", "L3", "L4"], reverse = true, only = "done" }
title = "Revert: {{ step.title }}"
"""


def pack_with(tmp_path: Path, actions: str, templates: dict[str, str] | None = None) -> Playbook:
    """The pack with one rule holding ``actions`` (TOML ``[[rule.actions]]`` tables), parsed."""
    root = tmp_path / "vip"
    (root / "rules").mkdir(parents=True, exist_ok=True)
    (root / "templates").mkdir(exist_ok=True)
    (root / "pack.toml").write_text(PACK, encoding="utf-8")
    rule = f'[rule]\nname = "act"\ndescription = "The action under test."\n{actions}'
    (root / "rules" / "10_act.toml").write_text(rule, encoding="utf-8")
    for name, text in {"created.j2": "Created {{ target }}{{ ' ' ~ step.id if step else '' }}.",
                       "note.j2": "About {{ record.number }} ({{ record.step }}).", **(templates or {})}.items():
        (root / "templates" / name).write_text(text, encoding="utf-8")
    return parse_pack(pack_folder(root), KINDS)


def change(**values: str) -> dict[str, str]:
    return {"sys_id": CHANGE, "number": "CHG0030001", "correlation_id": "ENG-1", "state": "-2",
            "u_client_timezone": "Europe/London", "u_upgrade_owner": OWNER,
            "sys_updated_on": "2026-11-13 14:00:00", **values}


def task(step: str, state: str = "-5", *, number: int = 0, **values: str) -> dict[str, str]:
    number = number or 100 + len(step) * 10 + int(step[1:] or 0)
    return {"sys_id": f"{number:032x}", "number": f"CTASK{number:07d}", "change_request": CHANGE, "u_step": step,
            "state": state, "short_description": step, "sys_updated_on": "2026-11-13 14:00:00", **values}


def engagement(playbook: Playbook, *, changes=None, tasks=(), rollback=(), reviews=()) -> Engagement:
    raw = {"change_request": [change()] if changes is None else changes, "change_task": list(tasks),
           "u_rollback_task": list(rollback), "u_review": list(reviews)}
    [built] = build_engagements(playbook.declarations, raw, "UTC")
    return built


def plan_action(playbook: Playbook, built: Engagement, *, created_earlier=None, posted=None,
                context: dict[str, Any] | None = None) -> Plan:
    """Every action of the pack's one rule planned on ``built``, as the engine plans a matched rule."""
    already: Callable[[str, str], bool] = posted or (lambda sys_id, ref: False)
    plan = Plan(built, playbook, already, created_earlier=created_earlier or {})
    [rule] = playbook.rules
    scope = {"change": built.one("change"), "engagement": built, **(context or {})}
    for action in rule.actions:
        KINDS[action.kind].plan(plan, rule, action, scope)
    return plan


def created_records(plan: Plan, numbered_from: int = 500) -> list[dict[str, str]]:
    """The records ``plan``'s creates would make, as the instance would store them."""
    return [{"sys_id": f"{numbered_from + index:032x}", "number": f"CTASK{numbered_from + index:07d}",
             "sys_updated_on": "2026-11-13 15:00:00", **write.fields}
            for index, write in enumerate(w for w in plan.writes if w.is_create)]
