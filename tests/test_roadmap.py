"""The roadmap in a ticket's short description: what people type parses, what the worker writes
parses back to the same dates, and a wrong date or time zone is refused loudly."""

from __future__ import annotations

import pickle
import random
import re
import string
import time
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from etiu_worker.errors import EXIT_ACTIONS_FAILED, EtiuError, RoadmapError
from etiu_worker.engagement.roadmap import (
    ProdUpgrade,
    Roadmap,
    ShortDescription,
    format_short_description,
    parse_short_description,
    prod_upgrade_to_utc,
    zone_abbreviation,
)
from roadmap_helpers import ETIU_LABELS, FIELDS, etiu_roadmap

NEW_YORK = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")
SYDNEY = ZoneInfo("Australia/Sydney")

PLAYBOOK_EXAMPLE = (
    "Acme | Kickoff: 2026-11-02 | Dev upgrade: 2026-11-05 | Prod upgrade: 2026-11-24 18:00 EST"
    " | BP: 2026-11-26 | Support week: 2026-11-25"
)
ACME_ROADMAP = etiu_roadmap(
    kickoff=date(2026, 11, 2),
    dev_upgrade=date(2026, 11, 5),
    prod_upgrade=ProdUpgrade(datetime(2026, 11, 24, 18, 0), "EST"),
    bp=date(2026, 11, 26),
    support_week=date(2026, 11, 25),
)


def parse(text: str) -> ShortDescription:
    return parse_short_description(text, ETIU_LABELS)


def refusal(text: str) -> RoadmapError:
    with pytest.raises(RoadmapError) as caught:
        parse(text)
    return caught.value


# --- reading what people type ---------------------------------------------------------------


def test_the_playbook_example_reads_every_date():
    parsed = parse(PLAYBOOK_EXAMPLE)

    assert parsed == ShortDescription("Acme", ACME_ROADMAP, ())


@pytest.mark.parametrize(
    "label",
    [
        "Prod upgrade:", "Prod Upgrade:", "prod upgrade :", "PROD UPGRADE:", "Prod   upgrade  :",
        "Production upgrade:", "Prod upgrade date:",
    ],
)
def test_labels_are_read_whatever_the_case_and_spacing(label):
    parsed = parse(f"Acme | {label}2026-11-24 18:00")

    assert parsed.roadmap.prod_upgrade == ProdUpgrade(datetime(2026, 11, 24, 18, 0))


@pytest.mark.parametrize(
    ("written", "field"),
    [
        ("Kick-off: 2026-11-02", "kickoff"),
        ("Kick off date: 2026-11-02", "kickoff"),
        ("Development upgrade: 2026-11-02", "dev_upgrade"),
        ("Best practices: 2026-11-02", "bp"),
        ("Best Practice session: 2026-11-02", "bp"),
        ("BP session: 2026-11-02", "bp"),
        ("Support week start: 2026-11-02", "support_week"),
        ("kickoff: 2026/11/02", "kickoff"),
        ("Kickoff: 2026-11-2", "kickoff"),
    ],
)
def test_aliases_and_loose_dates_read_as_the_same_field(written, field):
    assert getattr(parse(written).roadmap, field) == date(2026, 11, 2)


def test_fields_may_come_in_any_order_with_any_separator():
    text = (
        "Acme; Support week: 2026-11-25, BP: 2026-11-26 ; Prod upgrade: 2026-11-24 18:00 EST"
        "|Dev upgrade: 2026-11-05 , Kickoff: 2026-11-02"
    )

    assert parse(text).roadmap == ACME_ROADMAP


def test_a_forgotten_separator_between_fields_is_tolerated():
    parsed = parse(
        "Acme Kickoff: 2026-11-02 Dev upgrade: 2026-11-05 Prod upgrade: 2026-11-24 18:00 EST BP: 2026-11-26"
    )

    assert parsed.roadmap == ACME_ROADMAP.replace(support_week=None)
    assert parsed.title == "Acme"


