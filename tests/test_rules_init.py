"""`etiu-worker rules init DIR` copies a shipped pack for an admin to tune, and `rules check` and
`rules test` work on that copy (or on any one pack, with --pack), as an admin runs them."""

from __future__ import annotations

import re

import pytest

from integration_helpers import SHIPPED_PACK, copy_pack, describe, etiu, worker_env

PARTS = {"rules": "*.toml", "templates": "*.j2", "fixtures": "*.toml"}


def names_in(folder, pattern: str) -> list[str]:
    return sorted(path.name for path in folder.glob(pattern))


def test_rules_init_copies_the_whole_shipped_pack_and_says_how_to_check_it(tmp_path):
    target = tmp_path / "my-etiu"

    result = etiu(["rules", "init", str(target)], worker_env(tmp_path, password=None))

    assert result.returncode == 0, describe(result)
    assert (target / "pack.toml").read_bytes() == (SHIPPED_PACK / "pack.toml").read_bytes()
    for part, pattern in PARTS.items():
        assert names_in(target / part, pattern) == names_in(SHIPPED_PACK / part, pattern), part
    assert result.stdout.splitlines() == [
        f"copied the shipped pack etiu (pack.toml, 8 rules, 20 templates, 31 fixtures) to {target}",
        f"  check it with: ETIU_RULES__PATH={target} etiu-worker rules check",
    ]


def test_the_copy_checks_and_passes_its_own_fixtures(tmp_path):
    target = tmp_path / "my-etiu"
    target.mkdir()  # an empty folder is fine
    env = worker_env(tmp_path, password=None, RULES__PATH=str(target))
    assert etiu(["rules", "init", str(target)], env).returncode == 0

    checked = etiu(["rules", "check"], env)
    tested = etiu(["rules", "test"], env)

    assert checked.returncode == 0, describe(checked)
    assert checked.stdout.splitlines()[0] == f"8 rules in {target / 'rules'} are valid (pack etiu):"
    assert tested.returncode == 0, describe(tested)
    headers = [line for line in tested.stdout.splitlines() if line.startswith("== ")]
    assert len(headers) == len(names_in(target / "fixtures", "*.toml"))
    assert f"== {target / 'fixtures' / 'validation_overdue.toml'}" in tested.stdout


def a_file_of_yours(tmp_path):
    target = tmp_path / "taken"
    target.mkdir()
    (target / "notes.txt").write_text("mine", encoding="utf-8")
    return target, ["rules", "init", str(target)], f"{target} is not empty: name a new or empty folder"


def a_file_as_target(tmp_path):
    target = tmp_path / "a-file"
    target.write_text("mine", encoding="utf-8")
    return target, ["rules", "init", str(target)], f"{target} is a file"


def an_unknown_pack(tmp_path):
    target = tmp_path / "new"
    return target, ["rules", "init", str(target), "--pack", "etu"], "there is no shipped pack 'etu' (did you mean 'etiu'?)"


REFUSED = {"a folder that is not empty": a_file_of_yours, "a file": a_file_as_target,
           "a pack that is not shipped": an_unknown_pack}


@pytest.mark.parametrize("make", REFUSED.values(), ids=REFUSED.keys())
def test_rules_init_refuses_to_overwrite_or_guess_and_says_why(tmp_path, make):
    target, args, message = make(tmp_path)
    before = sorted(path.name for path in target.iterdir()) if target.is_dir() else None

    result = etiu(args, worker_env(tmp_path, password=None))

    assert result.returncode == 2, describe(result)
    assert message in " ".join(result.stderr.split()), describe(result)
    assert (sorted(path.name for path in target.iterdir()) if target.is_dir() else None) == before


def test_rules_check_with_pack_checks_only_that_pack(tmp_path):
    folder = copy_pack(tmp_path)
    (folder / "rules" / "70_support_week_ends.toml").unlink()

    by_path = etiu(["rules", "check", "--pack", str(folder)], worker_env(tmp_path, password=None))
    by_name = etiu(["rules", "check", "--pack", "etiu"], worker_env(tmp_path, password=None, RULES__PATH=str(folder)))

    assert by_path.returncode == 0, describe(by_path)
    assert by_path.stdout.splitlines()[0] == f"7 rules in {folder / 'rules'} are valid (pack etiu):"
    assert by_name.returncode == 0, describe(by_name)
    assert by_name.stdout.splitlines()[0] == f"8 rules in {SHIPPED_PACK / 'rules'} are valid (pack etiu):"


def test_rules_test_with_pack_runs_the_named_fixture_on_that_pack(tmp_path):
    folder = copy_pack(tmp_path)
    (folder / "rules" / "50_validation_length.toml").unlink()
    fixture = SHIPPED_PACK / "fixtures" / "validation_overdue.toml"

    result = etiu(["rules", "test", "--pack", str(folder), str(fixture)], worker_env(tmp_path, password=None))

    assert result.returncode == 3, describe(result)  # the fixture expects a rule this copy lacks
    assert "there is no rule 'validation_length'" in result.stderr, describe(result)


def test_rules_check_on_an_old_layout_folder_works_and_warns_once(tmp_path):
    folder = tmp_path / "rules"
    folder.mkdir()
    for path in (SHIPPED_PACK / "rules").glob("*.toml"):
        (folder / path.name).write_bytes(path.read_bytes())
    (folder / "playbook.toml").write_bytes((SHIPPED_PACK / "pack.toml").read_bytes())

    result = etiu(["rules", "check"], worker_env(tmp_path, password=None, RULES__PATH=str(folder)))

    assert result.returncode == 0, describe(result)
    assert result.stdout.splitlines()[0] == f"8 rules in {folder} are valid:"  # as before packs
    warnings = [line for line in result.stderr.splitlines() if "old layout" in line]
    assert len(warnings) == 1 and "etiu-worker rules init" in warnings[0], describe(result)


def test_the_rules_help_has_runnable_examples(tmp_path):
    result = etiu(["rules", "--help"], worker_env(tmp_path, password=None))

    examples = result.stdout.split("Examples:", 1)[1]
    assert re.search(r"etiu-worker rules init \S+", examples)
    assert re.search(r"etiu-worker rules check --pack \S+", examples)
