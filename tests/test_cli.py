"""The command line as a user meets it: help, exit codes and one-line errors, run as a subprocess."""

from __future__ import annotations

import re
import socket
import subprocess
import tomllib

import pytest
import requests

from etiu_worker.cli.commands import main
from integration_helpers import (
    PASSWORD,
    SHIPPED_RULES,
    copy_pack,
    TIMEOUT,
    base_env,
    describe,
    etiu,
    first_line,
    output,
    sandbox,  # noqa: F401 - a fixture
    start_etiu,
    worker_env,
)

EXIT_CODES = {"0", "1", "2", "3", "4", "5", "70"}


def shipped_rule_names() -> list[str]:
    names = []
    for path in sorted(SHIPPED_RULES.glob("*.toml")):
        rule = tomllib.loads(path.read_text(encoding="utf-8")).get("rule")
        if rule:
            names.append(rule["name"])
    return names


def error_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("etiu-worker:")]


def assert_no_traceback(result: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in output(result), describe(result)
    assert 'File "' not in output(result), describe(result)


# --- help --------------------------------------------------------------------------------------


def exit_code_of(entry_point, argv) -> int:
    """The process exit code ``entry_point(argv)`` would give: returning normally is 0."""
    try:
        entry_point(argv)
    except SystemExit as done:
        return 0 if done.code is None else done.code if isinstance(done.code, int) else 1
    return 0


def listed_commands(help_text: str) -> list[str]:
    section = help_text.split("Commands:", 1)[1].split("Examples:", 1)[0]
    return [match.group(1) for match in re.finditer(r"^  ([a-z][a-z-]*)\s", section, re.MULTILINE)]


def test_help_lists_every_subcommand_with_an_example_and_every_exit_code(tmp_path):
    result = etiu(["--help"], base_env(tmp_path))

    assert result.returncode == 0, describe(result)
    commands = listed_commands(result.stdout)
    assert {"demo", "run", "plan", "rules", "sandbox", "journal"} <= set(commands)
    examples = result.stdout.split("Examples:", 1)[1].split("Exit codes:", 1)[0]
    for command in commands:
        assert re.search(rf"etiu-worker (--config \S+ )?{command}\b", examples), f"no example for {command}"
    exit_codes = result.stdout.split("Exit codes:", 1)[1]
    assert EXIT_CODES <= set(re.findall(r"\b(\d+) [a-zA-Z]", exit_codes))


def test_every_subcommand_in_the_help_has_its_own_help(tmp_path, capsys):
    top = etiu(["--help"], base_env(tmp_path))
    commands = [[name] for name in listed_commands(top.stdout)]
    commands += [["rules", name] for name in ("check", "test", "init")]

    for command in commands:  # in-process, through the same entry point as the console script
        assert exit_code_of(main, [*command, "--help"]) == 0, f"{' '.join(command)} --help: {capsys.readouterr()}"
        printed = capsys.readouterr()
        assert printed.out.startswith(f"Usage: etiu-worker {' '.join(command)} "), printed.out


def test_the_rules_group_lists_check_init_and_test(tmp_path):
    result = etiu(["rules", "--help"], base_env(tmp_path))

    assert result.returncode == 0, describe(result)
    assert listed_commands(result.stdout + "\nExamples:") == ["check", "init", "test"]


def test_an_unknown_option_is_a_usage_error_with_exit_2(tmp_path):
    result = etiu(["run", "--twice"], base_env(tmp_path))

    assert result.returncode == 2, describe(result)
    assert "--twice" in result.stderr
    assert_no_traceback(result)


def test_the_sandbox_subcommand_serves_the_table_api_on_loopback_until_stopped(tmp_path):
    server = start_etiu(["sandbox", "--port", "0", "--no-demo", "--password", PASSWORD], base_env(tmp_path))
    try:
        announced = first_line(server)  # printed once the socket listens
        url = re.search(r"http://127\.0\.0\.1:\d+", announced)
        assert url, announced
        answer = requests.get(f"{url.group(0)}/api/now/table/u_etiu_ticket", auth=("admin", PASSWORD), timeout=10)
        assert answer.status_code == 200
        assert answer.json() == {"result": []}
    finally:
        server.terminate()
        out, err = server.communicate(timeout=TIMEOUT)
    assert server.returncode == 0, err
    assert PASSWORD not in announced + out + err
    assert "Traceback" not in err


def test_journal_on_a_fresh_state_folder_says_there_is_nothing_yet(tmp_path):
    result = etiu(["journal"], worker_env(tmp_path, password=None))

    assert result.returncode == 0, describe(result)
    assert "no entries" in result.stdout


def test_rules_test_runs_the_rules_offline_on_a_fixture(tmp_path):
    fixture = tmp_path / "empty.toml"
    fixture.write_text('now = 2026-11-20T15:00:00Z\n[expect]\nmatched = []\n', encoding="utf-8")

    result = etiu(["rules", "test", str(fixture)], worker_env(tmp_path, password=None))

    assert result.returncode == 0, describe(result)
    assert str(fixture) in result.stdout


# --- the demo ----------------------------------------------------------------------------------


def test_demo_sends_real_requests_to_the_sandbox_and_names_the_records(tmp_path):
    result = etiu(["demo"], base_env(tmp_path), cwd=tmp_path)

    assert result.returncode == 0, describe(result)
    assert re.search(r"Sandbox instance at http://127\.0\.0\.1:\d+", result.stdout), result.stdout
    counts = re.findall(r"^requests: (\d+) \((.*)\)$", result.stdout, re.MULTILINE)
    assert counts, result.stdout
    first_total, first_detail = counts[0]
    assert int(first_total) > 3
    assert "GET u_etiu_ticket" in first_detail and "PATCH" in first_detail
    # Records named by engagement and number, as the demo seeded them.
    assert re.search(r"│ ENG-[A-Z]+\s+│ \S.*│ (ETIU|CHG)\d{7}\s", result.stdout), result.stdout
    assert result.stdout.rstrip().endswith("this cycle wrote nothing.")
    assert_no_traceback(result)


# --- ServiceNow refuses or cannot be reached ---------------------------------------------------


def test_wrong_password_exits_4_without_traceback_or_password(tmp_path, sandbox):
    wrong = "Wr0ng-pa55word-NOT-TO-SHOW"
    result = etiu(["run", "--once"], worker_env(tmp_path, sandbox, password=wrong))

    assert result.returncode == 4, describe(result)
    [line] = error_lines(result.stderr)
    assert "AuthenticationError" in line and "401" in line
    assert "ETIU_SERVICENOW__PASSWORD" in result.stderr  # says what to check
    assert wrong not in output(result) and PASSWORD not in output(result)
    assert_no_traceback(result)
    assert sandbox.requests[("GET", "u_etiu_ticket")] == 1  # refused credentials are not retried


def test_unreachable_instance_exits_4_with_a_one_line_message(tmp_path):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))  # bound, never listening: connections are refused
        url = f"http://127.0.0.1:{closed.getsockname()[1]}"
        env = worker_env(tmp_path, url=url, SERVICENOW__MAX_ATTEMPTS="2", SERVICENOW__MAX_BACKOFF="0.01")
        result = etiu(["run", "--once"], env)

    assert result.returncode == 4, describe(result)
    [line] = error_lines(result.stderr)
    assert "could not connect to ServiceNow" in line and url.removeprefix("http://").split(":")[1] in line
    assert "ETIU_SERVICENOW__URL" in result.stderr
    assert_no_traceback(result)


