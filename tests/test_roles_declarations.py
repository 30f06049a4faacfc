"""A pack's role declarations: each mistake is refused at load time with one message that says
where in pack.toml it is and how to fix it."""

from __future__ import annotations

import tomllib

import pytest

from etiu_worker.engagement.grouping import tables_to_read
from etiu_worker.engagement.role_loading import load_roles
from etiu_worker.errors import RulesError
from roles_helpers import ETIU_PACK, RELEASE_PACK, STEPS_PACK, declarations

BASE = """
[engagement]
key = { role = "change", field = "correlation_id" }

[records.change]
table = "change_request"
states = { open = "1", closed = "3" }
meaning = { open = "open", closed = "done" }
fields = { planned_start = { field = "start_date", type = "datetime" } }
writable = ["planned_start"]

[records.task]
table = "change_task"
link = { ref = "change_request", of = "change" }
identity = { field = "short_description", contains = "planned dates" }
"""

BAD = {
    "a misspelt link target": (
        ("task", "link", '{ ref = "change_request", of = "chnage" }'),
        "pack.toml: records.task.link.of: 'chnage' is not a role (did you mean 'change'?); the roles are change, task",
    ),
    "a misspelt key role": (
        ("engagement", "key", '{ role = "chang", field = "correlation_id" }'),
        "pack.toml: engagement.key.role: 'chang' is not a role (did you mean 'change'?); the roles are change, task",
    ),
    "a link to itself": (
        ("task", "link", '{ ref = "parent", of = "task" }'),
        "pack.toml: records.task.link.of: task cannot link to itself: name the role on the other end of the reference",
    ),
    "a key role that links by reference": (
        ("change", "link", '{ ref = "u_task", of = "task" }'),
        "pack.toml: records.change.link: change is the key role (engagement.key), so it joins by its key field: "
        "link = { field = 'correlation_id' }, or leave link out",
    ),
    "a link cycle": (
        ("task", "link", '{ ref = "u_other", of = "other" }\n[records.other]\ntable = "problem"\n'
                         'link = { ref = "u_task", of = "task" }'),
        "pack.toml: records.task.link: the links go round in a circle (task -> other -> task): "
        "one of these roles must join by the key field",
    ),
    "a writable alias that is not a field": (
        ("change", "writable", '["planned_strat"]'),
        "pack.toml: records.change.writable: 'planned_strat' is not one of this role's fields "
        "(did you mean 'planned_start'?): declare it under fields first",
    ),
    "a meaning that is not one of the five": (
        ("change", "meaning", '{ open = "opened", closed = "done" }'),
        "pack.toml: records.change.meaning.open: 'opened' is not allowed here; "
        "use 'pending', 'open', 'done', 'skipped' or 'canceled'",
    ),
    "a state without a meaning": (
        ("change", "meaning", '{ open = "open" }'),
        "pack.toml: records.change.meaning: the state 'closed' has no meaning: "
        "give it one of pending, open, done, skipped, canceled",
    ),
    "a meaning for a misspelt state": (
        ("change", "meaning", '{ open = "open", closed = "done", clossed = "done" }'),
        "pack.toml: records.change.meaning.clossed: 'clossed' is not a state of this role (did you mean 'closed'?)",
    ),
    "a state value used twice": (
        ("change", "states", '{ open = "1", closed = "1" }'),
        "pack.toml: records.change.states.closed: value '1' is already the state 'open': "
        "each stored value names one state",
    ),
    "two roles on one table with nothing to tell them apart": (
        ("task", "identity", '{ field = "u_step" }\n[records.other]\ntable = "change_task"\n'
                             'link = { ref = "change_request", of = "change" }\nidentity = { field = "u_phase" }'),
        "pack.toml: records.other: shares table change_task with records.task and nothing tells their records "
        "apart: give each an identity, such as { field = \"u_code\", value = \"A1\" }",
    ),
    "a misspelt identity key": (
        ("task", "identity", '{ field = "u_code", vaule = "A1" }'),
        "pack.toml: records.task.identity.vaule: is not a known key (did you mean 'value'?); "
        "the keys here are contains, field, value",
    ),
    "an empty code": (
        ("task", "identity", '{ field = "u_code", value = " " }'),
        "pack.toml: records.task.identity.value: is empty: give the code every record of this role has in its field",
    ),
    "an empty text to match": (
        ("task", "identity", '{ field = "short_description", contains = "" }'),
        "pack.toml: records.task.identity.contains: is empty: give the words every record of this role has in its field",
    ),
    "a code and a text at once": (
        ("task", "identity", '{ field = "u_code", value = "A1", contains = "a1" }'),
        "pack.toml: records.task.identity: give value (a code) or contains (a text to match), not both",
    ),
    "a field of an unknown type": (
        ("change", "fields", '{ planned_start = { field = "start_date", type = "timestamp" } }'),
        "pack.toml: records.change.fields.planned_start.type: 'timestamp' is not allowed here; use 'date', "
        "'datetime', 'local_datetime', 'reference', 'text', 'number' or 'boolean'",
    ),
    "an alias that hides what every record has": (
        ("change", "fields", '{ state = { field = "u_state" } }'),
        "pack.toml: records.change.fields.state: 'state' is a name every record has already: choose another alias",
    ),
    "a link with two kinds": (
        ("task", "link", '{ field = "correlation_id", ref = "change_request", of = "change" }'),
        "pack.toml: records.task.link: give exactly one of field (the record carries the engagement key), ref (it "
        "points at another role's record) or referenced_by (another role's record points at it)",
    ),
    "a shared record found by its own field": (
        ("task", "link", '{ ref = "change_request", of = "change", shared = true }'),
        "pack.toml: records.task.link: shared = true needs referenced_by: a shared record is found from the "
        "records that point at it",
    ),
    "a reference without its other end": (
        ("task", "link", '{ ref = "change_request" }'),
        "pack.toml: records.task.link: ref needs of, the role whose record is on the other end of the reference",
    ),
    "a role with no link": (
        ("task", "link", None),
        "pack.toml: records.task.link: missing: say how a record joins the engagement: { field = \"...\" } (it "
        "carries the key), { ref = \"...\", of = \"role\" } or { referenced_by = \"...\", of = \"role\" }",
    ),
    "an unknown cardinality": (
        ("task", "many", '"newest"'),
        "pack.toml: records.task.many: 'newest' is not allowed here; use 'one', 'latest' or 'each'",
    ),
    "a zone default that is no zone": (
        ("engagement", "zone", '{ default = "Europe/Londn" }'),
        "pack.toml: engagement.zone.default: 'Europe/Londn' is not an IANA time zone such as Europe/London",
    ),
    "a misspelt role key": (
        ("task", "tabel", '"change_task"'),
        "pack.toml: records.task.tabel: is not a known key (did you mean 'table'?); the keys here are fields, "
        "identity, link, many, meaning, noun, state_field, states, table, writable",
    ),
}