def test_missing_fields_are_left_unset():
    assert parse("Acme | BP: 2026-11-26").roadmap == etiu_roadmap(bp=date(2026, 11, 26))


def test_commas_and_pipes_in_the_title_stay_in_the_title():
    parsed = parse("Acme, Inc. | EMEA - Kickoff | Kickoff: 2026-11-02, Dev upgrade: 2026-11-05")

    assert parsed.title == "Acme, Inc. | EMEA - Kickoff"
    assert parsed.roadmap == etiu_roadmap(kickoff=date(2026, 11, 2), dev_upgrade=date(2026, 11, 5))


@pytest.mark.parametrize("joint", [" | ", " - ", " -- ", " — ", ", ", "; ", " ", " |-  "])
def test_the_title_loses_the_separators_that_joined_it_to_the_dates(joint):
    assert parse(f"  Acme Corp{joint}Kickoff: 2026-11-02").title == "Acme Corp"


def test_text_without_any_label_is_all_title():
    parsed = parse("Acme - Express to Enterprise - Upgrade Date: TBD |")

    assert parsed == ShortDescription("Acme - Express to Enterprise - Upgrade Date: TBD", etiu_roadmap(), ())


def test_an_empty_short_description_is_an_empty_roadmap():
    assert parse("") == ShortDescription("", etiu_roadmap(), ())


@pytest.mark.parametrize("placeholder", ["TBD", "tbd", "TBA", "TBC", "N/A", "?", "", "   "])
def test_tbd_or_nothing_after_a_label_means_not_set(placeholder):
    parsed = parse(f"Acme | Kickoff: 2026-11-02 | Prod upgrade: {placeholder} | BP:{placeholder}")

    assert parsed.roadmap == etiu_roadmap(kickoff=date(2026, 11, 2))


def test_a_placeholder_does_not_conflict_with_a_date_for_the_same_field():
    assert parse("Kickoff: TBD | Kickoff: 2026-11-02").roadmap.kickoff == date(2026, 11, 2)


def test_the_same_date_given_twice_is_accepted():
    assert parse("BP: 2026-11-26 | Best practices: 2026-11-26").roadmap.bp == date(2026, 11, 26)


def test_the_same_field_with_two_different_dates_is_refused_at_the_second():
    text = "Acme | BP: 2026-11-26 | Best practices: 2026-11-27"

    error = refusal(text)

    assert error.position == text.index("Best practices")
    assert "BP" in str(error) and "2026-11-26" in str(error) and "2026-11-27" in str(error)


@pytest.mark.parametrize(
    ("prod", "local", "zone_label"),
    [
        ("2026-11-24 18:00 EST", datetime(2026, 11, 24, 18, 0), "EST"),
        ("2026-11-24 18:00 UTC+11", datetime(2026, 11, 24, 18, 0), "UTC+11"),
        ("2026-11-24 9:05 (BST)", datetime(2026, 11, 24, 9, 5), "BST"),
        ("2026-11-24 6:00 PM PST", datetime(2026, 11, 24, 18, 0), "PST"),
        ("2026-11-24 12:30 am", datetime(2026, 11, 24, 0, 30), None),
        ("2026-11-24T18:00", datetime(2026, 11, 24, 18, 0), None),
        ("2026-11-24 18:00 GMT-3:30", datetime(2026, 11, 24, 18, 0), "GMT-3:30"),
    ],
)
def test_the_prod_upgrade_keeps_the_clients_wall_clock_and_zone_label(prod, local, zone_label):
    assert parse(f"Prod upgrade: {prod}").roadmap.prod_upgrade == ProdUpgrade(local, zone_label)


def test_unknown_labelled_text_is_kept_as_extra_and_written_back():
    text = "Acme | Kickoff: 2026-11-02 | Owner: Aja, Bob | BP: 2026-11-26 | Note: call first"

    parsed = parse(text)
    written = parsed.render()

    assert parsed.extras == ("Owner: Aja, Bob", "Note: call first")
    assert written == "Acme | Kickoff: 2026-11-02 | BP: 2026-11-26 | Owner: Aja, Bob | Note: call first"
    assert parse(written).roadmap == parsed.roadmap


