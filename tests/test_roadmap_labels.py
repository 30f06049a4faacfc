"""The roadmap's labels are the pack's: a pack declares its fields, their labels and aliases in
plain text and the type of each value; the etiu pack's table reads exactly what the worker read
before it was data, a second pack's labels parse and write back, and a wrong table is refused
at load with its key path."""

from __future__ import annotations

import pickle
import random
import re
import tomllib
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from etiu_worker.actions.loading import load_pack
from etiu_worker.playbook.pack_folders import pack_folder, shipped_pack
from etiu_worker.engagement.roadmap import (
    ProdUpgrade,
    Roadmap,
    format_short_description,
    parse_short_description,
    prod_upgrade_to_utc,
)
from etiu_worker.engagement.roadmap_data import roadmap_from_data, roadmap_to_data
from etiu_worker.engagement.roadmap_labels import load_labels
from etiu_worker.engagement.roadmap_memory import AGREED, remembered_roadmap, upgraded
from etiu_worker.errors import RoadmapError, RulesError
from etiu_worker.playbook.pack_file import read_pack_file

from roadmap_helpers import ETIU_LABELS, ETIU_PACK, etiu_roadmap

# --- the etiu table reads what the hard-coded regexes read ----------------------------------

# The label regexes the worker had before the labels were the pack's, as they were written.
TODAYS_LABEL_NAMES = {
    "kickoff": r"kick[\s-]*off",
    "dev_upgrade": r"dev(?:elopment)?[\s-]+upgrade",
    "prod_upgrade": r"prod(?:uction)?[\s-]+upgrade",
    "bp": r"(?:bp|best[\s-]+practices?)(?:[\s-]+session)?",
    "support_week": r"support[\s-]+week(?:[\s-]+start)?",
}
TODAYS_LABEL = re.compile(
    r"(?<!\w)(?:" + "|".join(f"(?P<{field}>{name})" for field, name in TODAYS_LABEL_NAMES.items())
    + r")(?:\s+date)?\s*:",
    re.IGNORECASE,
)


def todays_reading(text: str) -> tuple[str, int, int] | None:
    found = TODAYS_LABEL.search(text)
    return (found.lastgroup, found.start(), found.end()) if found else None


def pack_reading(text: str) -> tuple[str, int, int] | None:
    found = ETIU_LABELS.matcher.search(text)
    return (ETIU_LABELS.field_of(found), found.start(), found.end()) if found else None


SPELLINGS_THAT_PARSE = [
    ("Kickoff", "kickoff"), ("kick-off", "kickoff"), ("Kick off", "kickoff"), ("KICK - OFF", "kickoff"),
    ("kick--off", "kickoff"), ("Kickoff date", "kickoff"), ("kick off  date ", "kickoff"),
    ("Dev upgrade", "dev_upgrade"), ("dev-upgrade", "dev_upgrade"), ("Development upgrade", "dev_upgrade"),
    ("DEVELOPMENT - UPGRADE date", "dev_upgrade"), ("Prod upgrade", "prod_upgrade"),
    ("Production upgrade", "prod_upgrade"), ("prod\tupgrade", "prod_upgrade"), ("Prod upgrade date", "prod_upgrade"),
    ("BP", "bp"), ("bp session", "bp"), ("BP-session", "bp"), ("Best practice", "bp"), ("Best practices", "bp"),
    ("best-practices session", "bp"), ("Best practice session date", "bp"), ("Support week", "support_week"),
    ("support-week", "support_week"), ("Support week start", "support_week"), ("SUPPORT WEEK START DATE", "support_week"),
]
SPELLINGS_THAT_DO_NOT = [
    "Kick of", "Kick", "Devupgrade", "Dev upgrades", "Development", "Prod", "Productionupgrade", "BPs",
    "Best practise", "Bestpractice", "BP sessions", "Support", "Supportweek", "Support weeks", "Support week end",
    "XKickoff", "kickoff_date", "Go-live",
]