# --- invalid rules and configuration: exit 3, nothing sent -------------------------------------


@pytest.fixture
def broken_rules(tmp_path):
    folder = copy_pack(tmp_path) / "rules"
    broken = sorted(path for path in folder.glob("*.toml") if path.name != "playbook.toml")[0]
    with broken.open("a", encoding="utf-8") as handle:
        handle.write("\nwhen = [\n")  # an unterminated array: not valid TOML
    return broken


def test_run_with_a_broken_rules_folder_exits_3_before_any_request(tmp_path, sandbox, broken_rules):
    env = worker_env(tmp_path, sandbox, RULES__PATH=str(broken_rules.parent.parent))
    result = etiu(["run", "--once"], env)

    assert result.returncode == 3, describe(result)
    assert broken_rules.name in result.stderr
    assert "Nothing was sent" in result.stderr
    assert_no_traceback(result)
    assert sum(sandbox.requests.values()) == 0, sandbox.requests


def test_plan_with_a_broken_rules_folder_exits_3_before_any_request(tmp_path, sandbox, broken_rules):
    result = etiu(["plan"], worker_env(tmp_path, sandbox, RULES__PATH=str(broken_rules.parent.parent)))

    assert result.returncode == 3, describe(result)
    assert sum(sandbox.requests.values()) == 0, sandbox.requests


