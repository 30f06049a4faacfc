"""Pack declarations for the tests of etiu_worker.engagement: today's ETIU shape, seed 003's
shared release change and seed 000's step-identified tasks, as pack.toml text."""

from __future__ import annotations

import tomllib

from etiu_worker.engagement.role_loading import load_roles
from etiu_worker.engagement.roles import Declarations

TICKET_STATES = """
states = { pending = "-5", open = "1", work_in_progress = "2", closed_complete = "3", closed_incomplete = "4", closed_skipped = "7" }
meaning = { pending = "pending", open = "open", work_in_progress = "open", closed_complete = "done", closed_incomplete = "done", closed_skipped = "skipped" }
fields = { title = { field = "short_description" }, work_start = { field = "work_start", type = "datetime" } }
writable = ["title"]
"""


def _ticket(role: str, code: str) -> str:
    return f"""
[records.{role}]
table = "u_etiu_ticket"
link = {{ field = "correlation_id" }}
identity = {{ field = "u_etiu_code", value = "{code}" }}
{TICKET_STATES}"""


ETIU_PACK = """
[engagement]
key = { role = "kickoff", field = "correlation_id" }
zone = { role = "change", field = "u_client_timezone" }
name = { role = "kickoff", field = "short_description", after_last = " - " }
""" + "".join(_ticket(role, code) for role, code in (
    ("kickoff", "ETIU01"), ("dev_upgrade", "ETIU02"), ("validation", "ETIU03"),
    ("best_practices", "ETIU04"), ("support_week", "SUPPORT_WEEK"),
)) + """
[records.change]
table = "change_request"
link = { field = "correlation_id" }
states = { new = "-5", assess = "-4", authorize = "-3", scheduled = "-2", implement = "-1", review = "0", closed = "3", canceled = "4" }
meaning = { new = "pending", assess = "pending", authorize = "pending", scheduled = "pending", implement = "open", review = "open", closed = "done", canceled = "canceled" }
fields = { planned_start = { field = "start_date", type = "datetime" }, planned_end = { field = "end_date", type = "datetime" } }
writable = ["planned_start", "planned_end"]

[records.planned_dates]
table = "change_task"
link = { ref = "change_request", of = "change" }
identity = { field = "short_description", contains = "provide the planned start date and end date" }
many = "latest"
states = { pending = "-5", open = "1", in_progress = "2", closed = "3", canceled = "4" }
meaning = { pending = "pending", open = "open", in_progress = "open", closed = "done", canceled = "canceled" }
"""

# Seed 003: one release change for all customers, per customer a case (the key) and a task.
RELEASE_PACK = """
[engagement]
key = { role = "case", field = "number" }
zone = { role = "case", field = "u_client_timezone", default = "Europe/London" }
name = { role = "case", field = "u_customer" }

[records.case]
table = "sn_customerservice_case"
states = { new = "1", open = "10", closed = "3" }
meaning = { new = "pending", open = "open", closed = "done" }
fields = { opt_out_at = { field = "u_opt_out_at", type = "datetime" }, next_cycle = { field = "u_next_cycle", type = "date" } }

[records.upgrade]
table = "change_task"
link = { ref = "u_customer_case", of = "case" }
states = { pending = "-5", open = "1", closed = "3", canceled = "4" }
meaning = { pending = "pending", open = "open", closed = "done", canceled = "canceled" }
fields = { slot_start = { field = "planned_start_date", type = "datetime" }, release = { field = "change_request", type = "reference" } }

[records.release]
table = "change_request"
link = { referenced_by = "change_request", of = "upgrade", shared = true }
states = { scheduled = "-2", implement = "-1", closed = "3" }
meaning = { scheduled = "pending", implement = "open", closed = "done" }
fields = { window_start = { field = "start_date", type = "datetime" } }
"""

# Seed 000: a change request and its tasks, each naming its step in u_step.
STEPS_PACK = """
[engagement]
key = { role = "change", field = "correlation_id" }
zone = { role = "change", field = "u_client_timezone" }

[records.change]
table = "change_request"
states = { scheduled = "-2", implement = "-1", closed = "3" }
meaning = { scheduled = "pending", implement = "open", closed = "done" }
fields = { launch = { field = "u_launch_local", type = "local_datetime" }, qa_days = { field = "u_qa_period_bd", type = "number" }, rollback = { field = "u_rollback_decided", type = "boolean" } }
writable = ["rollback"]

[records.tasks]
table = "change_task"
link = { ref = "change_request", of = "change" }
identity = { field = "u_step" }
many = "each"
states = { pending = "-5", open = "1", closed = "3", skipped = "7" }
meaning = { pending = "pending", open = "open", closed = "done", skipped = "skipped" }
fields = { assignee = { field = "assigned_to", type = "reference" } }
"""


def declarations(text: str) -> Declarations:
    return load_roles(tomllib.loads(text), "pack.toml")
