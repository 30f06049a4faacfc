"""Shared helpers for the playbook tests (tests/test_rules_*.py).

The shipped playbook is loaded once, the way the worker loads it. Fixtures are the TOML files in
packs/etiu/fixtures/ (the format etiu_worker/cycle/rule_tester.py documents); a test either runs one through the
offline tester, as `etiu-worker rules test` does, or plans a cycle on it with its own `at`,
memory and `already_posted`, and then looks at the planned writes.

Nothing here reads the real clock: every cycle is planned at the fixture's `now` or at the `at`
a test passes.
"""

from __future__ import annotations

import copy
import functools
import shutil
import tomllib
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterable

from etiu_worker.config import Settings
from etiu_worker.playbook.context import compute_facts
from etiu_worker.cycle.engine import CyclePlan, plan_cycle
from etiu_worker.engagement.values import format_sn_datetime
from etiu_worker.playbook.context import pack_engagements
from etiu_worker.engagement.roadmap import parse_short_description
from etiu_worker.engagement.roadmap_data import roadmap_from_data
from roadmap_helpers import ETIU_LABELS
from etiu_worker.actions.loading import load_packs
from etiu_worker.playbook.rules import Playbook
from etiu_worker.cycle.rule_tester import FixtureResult, _with_ids, carrier_rows, fixture_history, fixture_tables, run_fixture

ROOT = Path(__file__).resolve().parent.parent
SHIPPED_PACK = ROOT / "packs" / "etiu"
FIXTURES = SHIPPED_PACK / "fixtures"
SHORT_DESCRIPTION_MAX = 160
FLAG = "[ETIU FLAG]"
WARNING = "[ETIU WARNING]"
NOTE_KINDS = ("work_note", "comment", "flag")


@functools.lru_cache(maxsize=1)
def settings() -> Settings:
    return Settings()


@functools.lru_cache(maxsize=1)
def playbook() -> Playbook:
    """The shipped rules and templates, loaded and checked as `etiu-worker rules check` does."""
    [shipped] = load_packs(settings())
    return shipped


def fixture_path(name: str) -> Path:
    path = FIXTURES / (name if name.endswith(".toml") else f"{name}.toml")
    assert path.is_file(), f"no fixture {path}"
    return path


def load(name: str) -> dict[str, Any]:
    """A fixture's data, as a fresh dict a test may change."""
    return tomllib.loads(fixture_path(name).read_text(encoding="utf-8"))


def load_with(name: str, changes: dict[str, str]) -> dict[str, Any]:
    """A fixture's data with text replaced everywhere in the file (every ticket, the memory...)
    before it is read: the way to write a variant of a fixture in a test."""
    text = fixture_path(name).read_text(encoding="utf-8")
    for old, new in changes.items():
        assert old in text, f"{old!r} is not in {name}.toml"
        text = text.replace(old, new)
    return tomllib.loads(text)


def run(name: str) -> FixtureResult:
    """The fixture through the offline tester, as `etiu-worker rules test` runs it."""
    return run_fixture(fixture_path(name), playbook(), settings())


def engagements(data: dict[str, Any]):
    tables = fixture_tables(data, playbook(), "fixture")
    return pack_engagements(playbook(), tables, settings().worker.default_timezone)


def history(data: dict[str, Any]):
    """The fixture's [[audit]] rows as the cycle's history (None when it gives none), as the tester reads them."""
    carriers, field = carrier_rows(playbook(), fixture_tables(data, playbook(), "fixture"))
    return fixture_history(data, carriers, field)


def at_of(data: dict[str, Any]) -> datetime:
    moment = data["now"]
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def plan(
    data: dict[str, Any] | str,
    *,
    at: datetime | None = None,
    already_posted: Callable[[str, str], bool] | None = None,
) -> CyclePlan:
    """One cycle planned on a fixture (a name or its data), at its `now` unless `at` is given."""
    data = load(data) if isinstance(data, str) else data
    return plan_cycle(
        playbook(),
        engagements(data),
        copy.deepcopy(data.get("memory", {})),
        at or at_of(data),
        already_posted or (lambda sys_id, ref: False),
        history(data),
    )


def matched(cycle: CyclePlan | FixtureResult, engagement: str | None = None) -> set[str]:
    return {r.rule for r in cycle.results if r.matched and engagement in (None, r.engagement)}


def writes(cycle: CyclePlan | FixtureResult, *, kind: str | None = None, rule: str | None = None,
           target: str | None = None, number: str | None = None, engagement: str | None = None) -> list:
    """The planned writes that fit every criterion given."""
    return [
        w for w in cycle.writes
        if kind in (None, w.kind) and rule in (None, w.rule) and target in (None, w.target)
        and number in (None, w.number) and engagement in (None, w.engagement)
    ]