def test_a_support_week_written_as_a_range_keeps_its_first_day():
    assert parse("Support week: 2026-11-25 - 2026-12-01").roadmap.support_week == date(2026, 11, 25)
    assert parse("Support week: 2026-11-25 to 2026-12-01").roadmap.support_week == date(2026, 11, 25)


# --- refusing what does not parse ----------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "label"),
    [
        ("2026-13-45", "Kickoff"),
        ("2026-02-30", "Kickoff"),
        ("next week", "Kickoff"),
        ("2026-11-02 (tentative)", "Kickoff"),
    ],
)
def test_a_date_that_does_not_parse_names_the_label_the_value_and_the_expected_form(value, label):
    text = f"Acme | Kickoff: {value} | BP: 2026-11-26"

    error = refusal(text)

    assert error.text == text
    assert error.position == text.index(value)
    assert label in str(error) and value in str(error) and "YYYY-MM-DD" in str(error)


@pytest.mark.parametrize(
    "value", ["2026-11-24 24:30", "2026-11-24 18:75", "2026-11-24 13:00 PM", "2026-11-31 18:00"]
)
def test_a_prod_upgrade_time_that_does_not_exist_on_any_clock_is_refused(value):
    error = refusal(f"Prod upgrade: {value}")

    assert "Prod upgrade" in str(error) and value in str(error) and "HH:MM" in str(error)


def test_a_prod_upgrade_without_a_time_is_refused_because_the_change_needs_one():
    error = refusal("Acme | Prod upgrade: 2026-11-24")

    assert "has no time" in str(error)
    assert error.position == len("Acme | Prod upgrade: ")


def test_a_utc_offset_beyond_fourteen_hours_is_refused():
    error = refusal("Prod upgrade: 2026-11-24 18:00 UTC+15")

    assert "UTC+15" in str(error) and error.position == len("Prod upgrade: 2026-11-24 18:00 ")


def test_a_support_week_range_that_ends_before_it_starts_is_refused():
    assert "ends before it starts" in str(refusal("Support week: 2026-12-01 - 2026-11-25"))


def test_a_roadmap_error_is_an_etiu_error_that_fails_the_action_and_survives_pickling():
    error = refusal("Kickoff: soon")

    assert isinstance(error, EtiuError) and error.exit_code == EXIT_ACTIONS_FAILED
    copy = pickle.loads(pickle.dumps(error))
    assert (str(copy), copy.text, copy.position) == (str(error), error.text, error.position)


# --- huge or hostile input -----------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "x" * 10_000,
        "Acme, " * 1_700,
        "Kickoff: 2026-11-02 | " * 455,
        "Kickoff:" * 1_250,
        "Kickoff: TBD | Owner: " + "|" * 9_980,
        "Kick" + " " * 9_990 + "off",
        "Best " + " " * 9_990 + ":",
        "- " * 5_000 + "x",
        "Owner: Aja, " * 900 + "Kickoff: 2026-11-02",
    ],
)
def test_ten_thousand_characters_parse_in_well_under_a_second(text):
    assert len(text) >= 9_000
    started = time.perf_counter()

    parse(text)

    assert time.perf_counter() - started < 0.5


def test_a_huge_bad_value_gives_a_short_error_message():
    error = refusal("Kickoff: " + "9" * 10_000)

    assert len(str(error)) < 300
    assert error.position == len("Kickoff: ")


# --- writing -------------------------------------------------------------------------------


def test_writes_every_label_in_canonical_order():
    assert format_short_description("Acme", ACME_ROADMAP) == PLAYBOOK_EXAMPLE


def test_writes_only_the_fields_that_are_set():
    roadmap = etiu_roadmap(bp=date(2026, 11, 26), kickoff=date(2026, 11, 2))

    assert format_short_description("Acme", roadmap) == "Acme | Kickoff: 2026-11-02 | BP: 2026-11-26"