def test_rules_check_on_the_shipped_rules_exits_0_and_lists_them(tmp_path):
    result = etiu(["rules", "check"], worker_env(tmp_path, password=None), cwd=tmp_path)

    assert result.returncode == 0, describe(result)
    names = shipped_rule_names()
    assert names
    assert f"{len(names)} rules in" in result.stdout
    for name in names:
        assert re.search(rf"^  {name}: \S", result.stdout, re.MULTILINE), f"{name} not listed:\n{result.stdout}"


def test_rules_check_on_a_broken_folder_exits_3_naming_the_file(tmp_path, broken_rules):
    result = etiu(["rules", "check"], worker_env(tmp_path, password=None, RULES__PATH=str(broken_rules.parent.parent)))

    assert result.returncode == 3, describe(result)
    [line] = error_lines(result.stderr)
    assert str(broken_rules) in line
    assert_no_traceback(result)


def write_rule_with_condition(tmp_path, condition: str):
    folder = copy_pack(tmp_path) / "rules"
    rule = folder / "99_misspelt.toml"
    rule.write_text(
        '[rule]\nname = "misspelt"\ndescription = "A typo."\norder = 99\n'
        f'when = ["{condition}"]\n'
        '[[rule.actions]]\ntype = "flag"\ntarget = "validation"\nkey = "k"\n'
        'template = "flag_validation_overdue.j2"\n',
        encoding="utf-8",
    )
    return rule


def test_rules_check_names_the_file_and_condition_of_a_misspelt_name(tmp_path):
    rule = write_rule_with_condition(tmp_path, "validation.runnning")

    result = etiu(["rules", "check"], worker_env(tmp_path, password=None, RULES__PATH=str(rule.parent.parent)))

    assert result.returncode == 3, describe(result)
    [line] = error_lines(result.stderr)
    assert rule.name in line and "runnning" in line


def test_rules_check_refuses_a_misspelt_name_in_an_is_not_none_condition(tmp_path):
    rule = write_rule_with_condition(tmp_path, "roadmap.prod_upgrad is not none")

    result = etiu(["rules", "check"], worker_env(tmp_path, password=None, RULES__PATH=str(rule.parent.parent)))

    assert result.returncode == 3, describe(result)  # not a condition that is silently always true
    [line] = error_lines(result.stderr)
    assert rule.name in line and "prod_upgrad" in line