def one(cycle: CyclePlan | FixtureResult, **criteria):
    """The one planned write that fits the criteria; fails listing every write otherwise."""
    found = writes(cycle, **criteria)
    assert len(found) == 1, f"expected one write {criteria}, got {len(found)}:\n{describe(cycle)}"
    return found[0]


def notes(cycle: CyclePlan | FixtureResult) -> list:
    """Every planned write that posts a note (work note, comment or flag, or a note on a change)."""
    return [w for w in cycle.writes if w.note]


def describe(cycle: CyclePlan | FixtureResult) -> str:
    lines = []
    for w in cycle.writes:
        first = w.note.splitlines()[0] if w.note else ""
        lines.append(f"  {w.rule}: {w.kind} on {w.target} {w.number or '(new)'} {dict(w.fields)} {first[:90]}")
    return "\n".join(lines) or "  (no writes)"


def body(write) -> str:
    """A note without its footer line."""
    return write.note.rsplit("\n\n— etiu-worker", 1)[0]


def roadmap_of(text_or_data):
    """The roadmap in a short description, or in what the memory stores (data)."""
    if isinstance(text_or_data, str):
        return parse_short_description(text_or_data, ETIU_LABELS).roadmap
    return roadmap_from_data(text_or_data, ETIU_LABELS)


def agreed_roadmap(data: dict[str, Any], key: str, at: datetime | None = None):
    """The roadmap the worker decides every ticket of the engagement should carry."""
    engagement = next(e for e in engagements(data) if e.key == key)
    memory = data.get("memory", {}).get(key, {})
    return compute_facts(engagement, playbook(), memory, at or at_of(data), history(data)).sync.agreed


# --- the next cycle: what the instance holds once the planned writes were sent ----------------


def apply_writes(data: dict[str, Any], cycle: CyclePlan, *, at: datetime | None = None) -> dict[str, Any]:
    """The fixture as the next cycle would read it: every planned field written, every ticket
    created, sys_updated_on moved to `at`, and the memory the cycle left behind."""
    data = copy.deepcopy(data)
    stamp = format_sn_datetime(at or at_of(data))
    tables = {"u_etiu_ticket": "tickets", "change_request": "change_requests", "change_task": "change_tasks"}
    for name, rows in (("ticket", data.get("tickets", [])), ("change", data.get("change_requests", [])),
                       ("ctask", data.get("change_tasks", []))):
        # Pin the sys_ids the tester would have given, so that writes find their rows.
        for row, with_id in zip(rows, _with_ids(rows, name)):
            row.setdefault("sys_id", with_id["sys_id"])
    for index, write in enumerate(cycle.writes):
        rows = data.setdefault(tables[write.table], [])
        if write.is_create:
            rows.append({**write.fields, "sys_id": f"{index:032x}", "number": f"ETIU00NEW{index:02d}",
                         "sys_updated_on": stamp, "work_start": ""})
            continue
        for row in rows:
            if row["sys_id"] == write.sys_id and write.fields:
                row.update(write.fields)
                row["sys_updated_on"] = stamp
    data["memory"] = copy.deepcopy(cycle.memories)
    return data


def posted(cycles: Iterable[CyclePlan]) -> Callable[[str, str], bool]:
    """An `already_posted` that answers True for every note ref the given cycles planned."""
    refs = {w.note_ref for cycle in cycles for w in cycle.writes if w.note}
    return lambda sys_id, ref: ref in refs


# --- a copy of the shipped playbook, for the loading-error tests ------------------------------


def copy_playbook(tmp_path: Path) -> tuple[Path, Path]:
    """The shipped pack as a rules folder in the old layout (its pack.toml as playbook.toml beside
    the rules files) and a templates folder, as `load_playbook(rules, templates, schema)` reads them."""
    rules, templates = tmp_path / "rules", tmp_path / "templates"
    shutil.copytree(SHIPPED_PACK / "rules", rules)
    shutil.copy(SHIPPED_PACK / "pack.toml", rules / "playbook.toml")
    shutil.copytree(SHIPPED_PACK / "templates", templates)
    return rules, templates


def edit(path: Path, old: str, new: str) -> int:
    """Replace the one occurrence of `old` in the file; the 1-based line where it was."""
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} is not exactly once in {path.name}"
    line = text[: text.index(old)].count("\n") + 1
    path.write_text(text.replace(old, new), encoding="utf-8")
    return line