def test_an_empty_roadmap_writes_the_title_alone_and_an_empty_title_writes_the_dates_alone():
    assert format_short_description("Acme", etiu_roadmap()) == "Acme"
    assert format_short_description("", etiu_roadmap(bp=date(2026, 11, 26))) == "BP: 2026-11-26"


def test_overflowing_title_is_shortened_never_a_date():
    title = (
        "Acme Corporation International Holdings - Express to Enterprise upgrade engagement "
        "for the EMEA region"
    )

    written = format_short_description(title, ACME_ROADMAP, max_length=160)
    parsed = parse(written)

    assert len(written) <= 160
    assert parsed.roadmap == ACME_ROADMAP
    assert parsed.title.endswith("…") and title.startswith(parsed.title[:-1])


def test_the_title_is_cut_at_a_word_boundary():
    dates = " | BP: 2026-11-26"
    written = format_short_description("Acme Corporation International", etiu_roadmap(bp=date(2026, 11, 26)),
                                       max_length=len("Acme Corporation Intern…") + len(dates))

    assert written == "Acme Corporation…" + dates


def test_a_single_long_word_is_cut_mid_word_rather_than_lost():
    dates = " | BP: 2026-11-26"

    written = format_short_description(
        "Supercalifragilistic", etiu_roadmap(bp=date(2026, 11, 26)), max_length=10 + len(dates)
    )

    assert written == "Supercali…" + dates


def test_a_title_that_fits_exactly_is_not_shortened():
    exact = len(PLAYBOOK_EXAMPLE)

    assert format_short_description("Acme", ACME_ROADMAP, max_length=exact) == PLAYBOOK_EXAMPLE
    assert format_short_description("Acme", ACME_ROADMAP, max_length=exact - 1).endswith(PLAYBOOK_EXAMPLE[4:])


def test_when_no_letter_of_the_title_fits_the_dates_are_written_alone():
    dates = format_short_description("", ACME_ROADMAP)

    assert format_short_description("Acme", ACME_ROADMAP, max_length=len(dates) + 2) == dates


def test_dates_that_cannot_fit_even_without_a_title_are_refused_with_the_length_they_need():
    needed = len(format_short_description("", ACME_ROADMAP))

    with pytest.raises(RoadmapError) as caught:
        format_short_description("Acme", ACME_ROADMAP, max_length=100)

    assert f"need {needed} characters" in str(caught.value)
    assert "100" in str(caught.value)


def test_extra_text_is_never_dropped_to_make_room():
    with pytest.raises(RoadmapError, match="extra text"):
        format_short_description(
            "Acme", etiu_roadmap(bp=date(2026, 11, 26)), max_length=30, extras=["Owner: Aja, Bob and Carol"]
        )


@pytest.mark.parametrize("title", ["Acme BP: prep", "Kickoff: Acme", "Acme best practices : review"])
def test_a_title_that_would_read_back_as_a_date_is_refused(title):
    with pytest.raises(RoadmapError, match="label"):
        format_short_description(title, ACME_ROADMAP)


def test_extra_text_that_would_read_back_as_a_date_is_refused():
    with pytest.raises(RoadmapError, match="label"):
        format_short_description("Acme", ACME_ROADMAP, extras=["moved from Kickoff: 2026-10-01"])


def test_rewriting_a_parsed_short_description_is_stable():
    typed = "Acme, Inc. -- prod upgrade : 2026-11-24 6:00 pm EST ; Owner: Aja, Bob ; kickoff:2026-11-2 |"

    once = parse(typed).render()
    twice = parse(once).render()

    assert once == "Acme, Inc. | Kickoff: 2026-11-02 | Prod upgrade: 2026-11-24 18:00 EST | Owner: Aja, Bob"
    assert twice == once


