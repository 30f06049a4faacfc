"""The tables the sandbox knows: their fields, references, journal fields, states and numbers.

These declarations make the known tables behave like their real counterparts (unknown fields
ignored on write, references rendered as links, states given labels, updates audited). Any other
table exists once a record has been put in it through ``Store.insert`` (a custom table a test or
the demo installs), and is schemaless; the Table API answers 400 "Invalid table" for the rest.
"""

from __future__ import annotations

from dataclasses import dataclass, field

SYS_FIELDS = ("sys_id", "sys_created_on", "sys_created_by", "sys_updated_on", "sys_updated_by", "sys_mod_count")
SYS_DATE_TIMES = frozenset({"sys_created_on", "sys_updated_on"})
AUDIT_TABLE, PROPERTIES_TABLE = "sys_audit", "sys_properties"
JOURNAL_LABELS = {"work_notes": "Work notes", "comments": "Additional comments"}

TASK_STATES = {
    "-5": "Pending", "1": "Open", "2": "Work in Progress",
    "3": "Closed Complete", "4": "Closed Incomplete", "7": "Closed Skipped",
}
CHANGE_STATES = {
    "-5": "New", "-4": "Assess", "-3": "Authorize", "-2": "Scheduled",
    "-1": "Implement", "0": "Review", "3": "Closed", "4": "Canceled",
}
CHANGE_TASK_STATES = {"-5": "Pending", "1": "Open", "2": "In Progress", "3": "Closed", "4": "Canceled"}
# Customer Service Management's case (sn_customerservice_case).
CASE_STATES = {"1": "New", "10": "Open", "18": "Awaiting Info", "6": "Resolved", "3": "Closed", "7": "Cancelled"}


@dataclass(frozen=True)
class TableSpec:
    fields: tuple[str, ...]
    references: dict[str, str] = field(default_factory=dict)
    journals: frozenset[str] = frozenset()
    date_times: frozenset[str] = frozenset()
    states: dict[str, str] = field(default_factory=dict)
    defaults: dict[str, str] = field(default_factory=dict)
    number_prefix: str = ""
    number_start: int = 0
    display_field: str = "number"
    audited: bool = False  # updates leave one sys_audit row per changed field

    def declares(self, name: str) -> bool:
        return name in self.fields or name in SYS_FIELDS

    def is_date_time(self, name: str) -> bool:
        return name in self.date_times or name in SYS_DATE_TIMES


TABLES: dict[str, TableSpec] = {
    "u_etiu_ticket": TableSpec(
        fields=("number", "correlation_id", "u_etiu_code", "short_description", "state",
                "work_start", "work_end", "assigned_to", "work_notes", "comments"),
        references={"assigned_to": "sys_user"},
        journals=frozenset({"work_notes", "comments"}),
        date_times=frozenset({"work_start", "work_end"}),
        states=TASK_STATES,
        defaults={"state": "1"},
        number_prefix="ETIU", number_start=1001, audited=True,
    ),
    "change_request": TableSpec(
        # close_code, parent, opened_at, work_start/end and the u_ fields past u_client_timezone: what
        # the packs other than the ETIU one read (the service a change is for, its environment (a
        # case's change per environment), its upgrade owner, the agreed local start, the QA period).
        fields=("number", "correlation_id", "short_description", "start_date", "end_date", "state",
                "u_client_timezone", "work_notes", "comments", "assigned_to", "close_code", "parent",
                "u_upgrade_service", "u_environment", "u_upgrade_owner", "u_agreed_local", "u_qa_period_bd",
                "u_rollback_decided", "opened_at", "work_start", "work_end"),
        references={"assigned_to": "sys_user", "u_upgrade_owner": "sys_user", "parent": "sn_customerservice_case"},
        journals=frozenset({"work_notes", "comments"}),
        date_times=frozenset({"start_date", "end_date", "opened_at", "work_start", "work_end"}),
        states=CHANGE_STATES,
        defaults={"state": "-5"},
        number_prefix="CHG", number_start=30001, audited=True,
    ),
    "change_task": TableSpec(
        # u_step: the step a task stands for in a pack's checklist (a custom field, as packs declare).
        # u_customer_case: the customer's case a task of a shared change is for; approval: a
        # customer's sign-off of a hand-over task; close_code: successful or unsuccessful.
        fields=("number", "change_request", "short_description", "state", "u_step", "order", "assigned_to",
                "planned_start_date", "planned_end_date", "work_notes", "comments", "work_start", "work_end",
                "u_customer_case", "approval", "close_code"),
        references={"change_request": "change_request", "assigned_to": "sys_user",
                    "u_customer_case": "sn_customerservice_case"},
        journals=frozenset({"work_notes", "comments"}),
        date_times=frozenset({"planned_start_date", "planned_end_date", "work_start", "work_end"}),
        states=CHANGE_TASK_STATES,
        defaults={"state": "1"},
        number_prefix="CTASK", number_start=10001, audited=True,
    ),
    "sn_customerservice_case": TableSpec(
        # The u_ fields: an upgrade request's intake (versions, dates, access, customizations), the
        # client's zone, and a monthly upgrade's opt-out and next cycle.
        fields=("number", "short_description", "description", "state", "opened_at", "assigned_to",
                "work_notes", "comments", "u_customer", "u_upgrade_service", "u_client_timezone",
                "u_current_version", "u_earliest_start", "u_ideal_start", "u_deadline", "u_deadline_reason",
                "u_access_ack", "u_customizations", "u_opt_out_at", "u_next_cycle"),
        references={"assigned_to": "sys_user"},
        journals=frozenset({"work_notes", "comments"}),
        date_times=frozenset({"opened_at", "u_opt_out_at"}),
        states=CASE_STATES,
        defaults={"state": "1"},
        number_prefix="CS", number_start=1001, audited=True,
    ),
    "sn_customerservice_task": TableSpec(
        # A case task: one activity of an upgrade request, named by its step (u_step).
        fields=("number", "parent", "short_description", "state", "u_step", "assigned_to",
                "work_start", "work_end", "work_notes", "comments"),
        references={"parent": "sn_customerservice_case", "assigned_to": "sys_user"},
        journals=frozenset({"work_notes", "comments"}),
        date_times=frozenset({"work_start", "work_end"}),
        states=TASK_STATES,
        defaults={"state": "-5"},
        number_prefix="CSTASK", number_start=1001, audited=True,
    ),
    "sys_journal_field": TableSpec(
        fields=("element", "element_id", "name", "value", "sys_created_on", "sys_created_by"),
        display_field="value",
    ),
    "sys_user": TableSpec(fields=("user_name", "name", "time_zone"), display_field="name"),
    AUDIT_TABLE: TableSpec(
        fields=("tablename", "documentkey", "fieldname", "oldvalue", "newvalue", "user", "reason",
                "record_checkpoint"),
        display_field="fieldname",
    ),
    PROPERTIES_TABLE: TableSpec(fields=("name", "value", "description"), display_field="name"),
}


def spec(table: str) -> TableSpec | None:
    """The declaration of a known table, or None for a schemaless one."""
    return TABLES.get(table)
