"""The remembered roadmap is stored as data, and memory written the old way (as text) still works."""

from __future__ import annotations

import copy
import json
from datetime import date, datetime

import pytest

import playbook_helpers as h
from etiu_worker.engagement.roadmap import ProdUpgrade, Roadmap, format_short_description, parse_short_description
from etiu_worker.engagement.roadmap_data import roadmap_from_data, roadmap_to_data
from etiu_worker.engagement.roadmap_memory import AGREED, CARRYING, remembered_roadmap, upgraded
from etiu_worker.state.journal import Journal

from safety_helpers import FIXED_MOMENT, TickingClock, converge, in_process_settings, run_cycle, seeded_sandbox, use_clock
from roadmap_helpers import ETIU_LABELS, etiu_roadmap

FULL = etiu_roadmap(date(2026, 11, 9), date(2026, 11, 12), ProdUpgrade(datetime(2026, 12, 1, 18, 0), "CST"),
               date(2026, 12, 3), date(2026, 12, 2))


def old_form(roadmap: Roadmap) -> str:
    """The text earlier releases stored in the memory."""
    return format_short_description("", roadmap, max_length=10_000)


# --- the data form ------------------------------------------------------------------------


def test_a_roadmap_is_stored_as_iso_dates_and_the_prod_upgrades_wall_time_and_zone_label():
    assert roadmap_to_data(FULL.replace(dev_upgrade=None)) == {
        "kickoff": "2026-11-09",
        "prod_upgrade": {"local": "2026-12-01T18:00", "zone_label": "CST"},
        "bp": "2026-12-03",
        "support_week": "2026-12-02",
    }


@pytest.mark.parametrize("roadmap", [
    FULL,
    etiu_roadmap(),
    FULL.replace(prod_upgrade=ProdUpgrade(datetime(2026, 11, 1, 1, 30), None)),
    etiu_roadmap(prod_upgrade=ProdUpgrade(datetime(2026, 11, 1, 1, 30), "UTC+5:30")),
], ids=["every field", "empty", "no zone label", "offset label only"])
def test_a_roadmap_reads_back_from_its_data_through_json(roadmap):
    assert roadmap_from_data(json.loads(json.dumps(roadmap_to_data(roadmap))), ETIU_LABELS) == roadmap


@pytest.mark.parametrize("data, message", [
    ({"kick_off": "2026-11-09"}, "unknown roadmap field(s) ['kick_off']"),
    ({"bp": "2026-13-03"}, "roadmap field bp '2026-13-03' does not read back"),
    ({"bp": 20261203}, "roadmap field bp 20261203 is neither an ISO date nor a wall time"),
    ({"bp": {"local": "2026-12-03T18:00", "zone_label": None}}, "Roadmap.bp must be a date"),
    ({"prod_upgrade": "2026-12-01"}, "Roadmap.prod_upgrade must be a ProdUpgrade"),
    ({"prod_upgrade": {"local": "2026-12-01T18:00"}}, "is neither an ISO date nor a wall time"),
    ({"prod_upgrade": {"local": "2026-12-01T18:00", "zone_label": "C S T"}}, "is not a zone label"),
    (["2026-11-09"], "a roadmap as data is a mapping"),
])
def test_data_that_is_not_a_stored_roadmap_is_refused_naming_the_field(data, message):
    with pytest.raises(ValueError) as error:
        roadmap_from_data(data, ETIU_LABELS)
    assert message in str(error.value)


# --- the old text form ----------------------------------------------------------------------


@pytest.mark.parametrize("key", [AGREED, CARRYING])
def test_a_roadmap_remembered_as_text_reads_as_the_same_roadmap_as_its_data(key):
    assert remembered_roadmap({key: old_form(FULL)}, key, ETIU_LABELS) == remembered_roadmap({key: roadmap_to_data(FULL)}, key, ETIU_LABELS) == FULL


@pytest.mark.parametrize("stored", ["", {}, None])
def test_an_empty_remembered_roadmap_is_none_in_either_form(stored):
    assert remembered_roadmap({AGREED: stored}, AGREED, ETIU_LABELS) is None


def test_upgrading_rewrites_text_as_data_and_leaves_the_rest_of_the_memory_alone():
    memory = {AGREED: old_form(FULL), CARRYING: old_form(etiu_roadmap(bp=date(2026, 12, 4))), "scheduled_start": "x"}
    assert upgraded(memory, ETIU_LABELS) == {AGREED: roadmap_to_data(FULL), CARRYING: {"bp": "2026-12-04"}, "scheduled_start": "x"}
    assert upgraded(upgraded(memory, ETIU_LABELS), ETIU_LABELS) == upgraded(memory, ETIU_LABELS)


# --- the engine ---------------------------------------------------------------------------