# Title words include the label words themselves: without a colon they are ordinary words.
WORDS = [
    "Acme", "Inc.", "EMEA", "Global", "Express", "to", "Enterprise", "upgrade", "Müller", "東京", "–", "-",
    "(phase", "2)", "R&D", "Q4", "#42", "50%", "Dev", "Prod", "BP", "week", "support", "Kickoff", "date",
]
PUNCTUATION = ["", ",", " |", ";", " -"]
ZONE_LABELS = [
    None, "EST", "EDT", "GMT", "BST", "AEDT", "PST", "CET", "UTC+11", "UTC-3", "UTC+5:30", "GMT+0", "ET",
]


def random_date(rng: random.Random) -> date:
    return date(2000, 1, 1) + timedelta(days=rng.randrange(40_000))


def random_roadmap(rng: random.Random) -> Roadmap:
    def maybe(make):
        return make() if rng.random() < 0.7 else None

    def prod_upgrade() -> ProdUpgrade:
        day = random_date(rng)
        local = datetime(day.year, day.month, day.day, rng.randrange(24), rng.randrange(60))
        return ProdUpgrade(local, rng.choice(ZONE_LABELS))

    prod = maybe(prod_upgrade)
    return etiu_roadmap(maybe(lambda: random_date(rng)), maybe(lambda: random_date(rng)), prod,
                   maybe(lambda: random_date(rng)), maybe(lambda: random_date(rng)))


def random_title(rng: random.Random) -> str:
    words = [rng.choice(WORDS) + rng.choice(PUNCTUATION) for _ in range(rng.randrange(0, 30))]
    return " ".join(words)


def random_extras(rng: random.Random) -> tuple[str, ...]:
    if rng.random() < 0.7:
        return ()
    return ("Owner: " + rng.choice(["Aja", "Jesse, Damien", "ops; on call"]),)


def test_what_the_worker_writes_reads_back_as_the_same_roadmap():
    rng = random.Random(20261124)
    for _ in range(3_000):
        title, roadmap = random_title(rng), random_roadmap(rng)
        # Without a date there is no label to start the extras: they would read back as title.
        extras = random_extras(rng) if roadmap != etiu_roadmap() else ()
        max_length = rng.choice([160, 160, 200, 4000, rng.randrange(150, 400)])

        written = format_short_description(title, roadmap, max_length=max_length, extras=extras)
        parsed = parse(written)

        context = f"{title!r} {roadmap} -> {written!r}"
        assert parsed.roadmap == roadmap, context
        assert parsed.extras == extras, context
        assert len(written) <= max_length, context
        if parsed.title.endswith("…"):
            assert title.startswith(parsed.title[:-1]), context
        else:
            assert parsed.title == parsed.title.strip() and parsed.title in title, context
        assert parse(parsed.render(max_length=max_length)) == parsed, context


def test_random_printable_noise_either_parses_or_raises_a_roadmap_error():
    rng = random.Random(7)
    alphabet = string.printable + "…–—é東"
    fragments = [
        "Kickoff:", "BP:", "Prod upgrade:", "Support week:", "2026-11-24", "18:00", "EST", " | ", ", ", "TBD",
    ]
    for _ in range(2_000):
        pieces = (rng.choice(fragments if rng.random() < 0.4 else alphabet) for _ in range(rng.randrange(60)))
        text = "".join(pieces)
        try:
            parsed = parse(text)
        except RoadmapError as error:
            assert 0 <= error.position <= len(text), text
        else:
            assert parse(parsed.render(max_length=4000)).roadmap == parsed.roadmap, text


# --- the Roadmap value ---------------------------------------------------------------------


def test_changes_lists_only_the_fields_that_differ_with_old_and_new_values():
    moved = ACME_ROADMAP.replace(bp=date(2026, 11, 27), kickoff=None)

    assert ACME_ROADMAP.changes(moved) == {
        "kickoff": (date(2026, 11, 2), None),
        "bp": (date(2026, 11, 26), date(2026, 11, 27)),
    }
    assert list(ACME_ROADMAP.changes(etiu_roadmap())) == list(FIELDS)
    assert ACME_ROADMAP.changes(ACME_ROADMAP) == {}


