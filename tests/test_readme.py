"""The README's two set-up commands are a promise; these tests keep them and CI in step."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def setup_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"## Set-up: two commands.*?```sh\n(.*?)```", readme, flags=re.S).group(1)
    return [line for line in block.splitlines() if line and not line.startswith("#")]


def test_readme_has_exactly_two_setup_commands():
    commands = setup_commands()
    assert len(commands) == 2
    assert commands[0].endswith("etiu-worker demo")
    assert "pytest" in commands[1]


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text()
    test_command = setup_commands()[1]
    ci_command = [line for line in ci.splitlines() if "pytest" in line and not line.startswith("#")][0]
    assert ci_command.replace(" -q", "") == test_command


def test_readme_lists_every_exit_code_the_cli_documents():
    from etiu_worker.cli import commands as cli

    readme = (ROOT / "README.md").read_text()
    for code in re.findall(r"^\s+(\d+)\s", cli.__doc__, flags=re.M):
        assert f"| {code} |" in readme, f"exit code {code} is not in the README"