@pytest.mark.parametrize(("spelling", "field"), SPELLINGS_THAT_PARSE)
def test_every_spelling_that_parsed_before_still_parses_as_the_same_field(spelling, field):
    text = f"Acme | {spelling}: 2026-11-02 18:00"

    assert pack_reading(text) == todays_reading(text)
    assert pack_reading(text)[0] == field


@pytest.mark.parametrize("spelling", SPELLINGS_THAT_DO_NOT)
def test_a_spelling_that_was_not_a_label_is_still_title_text(spelling):
    text = f"{spelling}: 2026-11-02"

    assert todays_reading(text) is None
    assert pack_reading(text) is None
    assert parse_short_description(text, ETIU_LABELS).roadmap == etiu_roadmap()


def test_the_pack_matcher_and_the_old_regexes_agree_on_thousands_of_made_up_labels():
    words = ["kick", "off", "kickoff", "dev", "development", "prod", "production", "upgrade", "upgrades", "bp",
             "best", "practice", "practices", "session", "support", "week", "start", "date", "go", "x"]
    joints = ["", " ", "-", "  ", " - ", "\t", "--", "_", " -- "]
    rng = random.Random(11)
    for _ in range(20_000):
        picked = [rng.choice(words) for _ in range(rng.randrange(1, 5))]
        label = "".join(word + rng.choice(joints) for word in picked[:-1]) + picked[-1]
        label = "".join(c.upper() if rng.random() < 0.3 else c for c in label)
        text = rng.choice(["", "Acme ", "Acme | ", "a"]) + label + rng.choice([":", " :", " date:", "date:"]) + " 2026-11-02"

        assert pack_reading(text) == todays_reading(text), text


def test_the_etiu_pack_runs_with_the_labels_of_its_table():
    assert load_pack(pack_folder(shipped_pack("etiu"))).checks.roadmap_sync.roadmap_labels == ETIU_LABELS
    assert ETIU_LABELS.titles == {"kickoff": "Kickoff", "dev_upgrade": "Dev upgrade", "prod_upgrade": "Prod upgrade",
                                  "bp": "BP", "support_week": "Support week"}


def test_the_etiu_pack_file_with_its_labels_table_loads():
    pack = read_pack_file(ETIU_PACK, needs_pack_table=True)

    assert load_labels(pack.checks.roadmap_sync.labels, str(ETIU_PACK)) == ETIU_LABELS


# --- a second pack's labels ---------------------------------------------------------------

GOLIVE_TABLE = tomllib.loads("""
[checks.roadmap_sync.labels]
go_live = { label = "Go-live", aliases = ["Cutover"], type = "local_datetime" }
hypercare = { label = "Hypercare", aliases = ["Hyper care", "Hypercare week"], type = "date_or_range" }
review = { label = "Review", type = "date" }
""")["checks"]["roadmap_sync"]["labels"]
GOLIVE = load_labels(GOLIVE_TABLE, "tests/packs/x/pack.toml")
GOLIVE_TEXT = "Acme rollout | Go-live: 2027-01-12 09:00 CET | Hypercare: 2027-01-13 - 2027-01-19"


def test_a_second_packs_labels_read_its_own_dates():
    parsed = parse_short_description(GOLIVE_TEXT, GOLIVE)

    assert parsed.title == "Acme rollout"
    assert parsed.roadmap.go_live == ProdUpgrade(datetime(2027, 1, 12, 9, 0), "CET")
    assert parsed.roadmap.hypercare == date(2027, 1, 13)
    assert parsed.roadmap.review is None
    assert parsed.roadmap == Roadmap(GOLIVE, go_live=ProdUpgrade(datetime(2027, 1, 12, 9, 0), "CET"),
                                     hypercare=date(2027, 1, 13))


def test_a_second_packs_roadmap_writes_in_its_label_order_and_reads_back():
    parsed = parse_short_description("Acme rollout | hyper-care date: 2027-01-13; cutover: 2027-01-12 9:00 am CET"
                                     " | Review: 2027-02-01 | Owner: Aja", GOLIVE)
    written = parsed.render()

    assert written == ("Acme rollout | Go-live: 2027-01-12 09:00 CET | Hypercare: 2027-01-13 | Review: 2027-02-01"
                       " | Owner: Aja")
    assert parse_short_description(written, GOLIVE) == parsed