def test_replace_can_clear_a_date_but_merged_never_does():
    assert ACME_ROADMAP.replace(bp=None).bp is None
    merged = ACME_ROADMAP.merged(bp=None, kickoff=date(2026, 11, 3))

    assert merged == ACME_ROADMAP.replace(kickoff=date(2026, 11, 3))


def test_an_unknown_field_name_is_refused():
    with pytest.raises(TypeError, match="bp_session"):
        ACME_ROADMAP.replace(bp_session=date(2026, 11, 26))


def test_a_datetime_where_a_date_belongs_is_refused_because_it_would_not_read_back():
    with pytest.raises(TypeError, match="kickoff"):
        etiu_roadmap(kickoff=datetime(2026, 11, 2, 9, 0))


@pytest.mark.parametrize(
    ("local", "zone_label"),
    [
        (datetime(2026, 11, 24, 18, 0, 30), None),
        (datetime(2026, 11, 24, 18, 0, tzinfo=timezone.utc), None),
        (datetime(2026, 11, 24, 18, 0), "Eastern"),
        (datetime(2026, 11, 24, 18, 0), " EST"),
        (datetime(2026, 11, 24, 18, 0), "UTC+15"),
    ],
)
def test_a_prod_upgrade_the_grammar_cannot_write_is_refused_when_built(local, zone_label):
    with pytest.raises(ValueError):
        ProdUpgrade(local, zone_label)


# --- time zones ----------------------------------------------------------------------------


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


def test_the_prod_upgrade_is_the_clients_wall_clock_in_the_engagements_zone():
    assert prod_upgrade_to_utc(ACME_ROADMAP.prod_upgrade, NEW_YORK) == utc(2026, 11, 24, 23, 0)
    assert prod_upgrade_to_utc(ProdUpgrade(datetime(2026, 7, 14, 18, 0)), NEW_YORK) == utc(2026, 7, 14, 22, 0)


@pytest.mark.parametrize(
    ("zone", "local", "first", "second_label", "second"),
    [
        (NEW_YORK, datetime(2026, 11, 1, 1, 30), utc(2026, 11, 1, 5, 30), "EST", utc(2026, 11, 1, 6, 30)),
        (LONDON, datetime(2026, 10, 25, 1, 30), utc(2026, 10, 25, 0, 30), "GMT", utc(2026, 10, 25, 1, 30)),
        (SYDNEY, datetime(2026, 4, 5, 2, 30), utc(2026, 4, 4, 15, 30), "AEST", utc(2026, 4, 4, 16, 30)),
    ],
)
def test_a_fall_back_time_is_its_first_occurrence_unless_the_label_names_the_second(
    zone, local, first, second_label, second
):
    assert prod_upgrade_to_utc(ProdUpgrade(local), zone) == first
    assert prod_upgrade_to_utc(ProdUpgrade(local, second_label), zone) == second
    assert prod_upgrade_to_utc(ProdUpgrade(local, zone_abbreviation(first, zone)), zone) == first


@pytest.mark.parametrize(
    ("zone", "written", "suggested"),
    [
        (NEW_YORK, "2026-03-08 02:30", "03:30 EDT"),
        (LONDON, "2026-03-29 01:30 BST", "02:30 BST"),
        (SYDNEY, "2026-10-04 02:00", "03:00 AEDT"),
    ],
)
def test_a_time_skipped_by_spring_forward_is_refused_with_the_time_the_clocks_show(zone, written, suggested):
    prod = parse(f"Prod upgrade: {written}").roadmap.prod_upgrade

    with pytest.raises(RoadmapError) as caught:
        prod_upgrade_to_utc(prod, zone)

    assert "does not exist" in str(caught.value) and str(zone) in str(caught.value)
    assert f"such as {suggested}" in str(caught.value)


