"""The README's walk-through (a new step, and a rule that reads it) works as written: its blocks,
put where their first line says, make a pack that `rules check` accepts and whose fixture matches."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from integration_helpers import REPO, base_env, describe, etiu

README = (REPO / "README.md").read_text(encoding="utf-8")
WALK = README.split("#### Walk-through: a new step", 1)[1].split("\nDeprecated, read for one release", 1)[0]
BLOCK = re.compile(r"```(?:toml|jinja)\n(.*?)```", re.S)
PLACE = re.compile(r"^(?:# (append to )?|\{# )my-etiu/(\S+?)(?: #\})?$")


def blocks() -> list[tuple[str, bool, str]]:
    """(path in the pack, append?, text) for each block of the walk-through."""
    found = []
    for block in BLOCK.findall(WALK):
        lines = [line.removeprefix("   ") for line in block.splitlines()]
        place = PLACE.match(lines[0])
        assert place, f"a walk-through block must say where it goes on its first line: {lines[0]!r}"
        found.append((place.group(2), bool(place.group(1)), "\n".join(lines[1:]) + "\n"))
    return found


@pytest.fixture(scope="module")
def walked(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    tmp_path = tmp_path_factory.mktemp("walk")
    env = {**base_env(tmp_path), "ETIU_RULES__PATH": str(tmp_path / "my-etiu")}
    assert etiu(["rules", "init", str(tmp_path / "my-etiu")], base_env(tmp_path)).returncode == 0
    for path, append, text in blocks():
        target = tmp_path / "my-etiu" / path
        target.write_text((target.read_text(encoding="utf-8") + "\n" if append else "") + text, encoding="utf-8")
    return tmp_path, env


def test_the_walk_through_has_the_step_the_rule_the_note_and_the_fixture():
    assert [path for path, _, _ in blocks()] == [
        "pack.toml", "rules/55_dev_upgrade_length.toml", "templates/flag_dev_upgrade_overdue.j2",
        "fixtures/dev_upgrade_overdue.toml"]


def test_the_walked_pack_passes_rules_check_with_the_new_rule(walked):
    _, env = walked
    result = etiu(["rules", "check"], env)

    assert result.returncode == 0, describe(result)
    assert "dev_upgrade_length: Flag a dev upgrade still open three business days after it started." in result.stdout


def test_the_walked_fixture_matches_the_new_rule_and_would_flag_the_dev_upgrade(walked):
    tmp_path, env = walked
    result = etiu(["rules", "test", str(tmp_path / "my-etiu" / "fixtures" / "dev_upgrade_overdue.toml")], env)

    assert result.returncode == 0, describe(result)
    assert re.search(r"MATCH ENG-DEMO +dev_upgrade_length", result.stdout)
    assert "would flag on ETIU02 ETIU0900002" in result.stdout
    assert "[ETIU FLAG] The dev upgrade of Demo Corp started 2026-11-06 10:00 EST" in result.stdout  # the note, cut


def test_the_walked_pack_keeps_every_shipped_fixture_passing(walked):
    _, env = walked
    result = etiu(["rules", "test"], env)

    assert result.returncode == 0, describe(result)
