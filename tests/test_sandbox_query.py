"""Encoded queries (sysparm_query) filter and order like ServiceNow's, asked over real HTTP."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
import requests

from etiu_worker.sandbox import Sandbox

TICKETS = [  # number, code, state, short description, work_start, sys_mod_count
    ("ETIU0001001", "ETIU01", "3", "Kickoff - Acme Corp", "2026-11-02 14:00:00", "2"),
    ("ETIU0001002", "ETIU02", "2", "Dev upgrade - Acme Corp", "2026-11-05 09:30:00", "10"),
    ("ETIU0001003", "ETIU03", "-5", "Validation - Globex", "", "9"),
    ("ETIU0001004", "ETIU04", "1", "BP session - Globex", "2026-11-20 23:59:59", "0"),
    ("ETIU0001005", "SUPPORT_WEEK", "7", "Support week - Initech", "2026-11-21 00:00:00", "1"),
]


@contextmanager
def ticket_sandbox(timezone: str) -> Iterator[Sandbox]:
    """A sandbox holding TICKETS, whose API user works in ``timezone``."""
    with Sandbox(timezone=timezone).start() as sandbox:
        for number, code, state, text, start, mods in TICKETS:
            sandbox.store.insert("u_etiu_ticket", {
                "number": number, "u_etiu_code": code, "state": state, "short_description": text,
                "work_start": start, "sys_mod_count": mods, "correlation_id": text.split(" - ")[1],
            })
        yield sandbox


@pytest.fixture(scope="module")
def sb():
    with ticket_sandbox("America/New_York") as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def utc_sb():
    """The same tickets for a UTC user, whose plain date-time operands are UTC like the stored values."""
    with ticket_sandbox("UTC") as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def http(sb):
    with requests.Session() as session:
        session.auth = (sb.user, sb.password)
        yield session


def selector(sb: Sandbox, http: requests.Session) -> Callable[..., list[str]]:
    """The numbers of the tickets an encoded query selects, in the order the instance returns them."""
    def select(query: str, table: str = "u_etiu_ticket") -> list[str]:
        response = http.get(f"{sb.url}/api/now/table/{table}", params={"sysparm_query": query})
        assert response.status_code == 200, response.text
        return [record["number"] for record in response.json()["result"]]

    return select


@pytest.fixture
def numbers(sb, http):
    return selector(sb, http)


@pytest.fixture
def utc_numbers(utc_sb, http):
    return selector(utc_sb, http)


def ids(*suffixes: int) -> list[str]:
    return [f"ETIU000100{suffix}" for suffix in suffixes]


def test_no_query_returns_every_record_oldest_first(numbers):
    assert numbers("") == ids(1, 2, 3, 4, 5)


def test_equals_ignores_case_for_text(numbers):
    assert numbers("correlation_id=acme corp") == ids(1, 2)


def test_equals_compares_integers_numerically(numbers):
    assert numbers("state=-5") == ids(3)
    assert numbers("sys_mod_count=010") == ids(2)


def test_not_equals_never_matches_an_empty_value(utc_numbers):
    numbers = utc_numbers
    assert numbers("state!=3") == ids(2, 3, 4, 5)
    assert numbers("work_start!=2026-11-02 14:00:00") == ids(2, 4, 5)


def test_in_and_not_in_take_a_comma_list(numbers):
    assert numbers("u_etiu_codeINETIU03,etiu04,NOPE") == ids(3, 4)
    assert numbers("u_etiu_codeNOT INETIU01,ETIU02,ETIU03") == ids(4, 5)


def test_startswith_endswith_and_like_ignore_case(numbers):
    assert numbers("short_descriptionSTARTSWITHdev") == ids(2)
    assert numbers("short_descriptionENDSWITHGLOBEX") == ids(3, 4)
    assert numbers("short_descriptionLIKEsession") == ids(4)


@pytest.mark.parametrize("operator", ["NOT LIKE", "NOTLIKE"])
def test_not_like_excludes_records_containing_the_text(numbers, operator):
    assert numbers(f"short_description{operator}acme") == ids(3, 4, 5)


def test_isempty_and_isnotempty(numbers):
    assert numbers("work_startISEMPTY") == ids(3)
    assert numbers("work_startISNOTEMPTY") == ids(1, 2, 4, 5)


def test_comparisons_are_numeric_for_integers(numbers):
    assert numbers("state>1") == ids(1, 2, 5)
    assert numbers("state<=1") == ids(3, 4)
    assert numbers("sys_mod_count>9") == ids(2)  # as text "10" would sort before "9"
    assert numbers("sys_mod_count<2") == ids(4, 5)


def test_comparisons_order_date_times_and_skip_empty_values(utc_numbers):
    numbers = utc_numbers
    assert numbers("work_start>=2026-11-20 23:59:59") == ids(4, 5)
    assert numbers("work_start<2026-11-05 09:30:00") == ids(1)


def test_date_generate_operands_are_read_in_the_users_time_zone(numbers):
    # 19:00 on 20 November in New York is midnight UTC; midnight on the 21st there is 05:00 UTC.
    assert numbers("work_start>=javascript:gs.dateGenerate('2026-11-20','19:00:00')") == ids(5)
    assert numbers("work_start<javascript:gs.dateGenerate('2026-11-21','start')^work_start>2026-11-20") == ids(4, 5)


def test_between_is_inclusive_for_date_times_and_integers(utc_numbers):
    numbers = utc_numbers
    assert numbers("work_startBETWEEN2026-11-05 09:30:00@2026-11-20 23:59:59") == ids(2, 4)
    assert numbers("stateBETWEEN1@3") == ids(1, 2, 4)


def test_plain_date_time_operands_are_read_in_the_users_time_zone(numbers):
    # The user works in New York: 09:00 there on 20 November is 14:00 UTC, 19:00 is midnight UTC.
    assert numbers("work_start>=2026-11-20 19:00:00") == ids(5)
    assert numbers("work_start=2026-11-02 09:00:00") == ids(1)
    assert numbers("work_start!=2026-11-02 09:00:00") == ids(2, 4, 5)
    assert numbers("work_startBETWEEN2026-11-02 09:00:00@2026-11-05 04:30:00") == ids(1, 2)


def test_plain_date_time_operands_on_system_stamps_are_read_in_the_users_time_zone(sb, numbers):
    touched = sb.store.insert("u_etiu_ticket", {"number": "ETIU0009001", "sys_updated_on": "2026-10-14 19:00:00"})
    try:
        assert numbers("number=ETIU0009001^sys_updated_on>=2026-10-14 15:00:00") == ["ETIU0009001"]  # 19:00 UTC
        assert numbers("number=ETIU0009001^sys_updated_on>=2026-10-14 15:00:01") == []
        assert numbers("number=ETIU0009001^sys_updated_on>=2026-10-14 19:00:00") == []  # UTC text: too late
    finally:
        sb.store.delete("u_etiu_ticket", touched["sys_id"])


def test_text_that_is_not_a_date_time_is_compared_as_typed(numbers):
    assert numbers("work_start>2026-11-20") == ids(4, 5)  # a date alone is not shifted
    assert numbers("short_description=2026-11-02 09:00:00") == []


def test_between_accepts_pysnows_date_generate_form(numbers):
    query = ('work_startBETWEENjavascript:gs.dateGenerate("2026-11-02 09:00:00")'
             '@javascript:gs.dateGenerate("2026-11-05 04:30:00")')
    assert numbers(query) == ids(1, 2)


def test_and_binds_looser_than_or(numbers):
    # a ^ (b OR c), ServiceNow's precedence
    assert numbers("correlation_id=Acme Corp^state=3^ORstate=-5") == ids(1)
    assert numbers("state=3^ORstate=-5^ORstate=7") == ids(1, 3, 5)


def test_nq_ors_whole_queries(numbers):
    assert numbers("correlation_id=Globex^state=1^NQu_etiu_code=ETIU01") == ids(1, 4)


def test_orderby_and_orderbydesc_sort_with_several_keys(numbers):
    assert numbers("ORDERBYDESCstate") == ids(5, 1, 2, 4, 3)
    assert numbers("ORDERBYcorrelation_id^ORDERBYDESCnumber") == ids(2, 1, 4, 3, 5)
    assert numbers("state!=7^ORDERBYsys_mod_count") == ids(4, 1, 3, 2)


def test_ascending_order_puts_empty_values_first(numbers):
    assert numbers("ORDERBYwork_start") == ids(3, 1, 2, 4, 5)


def test_unknown_query_field_is_ignored_like_servicenow(numbers):
    assert numbers("u_etiu_kode=ETIU01") == ids(1, 2, 3, 4, 5)  # a typo widens the result
    assert numbers("u_etiu_kode=ETIU01^state=3") == ids(1)
    assert numbers("ORDERBYno_such_field^ORDERBYDESCnumber") == ids(5, 4, 3, 2, 1)


def test_an_unknown_operator_is_ignored(numbers):
    assert numbers("stateSAMEASnumber^u_etiu_code=ETIU02") == ids(2)


def test_reference_fields_compare_by_sys_id_and_may_be_dot_walked(sb, http):
    change = sb.store.insert("change_request", {"number": "CHG0030100"})
    other = sb.store.insert("change_request", {"number": "CHG0030101"})
    mine = sb.store.insert("change_task", {"change_request": change["sys_id"]})
    sb.store.insert("change_task", {"change_request": other["sys_id"]})

    def tasks(query: str) -> list[str]:
        response = http.get(f"{sb.url}/api/now/table/change_task", params={"sysparm_query": query})
        return [record["number"] for record in response.json()["result"]]

    assert tasks(f"change_request={change['sys_id']}") == [mine["number"]]
    assert tasks("change_request.number=CHG0030100") == [mine["number"]]
    assert tasks(f"change_requestIN{change['sys_id']},{other['sys_id']}^ORDERBYDESCchange_request.number")[-1] == (
        mine["number"])


def test_a_schemaless_table_knows_the_fields_its_records_have(sb, http):
    sb.store.insert("u_notes", {"colour": "blue"})
    sb.store.insert("u_notes", {"colour": "red"})

    def colours(query: str) -> list[str]:
        response = http.get(f"{sb.url}/api/now/table/u_notes", params={"sysparm_query": query})
        return [record["colour"] for record in response.json()["result"]]

    assert colours("colour=red") == ["red"]
    assert colours("size=large") == ["blue", "red"]


def test_the_store_queries_with_the_same_language(sb):
    assert [record["number"] for record in sb.store.query("u_etiu_ticket", "stateIN1,2^ORDERBYDESCnumber")] == ids(4, 2)