def test_a_second_packs_labels_do_not_read_the_etiu_labels_and_errors_name_its_own_label():
    assert parse_short_description("Acme | Kickoff: 2026-11-02", GOLIVE).roadmap == Roadmap(GOLIVE)
    with pytest.raises(RoadmapError, match="Go-live '2027-01-12' has no time"):
        parse_short_description("Acme | Go-live: 2027-01-12", GOLIVE)
    with pytest.raises(RoadmapError, match="the title 'Plan: Go live: soon' contains the roadmap label 'Go live:'"):
        format_short_description("Plan: Go live: soon", Roadmap(GOLIVE, review=date(2027, 2, 1)))


def test_a_local_time_the_clocks_skip_is_refused_in_the_words_of_its_own_label():
    skipped = parse_short_description("Acme | Go-live: 2027-03-28 02:30", GOLIVE).roadmap.go_live

    with pytest.raises(RoadmapError, match="Go-live 2027-03-28 02:30 does not exist in Europe/Paris"):
        prod_upgrade_to_utc(skipped, ZoneInfo("Europe/Paris"), label=GOLIVE.title_of("go_live"))


def test_a_second_packs_roadmap_is_stored_and_remembered_as_data():
    roadmap = parse_short_description(GOLIVE_TEXT, GOLIVE).roadmap
    data = roadmap_to_data(roadmap)

    assert data == {"go_live": {"local": "2027-01-12T09:00", "zone_label": "CET"}, "hypercare": "2027-01-13"}
    assert roadmap_from_data(data, GOLIVE) == roadmap
    assert remembered_roadmap({AGREED: data}, AGREED, GOLIVE) == roadmap
    assert upgraded({AGREED: GOLIVE_TEXT}, GOLIVE) == {AGREED: data}
    with pytest.raises(ValueError, match=r"unknown roadmap field\(s\) \['kickoff'\]"):
        roadmap_from_data({"kickoff": "2026-11-02"}, GOLIVE)


# --- the Roadmap over declared labels ------------------------------------------------------


def test_a_declared_field_reads_as_an_attribute_and_a_misspelt_one_says_what_was_meant():
    roadmap = Roadmap(GOLIVE, review=date(2027, 2, 1))

    assert roadmap.review == date(2027, 2, 1)
    assert roadmap.go_live is None
    with pytest.raises(AttributeError, match="a roadmap has no field 'hypercar' \\(did you mean 'hypercare'\\?\\); "
                                             "its fields are go_live, hypercare, review"):
        roadmap.hypercar  # noqa: B018 - reading it is the test


def test_a_value_of_the_wrong_type_for_its_declared_type_is_refused():
    with pytest.raises(TypeError, match="Roadmap.go_live must be a ProdUpgrade"):
        Roadmap(GOLIVE, go_live=date(2027, 1, 12))
    with pytest.raises(TypeError, match="Roadmap.review must be a date"):
        Roadmap(GOLIVE, review=datetime(2027, 2, 1, 9, 0))
    with pytest.raises(TypeError, match=r"unknown roadmap field\(s\) \['go_lives'\] \(did you mean 'go_live'\?\)"):
        Roadmap(GOLIVE, go_lives=date(2027, 1, 12))


def test_a_roadmap_is_a_value_items_go_in_label_order_and_it_pickles():
    roadmap = Roadmap(GOLIVE, review=date(2027, 2, 1), hypercare=date(2027, 1, 13))

    assert [name for name, _ in roadmap.items()] == ["go_live", "hypercare", "review"]
    assert roadmap.values() == {"hypercare": date(2027, 1, 13), "review": date(2027, 2, 1)}
    assert pickle.loads(pickle.dumps(roadmap)) == roadmap
    assert {roadmap: 1}[Roadmap(GOLIVE, hypercare=date(2027, 1, 13), review=date(2027, 2, 1))] == 1
    assert roadmap != Roadmap(ETIU_LABELS)
    with pytest.raises(AttributeError, match="cannot be changed"):
        roadmap.review = None


