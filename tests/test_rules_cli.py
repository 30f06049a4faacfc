"""`etiu-worker rules check` and `rules test` as an admin runs them: they only read files, so their
errors end with what to fix and how to check again, never with "Nothing was sent to ServiceNow"
(as if they could have sent something)."""

from __future__ import annotations

import shutil

import pytest

from integration_helpers import REPO, SHIPPED_RULES, describe, etiu, worker_env

FIXTURE = REPO / "packs" / "etiu" / "fixtures" / "validation_overdue.toml"


def without_playbook(tmp_path):
    """A rules folder in the old layout (rules files, no pack.toml) without its playbook.toml."""
    folder = tmp_path / "rules"
    shutil.copytree(SHIPPED_RULES, folder)
    return folder


def fixture_with_a_misspelt_rule(tmp_path):
    fixture = tmp_path / "typo.toml"
    fixture.write_text(FIXTURE.read_text(encoding="utf-8").replace('"validation_length"', '"validation_lenght"'),
                       encoding="utf-8")
    return fixture


CASES = {
    "rules check without playbook.toml": (
        lambda tmp_path: (["rules", "check"], {"RULES__PATH": str(without_playbook(tmp_path))}),
        "playbook.toml is missing", "rules check",
    ),
    "rules test without playbook.toml": (
        lambda tmp_path: (["rules", "test", str(FIXTURE)], {"RULES__PATH": str(without_playbook(tmp_path))}),
        "playbook.toml is missing", "rules test",
    ),
    "rules test on a fixture expecting a misspelt rule": (
        lambda tmp_path: (["rules", "test", str(fixture_with_a_misspelt_rule(tmp_path))], {}),
        "there is no rule 'validation_lenght' (did you mean 'validation_length'?)", "rules test",
    ),
}


@pytest.mark.parametrize(("make", "error", "command"), CASES.values(), ids=CASES.keys())
def test_a_rules_command_error_ends_with_how_to_check_again_not_with_what_was_not_sent(tmp_path, make, error, command):
    args, settings = make(tmp_path)

    result = etiu(args, worker_env(tmp_path, password=None, **settings))

    assert result.returncode == 3, describe(result)
    first, advice = result.stderr.strip().splitlines()
    assert first.startswith("etiu-worker: RulesError: ") and error in first, describe(result)
    assert advice == f"  Fix the setting or file named above and run etiu-worker {command} again."
    assert "Nothing was sent" not in result.stderr


def test_run_still_says_nothing_was_sent_when_the_playbook_is_missing(tmp_path):
    result = etiu(["plan"], worker_env(tmp_path, url="http://127.0.0.1:9", RULES__PATH=str(without_playbook(tmp_path))))

    assert result.returncode == 3, describe(result)
    assert "playbook.toml is missing" in result.stderr
    assert result.stderr.strip().endswith("Nothing was sent to ServiceNow. Fix the setting or file named above and run again.")
