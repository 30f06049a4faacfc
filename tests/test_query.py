import pytest

from etiu_worker.errors import QueryValueError
from etiu_worker.servicenow.query import Query, checked_field, checked_value


def test_terms_are_joined_with_carets_in_the_order_given():
    query = (
        Query.where("correlation_id", "=", "ENG-1")
        .and_in("sys_id", ["a1", "b2"])
        .and_where("sys_updated_on", ">=", "2026-01-01 00:00:00")
    )
    assert str(query) == "correlation_id=ENG-1^sys_idINa1,b2^sys_updated_on>=2026-01-01 00:00:00"


def test_an_empty_query_is_an_empty_string():
    assert str(Query()) == ""
    assert not Query()


def test_orderings_come_after_every_term_whatever_the_call_order():
    query = Query.where("active", "=", True).order_by("number").or_where("state", "=", 2)
    assert str(query) == "active=true^ORstate=2^ORDERBYnumber"


def test_descending_order_uses_orderbydesc():
    assert str(Query().order_by("sys_updated_on", descending=True)) == "ORDERBYDESCsys_updated_on"


def test_or_where_needs_a_term_before_it():
    with pytest.raises(ValueError, match="needs a term before it"):
        Query().or_where("state", "=", "1")


def test_building_on_a_query_leaves_the_original_unchanged():
    base = Query.where("correlation_id", "=", "ENG-1")
    base.and_where("state", "!=", "3").order_by("number")
    assert str(base) == "correlation_id=ENG-1"


def test_valueless_operators_take_no_value():
    assert str(Query.where("assigned_to", "ISEMPTY")) == "assigned_toISEMPTY"
    with pytest.raises(ValueError, match="takes no value"):
        Query.where("assigned_to", "ISNOTEMPTY", "x")


def test_comparison_without_a_value_is_refused():
    with pytest.raises(ValueError, match="needs a value"):
        Query.where("state", "=")


def test_unknown_operators_are_refused():
    with pytest.raises(ValueError, match="unknown query operator"):
        Query.where("state", "=~", "1")


def test_dot_walked_field_names_are_accepted():
    assert str(Query.where("change_request.number", "=", "CHG0001")) == "change_request.number=CHG0001"


@pytest.mark.parametrize(
    "value, named",
    [("foo^ORsys_id!=x", "'^'"), ("ENG-1\nstate=3", "line break"), ("ENG-1\r", "carriage return")],
)
def test_values_that_could_widen_the_query_are_refused_naming_field_and_value(value, named):
    with pytest.raises(QueryValueError) as refused:
        Query.where("correlation_id", "=", value)
    message = str(refused.value)
    assert "correlation_id" in message and named in message
    assert repr(value[:5])[1:-1] in message  # the offending value is shown


def test_a_long_offending_value_is_truncated_in_the_message():
    value = "x" * 500 + "^ORactive=true"
    with pytest.raises(QueryValueError) as refused:
        checked_value(value, field="short_description")
    assert "x" * 40 + "..." in str(refused.value)
    assert "x" * 41 not in str(refused.value)


def test_a_comma_inside_an_in_value_is_refused():
    with pytest.raises(QueryValueError, match="splits an IN list"):
        Query.where("number", "=", "CHG1").and_in("sys_id", ["abc", "def,ghi"])


def test_a_caret_inside_an_in_value_is_refused():
    with pytest.raises(QueryValueError, match="'\\^'"):
        Query.where("sys_id", "IN", ["abc", "x^ORactive=true"])


def test_an_empty_in_list_is_refused_rather_than_risk_matching_every_row():
    with pytest.raises(QueryValueError, match="empty"):
        Query.where("sys_id", "IN", [])


def test_in_refuses_a_single_string_that_would_be_read_letter_by_letter():
    with pytest.raises(TypeError):
        Query().and_in("sys_id", "abc")


@pytest.mark.parametrize("name", ["state^ORactive", "short description", "", "state=1", "1st", "a..b", ".a"])
def test_field_names_that_are_not_identifiers_are_refused(name):
    with pytest.raises(QueryValueError, match="not a field name"):
        Query.where(name, "=", "1")
    with pytest.raises(QueryValueError):
        checked_field(name)


def test_order_by_refuses_a_field_name_that_is_not_an_identifier():
    with pytest.raises(QueryValueError):
        Query().order_by("number^NQactive=true")


@pytest.mark.parametrize("value", ["javascript:gs.getUserID()", "  JavaScript:1"])
def test_values_servicenow_would_run_as_scripts_are_refused(value):
    with pytest.raises(QueryValueError, match="javascript"):
        checked_value(value, field="assigned_to")


def test_checked_value_gives_servicenow_text_for_ints_and_booleans():
    assert checked_value(3) == "3"
    assert checked_value(True) == "true"
    assert checked_value(False) == "false"
    assert checked_value("ENG-1 / phase 2") == "ENG-1 / phase 2"


def test_checked_value_refuses_none_instead_of_sending_the_text_none():
    with pytest.raises(TypeError):
        checked_value(None)


def test_equal_queries_compare_equal():
    assert Query.where("a", "=", "1") == Query.where("a", "=", "1")
    assert Query.where("a", "=", "1") != Query.where("a", "=", "2")
