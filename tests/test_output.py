"""What plan, journal, report and demo print, as people and scripts read it: at 80 columns, through a
pipe, as JSON and as CSV, with changes shown as changes and notes readable in full before they post."""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter
from pathlib import Path

import pytest

from etiu_worker.report.text import CYCLE_FIELDS, JOURNAL_FIELDS, REPORT_FIELDS
from etiu_worker.sandbox import Sandbox
from integration_helpers import PASSWORD, describe, etiu, worker_env

WIDTH = 80
DAY = r"\d{4}-\d{2}-\d{2}"


class Outputs:
    """One demo instance, planned, run once, then listed: every command's output, kept by name."""

    def __init__(self, base: Path, instance: Sandbox) -> None:
        self.base, self.instance, self.results = base, instance, {}

    def env(self, columns: str | None) -> dict[str, str]:
        env = worker_env(self.base, self.instance)
        if columns is None:
            del env["COLUMNS"]  # a pipe with no terminal width: cron mail, a log file, | grep
        else:
            env["COLUMNS"] = columns
        return env

    def run(self, name: str, *args: str, columns: str | None = str(WIDTH)) -> str:
        result = etiu(args, self.env(columns))
        assert result.returncode == 0, describe(result)
        self.results[name] = result.stdout
        return result.stdout

    def __getitem__(self, name: str) -> str:
        return self.results[name]


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    base = tmp_path_factory.mktemp("output")
    with Sandbox(seed_demo=True, password=PASSWORD).start(port=0) as instance:
        seen = Outputs(base, instance)
        for fmt in ("text", "json", "csv"):
            seen.run(f"plan {fmt}", "plan", "--format", fmt)
        seen.run("plan piped", "plan", columns=None)
        seen.run("plan full", "plan", "--full")
        seen.run("run", "run", "--once")
        for fmt in ("text", "json", "csv"):
            seen.run(f"journal {fmt}", "journal", "--limit", "500", "--format", fmt)
            seen.run(f"report {fmt}", "report", "--format", fmt)
        seen.run("journal piped", "journal", "--limit", "500", columns=None)
        seen.run("report piped", "report", columns=None)
        yield seen


def assert_readable(text: str, starts: set[str]) -> None:
    """No line over 80 characters but one holding a single unbreakable token, and each of ``starts``
    (an engagement key and record number) beginning a line, whole."""
    lines = text.splitlines()
    too_long = [line for line in lines if len(line) > WIDTH and len(line.split()) > 1]
    assert not too_long, too_long
    missing = {start for start in starts if not any(line.startswith(start + " ") for line in lines)}
    assert not missing, f"{sorted(missing)} do not begin a line whole:\n{text}"


def text_records(text: str) -> list[list[str]]:
    """The records of a text listing, continuation lines joined, each split into its `` · `` parts."""
    records: list[str] = []
    current = False
    for line in text.splitlines():
        if line.startswith("ENG-"):
            records.append(line)
            current = True
        elif current and line.startswith("    "):
            records[-1] += " " + line.strip()
        else:
            current = False
    return [record.split(" · ") for record in records]


def csv_rows(text: str) -> tuple[list[str], list[dict[str, str]]]:
    reader = csv.DictReader(io.StringIO(text))
    return list(reader.fieldnames or []), list(reader)


def csv_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "; ".join(value)
    return str(value)


def flat(text: str) -> str:
    return " ".join(text.split())


# --- 80 columns and pipes ---------------------------------------------------------------------


@pytest.mark.parametrize("name", ["plan text", "plan piped"])
def test_plan_at_80_columns_or_piped_starts_a_line_with_each_engagement_key_and_record_number(outputs, name):
    items = json.loads(outputs["plan json"])

    assert items
    assert_readable(outputs[name], {f"{item['engagement']} {item['number']}" for item in items})


@pytest.mark.parametrize("name", ["journal text", "journal piped"])
def test_the_journal_at_80_columns_or_piped_starts_a_line_with_each_engagement_key_and_record_number(outputs, name):
    items = json.loads(outputs["journal json"])

    assert items
    assert_readable(outputs[name], {f"{item['engagement']} {item['number']}" for item in items})


@pytest.mark.parametrize("name", ["report text", "report piped"])
def test_the_report_at_80_columns_or_piped_can_be_grepped_by_engagement_key(outputs, name):
    keys = {item["engagement"] for item in json.loads(outputs["report json"])}

    assert len(keys) > 10
    assert_readable(outputs[name], keys)
    for key in keys:
        grepped = [line for line in outputs[name].splitlines() if key in line]
        assert grepped and grepped[0].startswith(key + " "), key