@pytest.mark.parametrize(
    ("setting", "value", "named"),
    [
        ("SERVICENOW__URLL", "https://acme.service-now.com", "ETIU_SERVICENOW__URLL"),
        ("SERVICENOW__URL", "acme.service-now.com", "ETIU_SERVICENOW__URL"),
        ("SERVICENOW__PASSWORD", "", "ETIU_SERVICENOW__PASSWORD"),
    ],
    ids=["unknown key", "malformed URL", "empty password"],
)
def test_invalid_configuration_exits_3_with_one_line_naming_the_key(tmp_path, sandbox, setting, value, named):
    env = worker_env(tmp_path, sandbox)
    env[f"ETIU_{setting}"] = value

    result = etiu(["run", "--once"], env)

    assert result.returncode == 3, describe(result)
    [line] = error_lines(result.stderr)
    assert named in line
    assert len(result.stderr.strip().splitlines()) <= 2, result.stderr  # the line, and what to do
    assert_no_traceback(result)
    assert PASSWORD not in output(result)
    assert sum(sandbox.requests.values()) == 0, sandbox.requests


def test_a_missing_password_variable_exits_3_naming_it(tmp_path, sandbox):
    result = etiu(["run", "--once"], worker_env(tmp_path, sandbox, password=None))

    assert result.returncode == 3, describe(result)
    [line] = error_lines(result.stderr)
    assert "ETIU_SERVICENOW__PASSWORD" in line
    assert sum(sandbox.requests.values()) == 0


def test_the_worker_finds_the_shipped_rules_from_any_working_directory(tmp_path, sandbox):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = etiu(["plan"], worker_env(tmp_path, sandbox), cwd=elsewhere)

    assert result.returncode == 0, describe(result)
    assert "engagements" in result.stdout


# --- the sandbox's announcement and its port -------------------------------------------------


def sandbox_announcement(tmp_path, *args: str) -> list[str]:
    """The lines ``etiu-worker sandbox`` prints before serving, then the server is stopped."""
    server = start_etiu(["sandbox", "--port", "0", "--no-demo", *args], base_env(tmp_path))
    try:
        lines = [first_line(server)]
        while not lines[-1].lstrip().startswith(("export ETIU_SERVICENOW__PASSWORD", "read ")):
            lines.append(first_line(server))
    finally:
        server.terminate()
        server.communicate(timeout=TIMEOUT)
    return lines


def shell_lines(lines: list[str]) -> str:
    return "\n".join(line.strip() for line in lines if line.lstrip().startswith(("export ", "read ")))


def run_in_bash(script: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    show = 'printf "%s\\n" "$ETIU_SERVICENOW__URL" "$ETIU_SERVICENOW__USER" "$ETIU_SERVICENOW__PASSWORD"'
    return subprocess.run(["bash", "-c", f"set -e\n{script}\n{show}"], input=stdin, capture_output=True, text=True,
                          timeout=TIMEOUT, env={"PATH": "/usr/bin:/bin"})


def test_the_sandbox_prints_export_lines_that_set_the_variables_when_pasted_into_a_shell(tmp_path):
    lines = sandbox_announcement(tmp_path)
    url = re.search(r"http://127\.0\.0\.1:\d+", lines[0]).group(0)

    pasted = run_in_bash(shell_lines(lines))

    assert pasted.returncode == 0, pasted.stderr
    assert pasted.stdout.splitlines() == [url, "admin", "sandbox"]


def test_with_a_password_of_its_own_the_sandbox_prints_a_line_that_reads_it_instead_of_showing_it(tmp_path):
    password = "it's a $ecret; `x` & \"y\""
    lines = sandbox_announcement(tmp_path, "--user", "etiu worker", "--password", password)

    pasted = run_in_bash(shell_lines(lines), stdin=password + "\n")

    assert pasted.returncode == 0, pasted.stderr
    assert pasted.stdout.splitlines()[1:] == ["etiu worker", password]
    assert password not in "".join(lines)


def test_the_sandbox_on_a_port_in_use_says_so_in_one_line_and_exits_4(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        result = etiu(["sandbox", "--port", str(port), "--no-demo"], base_env(tmp_path))

    assert result.returncode == 4, describe(result)
    assert error_lines(result.stderr) == result.stderr.splitlines()
    assert len(result.stderr.splitlines()) == 1
    assert f"port {port}" in result.stderr and "in use" in result.stderr and "--port 0" in result.stderr
    assert_no_traceback(result)