@pytest.mark.parametrize(
    ("zone", "prod"),
    [
        (NEW_YORK, ProdUpgrade(datetime(2026, 7, 14, 18, 0), "EST")),
        (NEW_YORK, ProdUpgrade(datetime(2026, 11, 24, 18, 0), "PST")),
        (LONDON, ProdUpgrade(datetime(2026, 7, 14, 18, 0), "GMT")),
        (SYDNEY, ProdUpgrade(datetime(2026, 1, 14, 18, 0), "UTC+10")),
    ],
)
def test_a_zone_label_that_contradicts_the_engagements_zone_is_refused(zone, prod):
    with pytest.raises(RoadmapError, match=re.escape(f"labelled {prod.zone_label}, but")):
        prod_upgrade_to_utc(prod, zone)


@pytest.mark.parametrize(
    ("zone", "label"),
    [(NEW_YORK, "ET"), (NEW_YORK, "edt"), (NEW_YORK, "UTC-4"), (LONDON, "BST"), (LONDON, "UTC+1")],
)
def test_generic_lowercase_and_offset_labels_that_agree_with_the_zone_are_accepted(zone, label):
    july = datetime(2026, 7, 14, 18, 0)
    expected = july.replace(tzinfo=zone).astimezone(timezone.utc)

    assert prod_upgrade_to_utc(ProdUpgrade(july, label), zone) == expected


@pytest.mark.parametrize(
    ("zone", "local", "expected"),
    [
        (NEW_YORK, datetime(2026, 11, 24, 18, 0), "EST"),
        (NEW_YORK, datetime(2026, 7, 14, 18, 0), "EDT"),
        (LONDON, datetime(2026, 1, 14, 18, 0), "GMT"),
        (LONDON, datetime(2026, 7, 14, 18, 0), "BST"),
        (SYDNEY, datetime(2026, 1, 14, 18, 0), "AEDT"),
        (SYDNEY, datetime(2026, 7, 14, 18, 0), "AEST"),
        (NEW_YORK, datetime(2026, 11, 1, 1, 30, fold=1), "EST"),
        (ZoneInfo("America/Sao_Paulo"), datetime(2026, 7, 14, 18, 0), "UTC-3"),
        (ZoneInfo("Asia/Kathmandu"), datetime(2026, 7, 14, 18, 0), "UTC+5:45"),
    ],
)
def test_zone_abbreviation_names_the_zone_as_it_is_on_that_day(zone, local, expected):
    assert zone_abbreviation(local, zone) == expected


def test_a_label_written_by_the_worker_always_resolves_back_to_the_same_instant():
    rng = random.Random(1801)
    zones = [NEW_YORK, LONDON, SYDNEY, ZoneInfo("America/Sao_Paulo"), ZoneInfo("Pacific/Chatham"),
             ZoneInfo("Asia/Kolkata"), ZoneInfo("Europe/Moscow"), ZoneInfo("Pacific/Apia")]
    start = utc(2005, 1, 1)
    for _ in range(3_000):
        zone = rng.choice(zones)
        instant = start + timedelta(minutes=rng.randrange(0, 30 * 365 * 24 * 60))

        prod = ProdUpgrade.from_instant(instant, zone)
        written = format_short_description("Acme", etiu_roadmap(prod_upgrade=prod))

        read_back = prod_upgrade_to_utc(parse(written).roadmap.prod_upgrade, zone)
        assert read_back == instant, (zone, instant, written)


def test_every_fall_back_hour_in_the_three_zones_round_trips_through_its_label():
    for zone in (NEW_YORK, LONDON, SYDNEY):
        instant = utc(2026, 1, 1)
        while instant.year == 2026:
            if instant.astimezone(zone).fold:
                prod = ProdUpgrade.from_instant(instant, zone)
                assert prod_upgrade_to_utc(prod, zone) == instant, (zone, instant, prod)
            instant += timedelta(minutes=30)


def test_zone_abbreviation_refuses_a_time_skipped_by_spring_forward():
    with pytest.raises(RoadmapError, match="does not exist"):
        zone_abbreviation(datetime(2026, 3, 8, 2, 30), NEW_YORK)