def test_the_agreed_roadmap_is_remembered_as_data():
    data = h.load("roadmap_date_carried")
    first = h.plan(data)
    second = h.plan(h.apply_writes(data, first), already_posted=h.posted([first]))
    assert second.memories["ENG-MASSIVE"][AGREED] == roadmap_to_data(FULL.replace(bp=date(2026, 12, 2)))


def test_the_dates_being_carried_are_remembered_as_data():
    first = h.plan("roadmap_date_carried")
    assert first.memories["ENG-MASSIVE"][CARRYING] == {"bp": "2026-12-02"}


def fixtures_with_memory() -> list[str]:
    return sorted(path.stem for path in h.FIXTURES.glob("*.toml") if h.load(path.stem).get("memory"))


@pytest.mark.parametrize("name", fixtures_with_memory())
def test_a_fixture_plans_the_same_whether_its_memory_holds_text_or_data(name):
    as_text = h.load(name)
    as_data = copy.deepcopy(as_text)
    as_data["memory"] = {key: as_new_release(memory) for key, memory in as_data["memory"].items()}
    from_text, from_data = h.plan(as_text), h.plan(as_data)
    assert h.describe(from_text) == h.describe(from_data)
    assert {key: as_new_release(memory) for key, memory in from_text.memories.items()} == from_data.memories


def as_new_release(memory: dict) -> dict:
    """The memory with each roadmap held as text parsed as the old release did, stored as data."""
    return {key: roadmap_to_data(parse_short_description(value, ETIU_LABELS).roadmap) if isinstance(value, str) and key in (AGREED, CARRYING)
            else value for key, value in memory.items()}


def test_a_carry_remembered_as_text_goes_on_as_one_remembered_as_data():
    data = h.load("roadmap_date_carried")
    memory = h.plan(data).memories["ENG-MASSIVE"]
    with_text = {**memory, CARRYING: old_form(remembered_roadmap(memory, CARRYING, ETIU_LABELS))}
    plans = [h.plan({**data, "memory": {"ENG-MASSIVE": remembered}}) for remembered in (with_text, memory)]
    assert h.describe(plans[0]) == h.describe(plans[1])
    assert plans[0].memories == plans[1].memories


# --- a state folder written by an earlier release -------------------------------------------


def test_a_journal_that_remembers_roadmaps_as_text_keeps_working_and_is_rewritten_as_data(monkeypatch, tmp_path):
    clock = TickingClock(FIXED_MOMENT)
    use_clock(monkeypatch, clock)
    sb = seeded_sandbox(FIXED_MOMENT.date())
    sb.store.now = clock
    try:
        settings = in_process_settings(sb, tmp_path / "state")
        converge(settings)
        with Journal.open(settings.state.dir) as journal:
            learnt = journal.all_engagement_states()
            journal.save_engagement_states({key: as_old_release(memory) for key, memory in learnt.items()})
        moved = move_bp_on_one_ticket(sb, clock())
        sb.reset_requests()

        cycle = run_cycle(settings)

        assert cycle.exit_code == 0, cycle
        # The remembered roadmap told the person's change from the old dates: no history was read.
        assert ("GET", "sys_audit") not in sb.requests
        assert {ticket_bp(ticket) for ticket in initech_tickets(sb)} == {moved}
        with Journal.open(settings.state.dir) as journal:
            remembered = journal.all_engagement_states()
        assert remembered[INITECH][CARRYING] == {"bp": moved}
        assert {key: memory for key, memory in remembered.items() if key != INITECH} == {
            key: memory for key, memory in learnt.items() if key != INITECH}
    finally:
        sb.stop()


INITECH = "ENG-INITECH"


def initech_tickets(sb) -> list[dict]:
    return sb.store.query("u_etiu_ticket", f"correlation_id={INITECH}")


def ticket_bp(ticket: dict) -> str:
    return ticket["short_description"].split("BP: ")[1].split(" | ")[0]


def move_bp_on_one_ticket(sb, at) -> str:
    """A person moves the BP date on one of the engagement's tickets; the new date."""
    ticket = initech_tickets(sb)[0]
    bp = ticket_bp(ticket)
    moved = "2026-10-30" if bp != "2026-10-30" else "2026-10-29"
    text = ticket["short_description"].replace(f"BP: {bp}", f"BP: {moved}")
    sb.store.update("u_etiu_ticket", ticket["sys_id"], {"short_description": text,
                                                        "sys_updated_on": at.strftime("%Y-%m-%d %H:%M:%S")})
    return moved


def as_old_release(memory: dict) -> dict:
    """The memory as an earlier release wrote it: each remembered roadmap as text."""
    return {key: old_form(roadmap_from_data(value, ETIU_LABELS)) if key in (AGREED, CARRYING) else value
            for key, value in memory.items()}