def test_the_demo_at_80_columns_names_each_record_whole(tmp_path):
    env = worker_env(tmp_path, password=None)
    env["COLUMNS"] = str(WIDTH)

    result = etiu(["demo"], env)

    assert result.returncode == 0, describe(result)
    starts = {" ".join(record[0].split()[:2]) for record in text_records(result.stdout)}
    assert len(starts) > 10
    assert_readable(result.stdout, starts)


# --- JSON and CSV hold the same rows as the text ----------------------------------------------


def test_plan_as_json_and_csv_holds_the_rows_the_text_shows(outputs):
    items = json.loads(outputs["plan json"])
    header, rows = csv_rows(outputs["plan csv"])
    shown = Counter((record[0].split()[0], record[0].split()[1], record[1].split()[0])
                    for record in text_records(outputs["plan text"]))

    assert Counter((item["engagement"], item["number"], item["action"]) for item in items) == shown
    assert all(set(item) == set(CYCLE_FIELDS) for item in items)
    assert header == list(CYCLE_FIELDS)
    assert rows == [{name: csv_value(item[name]) for name in CYCLE_FIELDS} for item in items]
    assert {item["outcome"] for item in items} == {"planned"}


def test_the_journal_as_json_and_csv_holds_the_rows_the_text_shows(outputs):
    items = json.loads(outputs["journal json"])
    header, rows = csv_rows(outputs["journal csv"])
    shown = [(record[0].split()[0], record[0].split()[1], record[2]) for record in text_records(outputs["journal text"])]

    assert [(item["engagement"], item["number"], f"{item['action']} {item['outcome']}") for item in items] == shown
    assert header == list(JOURNAL_FIELDS)
    assert rows == [{name: csv_value(item[name]) for name in JOURNAL_FIELDS} for item in items]
    assert all(item["ref"] and item["note"] for item in items if item["action"] in ("work_note", "comment", "flag"))


def test_the_report_as_json_and_csv_holds_the_rows_the_text_shows(outputs):
    items = json.loads(outputs["report json"])
    header, rows = csv_rows(outputs["report csv"])
    shown = {record[0].split()[0]: record[1] for record in text_records(outputs["report text"])}

    assert {item["engagement"]: item["phase"] for item in items} == shown
    assert header == list(REPORT_FIELDS)
    assert rows == [{name: csv_value(item[name]) for name in REPORT_FIELDS} for item in items]
    acme = next(item for item in items if item["engagement"] == "ENG-ACME")
    assert acme["open_tickets"] == ["ETIU01"] and acme["scheduled"] is False and acme["flags"] == 0


# --- changes and notes, readable before they are posted ---------------------------------------


def test_a_roadmap_update_shows_the_dates_it_changes_and_a_state_change_the_state_names(outputs):
    items = json.loads(outputs["plan json"])
    roadmap = [item["change"] for item in items if item["action"] == "update_roadmap"]
    states = [item["change"] for item in items if item["action"] == "set_state"]

    assert roadmap and states
    for change in roadmap:
        moved = re.match(rf"BP: ({DAY}) → ({DAY})", change)
        assert moved and moved.group(1) != moved.group(2), change
    assert any(change.startswith("state: Work in Progress → Closed Complete") for change in states), states
    assert not [change for change in states if re.match(r"state: -?\d", change)], states


def test_plan_full_prints_every_note_whole_under_its_record_and_reference(outputs):
    items = [item for item in json.loads(outputs["plan json"]) if item["note"]]
    full = outputs["plan full"]

    assert items
    for item in items:
        header = f"{item['engagement']} {item['number']} {item['record']} · rule {item['rule']} · ref {item['ref']}"
        assert flat(header) in flat(full), header
        assert flat(item["note"]) in flat(full), item["note"]
    assert_readable(full, {f"{item['engagement']} {item['number']}" for item in items})


def test_journal_show_prints_the_whole_note_and_change_of_the_action_with_that_reference(outputs):
    entry = next(item for item in json.loads(outputs["journal json"]) if item["action"] == "set_state" and item["ref"])
    env = outputs.env(str(WIDTH))

    shown = etiu(["journal", "--show", entry["ref"]], env)

    assert shown.returncode == 0, describe(shown)
    assert shown.stdout.startswith(f"{entry['engagement']} {entry['number']} {entry['record']} · set_state done")
    state_change = entry["change"].split("; ")[0]  # the list adds the note's first line, cut
    assert re.match(r"state: [A-Z][a-z]+.* → [A-Z][a-z]+", state_change), state_change
    assert f"  change: {state_change}\n" in shown.stdout
    assert flat(entry["note"]) in flat(shown.stdout)


def test_journal_show_with_an_unknown_reference_is_one_line_and_exit_2(outputs):
    shown = etiu(["journal", "--show", "0123456789ab"], outputs.env(str(WIDTH)))

    assert shown.returncode == 2, describe(shown)
    assert shown.stdout == ""
    assert shown.stderr.count("\n") == 1 and "0123456789ab" in shown.stderr