def _edit(section: str, key: str, value: str | None) -> str:
    """BASE with one key of one table replaced (or removed, for None)."""
    header = "[engagement]" if section == "engagement" else f"[records.{section}]"
    lines = BASE.splitlines()
    start = lines.index(header)
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("[")), len(lines))
    body = [line for line in lines[start + 1:end] if not line.startswith(f"{key} =")]
    if value is not None:
        body.append(f"{key} = {value}")
    return "\n".join(lines[:start + 1] + body + lines[end:])


@pytest.mark.parametrize(("edit", "message"), BAD.values(), ids=BAD.keys())
def test_a_bad_declaration_is_refused_with_where_and_how(edit, message):
    with pytest.raises(RulesError) as refused:
        load_roles(tomllib.loads(_edit(*edit)), "pack.toml")
    assert str(refused.value) == message


def test_the_base_of_the_bad_declarations_loads():
    assert list(load_roles(tomllib.loads(BASE)).records) == ["change", "task"]


def test_the_shipped_shapes_all_load():
    assert [len(declarations(text).records) for text in (ETIU_PACK, RELEASE_PACK, STEPS_PACK)] == [7, 3, 2]


def test_a_state_value_written_as_a_number_is_the_text_servicenow_stores():
    text = BASE.replace('states = { open = "1", closed = "3" }', "states = { open = 1, closed = 3 }")
    assert load_roles(tomllib.loads(text)).records["change"].states == {"open": "1", "closed": "3"}


def test_the_tables_to_read_are_those_the_roles_name_with_the_fields_they_need():
    # Without the alias, the task's change_request is still read: the release is found through it.
    pack = RELEASE_PACK.replace(', release = { field = "change_request", type = "reference" }', "")
    assert tables_to_read(declarations(pack)) == {
        "change_request": ("number", "start_date", "state", "sys_id", "sys_updated_on"),
        "change_task": ("change_request", "number", "planned_start_date", "state", "sys_id", "sys_updated_on",
                        "u_customer_case"),
        "sn_customerservice_case": ("number", "state", "sys_id", "sys_updated_on", "u_client_timezone",
                                    "u_customer", "u_next_cycle", "u_opt_out_at"),
    }
