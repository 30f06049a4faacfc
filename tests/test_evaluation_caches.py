"""What evaluation caches by text, and the one merge of names a rule's conditions share, change
nothing: a cached value equals a fresh parse, cannot be changed in place, and an error is raised
afresh every time; a Scope answers every expression as jinja's own call does."""

from __future__ import annotations

import dataclasses
import pickle
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from etiu_worker.engagement.roadmap import ProdUpgrade, parse_short_description, prod_upgrade_to_utc
from etiu_worker.engagement.roadmap_labels import load_labels
from etiu_worker.engagement.values import UnreadableValue, parse_sn_datetime, read_value
from etiu_worker.errors import RoadmapError
from etiu_worker.playbook.scope import Scope, _shared_globals_template, evaluate_in
from etiu_worker.playbook.templates import make_environment
from roadmap_helpers import ETIU_LABELS

NEW_YORK = ZoneInfo("America/New_York")
TEXT = "Acme | Kickoff: 2026-11-02 | Prod upgrade: 2026-11-24 18:00 EST | Owner: Aja"


def test_a_short_description_parsed_twice_is_equal_and_cannot_be_changed_in_place():
    first, second = parse_short_description(TEXT, ETIU_LABELS), parse_short_description(TEXT, ETIU_LABELS)

    assert first == second and first.roadmap.kickoff == date(2026, 11, 2)
    with pytest.raises(dataclasses.FrozenInstanceError):
        first.title = "Other"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        first.roadmap.kickoff = date(2027, 1, 1)
    assert isinstance(first.extras, tuple)
    assert parse_short_description(TEXT, ETIU_LABELS).title == "Acme"


def test_a_short_description_that_does_not_parse_raises_a_fresh_error_every_time():
    text = "Acme | Kickoff: 2026-13-45"
    with pytest.raises(RoadmapError) as first:
        parse_short_description(text, ETIU_LABELS)
    first.value.problem = "changed by a caller"
    with pytest.raises(RoadmapError) as second:
        parse_short_description(text, ETIU_LABELS)

    assert second.value is not first.value
    assert "is not a real date" in second.value.problem and second.value.text == text


def test_labels_read_the_same_text_by_their_own_spellings_however_often_it_was_parsed():
    other = load_labels({"kickoff": {"label": "Start", "type": "date"}})
    parse_short_description(TEXT, ETIU_LABELS)

    assert parse_short_description(TEXT, other).roadmap.kickoff is None
    assert parse_short_description("Acme | Start: 2026-11-02", other).roadmap.kickoff == date(2026, 11, 2)


def test_labels_pickle_and_compare_by_their_fields():
    copy = pickle.loads(pickle.dumps(ETIU_LABELS))

    assert copy == ETIU_LABELS and hash(copy) == hash(ETIU_LABELS)
    assert copy.names == ETIU_LABELS.names and copy.type_of("prod_upgrade") == "local_datetime"


def test_a_servicenow_datetime_parsed_twice_is_equal_and_a_bad_one_fails_every_time():
    assert parse_sn_datetime("2026-11-24 23:00:00") == datetime(2026, 11, 24, 23, tzinfo=timezone.utc)
    assert parse_sn_datetime("2026-11-24 23:00:00") == datetime(2026, 11, 24, 23, tzinfo=timezone.utc)
    for _ in range(2):
        with pytest.raises(UnreadableValue, match="a date-time like"):
            parse_sn_datetime("2026-11-24")
        with pytest.raises(UnreadableValue, match="a date like"):
            read_value("date", "24/11/2026", NEW_YORK)
    assert read_value("date", "2026-11-24", NEW_YORK) == date(2026, 11, 24)


def test_a_prod_upgrade_placed_twice_is_the_same_instant_and_a_skipped_hour_fails_every_time():
    evening = ProdUpgrade(datetime(2026, 11, 24, 18, 0), "EST")
    assert prod_upgrade_to_utc(evening, NEW_YORK) == datetime(2026, 11, 24, 23, tzinfo=timezone.utc)
    assert prod_upgrade_to_utc(evening, NEW_YORK) == datetime(2026, 11, 24, 23, tzinfo=timezone.utc)

    skipped = ProdUpgrade(datetime(2026, 3, 8, 2, 30))
    messages = []
    for label in ("Prod upgrade", "Prod upgrade", None):
        with pytest.raises(RoadmapError) as error:
            prod_upgrade_to_utc(skipped, NEW_YORK, label=label)
        messages.append(error.value.problem)
    assert messages[0] == messages[1] and messages[0].startswith("Prod upgrade 2026-03-08 02:30 does not exist")
    assert messages[2].startswith("The local time 2026-03-08 02:30 does not exist")


EXPRESSIONS = [
    "ticket.state == 'open'", "ticket.missing", "missing", "missing is defined", "count + 1", "label + 1",
    "1 / 0", "range(count) | list", "namespace is defined", "dict(a=1)", "result", "result is defined",
    "today > '2026-01-01'", "items | length", "ticket['state']", "ticket.items()",
]


def _outcome(call):
    try:
        value = call()
        return type(value), repr(value)
    except Exception as error:  # noqa: BLE001 - the error itself is the outcome compared
        return type(error), str(error)


@pytest.mark.parametrize("source", EXPRESSIONS)
def test_a_scope_answers_an_expression_as_jinja_does(source):
    env = make_environment()
    names = {"ticket": {"state": "open"}, "count": 3, "label": "x", "today": date(2026, 11, 24),
             "items": (1, 2), "range": lambda n: [n]}  # a name over a global wins, as in jinja
    scope = Scope(names)
    for undefined_to_none in (False, True):
        compiled = env.compile_expression(source, undefined_to_none=undefined_to_none)
        expected = _outcome(lambda: compiled(**names))
        assert _outcome(lambda: scope.evaluate(compiled)) == expected
        assert _outcome(lambda: scope.evaluate(compiled)) == expected  # nothing left over from the last call


def test_a_scope_leaves_nothing_of_one_expression_for_the_next():
    env = make_environment()
    scope = Scope({"count": 3})

    assert scope.evaluate(env.compile_expression("count * 2")) == 6
    assert scope.evaluate(env.compile_expression("result is defined", undefined_to_none=False)) is False


def test_an_expression_called_without_a_scope_or_not_compiled_by_jinja_is_called_as_before():
    env = make_environment()
    compiled = env.compile_expression("count * 2")

    assert evaluate_in(compiled, {"count": 4}) == 8
    assert evaluate_in(lambda **names: names["count"], Scope({"count": 5})) == 5
    assert dict(Scope({"count": 5})) == {"count": 5} and Scope(Scope({"a": 1})).names == {"a": 1}


def test_a_pack_expression_is_evaluated_over_the_one_merge_not_a_copy_per_call():
    # Should jinja change the shape of a compiled expression, this fails instead of the scope
    # quietly falling back to a copy per call.
    env = make_environment()
    compiled = env.compile_expression("count", undefined_to_none=False)
    scope = Scope({"count": 1})

    assert _shared_globals_template(compiled) is not None
    scope.evaluate(compiled)
    scope.evaluate(env.compile_expression("count + 1"))
    assert len(scope._merged) == 1