def test_a_pack_may_declare_no_labels_and_then_every_text_is_title():
    assert parse_short_description("Acme | Kickoff: 2026-11-02", load_labels({})).title == "Acme | Kickoff: 2026-11-02"


# --- mistakes in the table ------------------------------------------------------------------

GO_LIVE = {"label": "Go-live", "type": "local_datetime"}
WHERE = "pack.toml: checks.roadmap_sync.labels"


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"go_live": {**GO_LIVE, "type": "datetime"}},
         f"{WHERE}.go_live.type: 'datetime' is not a label type; use date, local_datetime or date_or_range"),
        ({"go_live": {"label": "Go-live"}}, f"{WHERE}.go_live.type: is missing"),
        ({"go_live": {"type": "date"}}, f"{WHERE}.go_live.label: is missing"),
        ({"go_live": {**GO_LIVE, "alias": ["Go live"]}},
         f"{WHERE}.go_live.alias: is not a known key (did you mean 'aliases'?); the keys here are aliases, label, type"),
        ({"go_live": {**GO_LIVE, "label": "  "}},
         f'{WHERE}.go_live.label: is empty: write what people type before the colon, e.g. "Go-live"'),
        ({"go_live": {**GO_LIVE, "aliases": ["Go live", ""]}},
         f'{WHERE}.go_live.aliases[1]: is empty: write what people type before the colon, e.g. "Go-live"'),
        ({"go_live": {**GO_LIVE, "aliases": ["go[ -]live"]}},
         f"{WHERE}.go_live.aliases[0]: 'go[ -]live' may hold only letters, digits, spaces and hyphens "
         f"(a ':', '|', ';' or ',' would end the field)"),
        ({"go_live": {**GO_LIVE, "label": "Go-live:"}},
         f"{WHERE}.go_live.label: 'Go-live:' may hold only letters, digits, spaces and hyphens "
         f"(a ':', '|', ';' or ',' would end the field)"),
        ({"go_live": GO_LIVE, "hypercare": {"label": "Hypercare", "aliases": ["GO LIVE"], "type": "date"}},
         f"{WHERE}.hypercare.aliases[0]: 'GO LIVE' already starts the field go_live; a spelling may start one field only"),
        ({"go_live": GO_LIVE, "hypercare": {"label": "Go-live date", "type": "date"}},
         f"{WHERE}.hypercare.label: 'Go-live date' already starts the field go_live (\"date\" before the colon is "
         f"always optional); a spelling may start one field only"),
        ({"go_live": {**GO_LIVE, "aliases": "Go live"}},
         f"{WHERE}.go_live.aliases: is a list of spellings, e.g. aliases = [\"Go live\"] (got 'Go live')"),
        ({"go_live": {**GO_LIVE, "aliases": [1]}},
         f"{WHERE}.go_live.aliases[0]: is text, what people type before the colon, e.g. \"Go live\" (got 1)"),
        ({"Go-Live": GO_LIVE},
         f"{WHERE}.Go-Live: is not a field name: use lower-case letters, digits and _, starting with a letter"),
        ({"items": GO_LIVE},
         f"{WHERE}.items: is a name the roadmap itself uses (changes, items, labels, merged, replace, values); "
         f"choose another"),
        ({"go_live": "Go-live"}, f'{WHERE}.go_live: is not a table such as {{ label = "Go-live", type = "date" }}'),
        (["go_live"], f'{WHERE}: is not a table of fields, e.g. go_live = {{ label = "Go-live", type = "local_datetime" }}'),
    ],
)
def test_a_mistake_in_the_labels_table_is_one_message_with_its_key_path(table, message):
    with pytest.raises(RulesError) as caught:
        load_labels(table, "pack.toml")

    assert str(caught.value) == message
