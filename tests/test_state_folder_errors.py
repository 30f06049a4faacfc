"""A state folder or config path the worker cannot use: one clear line and exit 3, never 70.

Tests run as root, which ignores permission bits; a read-only folder is therefore a real
read-only bind mount, made in a private mount namespace (``unshare -rm``) that only the worker's
process sees. Where the machine does not allow that, those tests are skipped and say why.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from etiu_worker.state.cache import CACHE_NAME
from etiu_worker.state.journal import DATABASE_NAME
from etiu_worker.state.lock import LOCK_NAME
from integration_helpers import (
    TIMEOUT,
    describe,
    error_line,
    etiu,
    sandbox,  # noqa: F401 - a fixture
    state_dir,
    used_state,  # noqa: F401 - a fixture
    worker_env,
)

READ_ONLY_MOUNT = 'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && shift && exec "$@"'


def run_on_read_only_folder(folder: Path, args: list[str], env) -> subprocess.CompletedProcess[str]:
    """The CLI with ``folder`` mounted read-only for it alone."""
    return subprocess.run(
        ["unshare", "-rm", "sh", "-c", READ_ONLY_MOUNT, "sh", str(folder), sys.executable, "-m", "etiu_worker", *args],
        env=dict(env), capture_output=True, text=True, encoding="utf-8", timeout=TIMEOUT,
    )


@pytest.fixture(scope="module")
def read_only_mounts(tmp_path_factory) -> None:
    probe = tmp_path_factory.mktemp("probe")
    try:
        result = subprocess.run(["unshare", "-rm", "sh", "-c", READ_ONLY_MOUNT + " 2>/dev/null", "sh", str(probe),
                                 "sh", "-c", f"! touch {probe}/x"], capture_output=True, timeout=TIMEOUT)
    except FileNotFoundError:
        pytest.skip("unshare is not installed: cannot make a read-only folder as root")
    if result.returncode != 0:
        pytest.skip(f"this machine allows no read-only bind mount in a user namespace: {result.stderr!r}")


def assert_no_traceback(result) -> None:
    assert "Traceback" not in result.stdout + result.stderr, describe(result)
    assert "internal error" not in result.stderr, describe(result)


@pytest.mark.parametrize("command", [["run", "--once"], ["plan"]])
def test_a_read_only_state_folder_stops_a_run_with_exit_3_saying_what_to_do(
        tmp_path, sandbox, used_state, read_only_mounts, command):
    result = run_on_read_only_folder(state_dir(tmp_path), command, used_state)

    assert result.returncode == 3, describe(result)
    line = error_line(result)
    assert str(state_dir(tmp_path)) in line and "Read-only file system" in line, line
    assert "make it writable" in line and "ETIU_STATE__DIR" in line, line
    assert_no_traceback(result)
    assert sum(sandbox.requests.values()) == 0


def test_journal_lists_the_entries_of_a_read_only_state_folder(tmp_path, used_state, read_only_mounts):
    result = run_on_read_only_folder(state_dir(tmp_path), ["journal", "--limit", "500"], used_state)

    assert result.returncode == 0, describe(result)
    assert "ENG-STARK" in result.stdout and "verified" in result.stdout
    assert_no_traceback(result)


def test_report_reads_a_read_only_state_folder(tmp_path, used_state, read_only_mounts):
    result = run_on_read_only_folder(state_dir(tmp_path), ["report"], used_state)

    assert result.returncode == 0, describe(result)
    assert "ENG-STARK" in result.stdout
    assert_no_traceback(result)


def test_journal_and_report_take_no_lock_and_change_no_state_file(tmp_path, used_state):
    lock = state_dir(tmp_path) / LOCK_NAME
    lock.unlink()
    files = (state_dir(tmp_path) / DATABASE_NAME, state_dir(tmp_path) / CACHE_NAME)
    before = [path.read_bytes() for path in files]

    for command in (["journal"], ["report"]):
        result = etiu(command, used_state)
        assert result.returncode == 0, describe(result)

    assert not lock.exists()
    assert [path.read_bytes() for path in files] == before


def a_file(tmp_path: Path) -> Path:
    path = tmp_path / "not-a-folder"
    path.write_text("x")
    return path


def a_folder(tmp_path: Path) -> Path:
    path = tmp_path / "a-folder"
    path.mkdir()
    return path


@pytest.mark.parametrize(("setting", "where", "expected"), [
    ("STATE__DIR", a_file, "invalid setting state.dir: '{path}' is a file, not a folder: point it at a folder"),
    ("CONFIG", a_folder, "config file {path} is a folder, not a file: point --config or ETIU_CONFIG at a TOML file"),
], ids=["ETIU_STATE__DIR is a file", "ETIU_CONFIG is a folder"])
@pytest.mark.parametrize("command", [["run", "--once"], ["journal"], ["report"], ["rules", "check"]])
def test_a_path_setting_of_the_wrong_kind_is_one_line_and_exit_3(tmp_path, sandbox, setting, where, expected, command):
    path = where(tmp_path)

    result = etiu(command, worker_env(tmp_path, sandbox, **{setting: str(path)}))

    assert result.returncode == 3, describe(result)
    assert expected.format(path=path) in error_line(result)
    assert_no_traceback(result)
    assert sum(sandbox.requests.values()) == 0


def test_a_state_folder_below_a_file_is_one_line_and_exit_3(tmp_path, sandbox):
    below = a_file(tmp_path) / "state"

    result = etiu(["run", "--once"], worker_env(tmp_path, sandbox, STATE__DIR=str(below)))

    assert result.returncode == 3, describe(result)
    line = error_line(result)
    assert f"the state folder {below} cannot be written (Not a directory)" in line, line
    assert_no_traceback(result)


@pytest.mark.parametrize("command", [["journal"], ["report"]])
def test_journal_and_report_on_a_folder_without_a_journal_say_so_and_create_nothing(tmp_path, command):
    wrong = tmp_path / "some-other-folder"
    wrong.mkdir()
    (wrong / "notes.txt").write_text("not the worker's")

    result = etiu(command, worker_env(tmp_path, password=None, STATE__DIR=str(wrong)))

    assert result.returncode == 3, describe(result)
    assert f"the state folder {wrong} holds no journal" in error_line(result)
    assert sorted(path.name for path in wrong.iterdir()) == ["notes.txt"]


def test_journal_on_a_missing_state_folder_says_it_holds_no_journal_yet_and_creates_nothing(tmp_path):
    result = etiu(["journal"], worker_env(tmp_path, password=None))

    assert result.returncode == 0, describe(result)
    assert f"the state folder {state_dir(tmp_path)} holds no journal yet" in result.stdout
    assert not state_dir(tmp_path).exists()


def test_report_on_a_journal_without_a_cache_says_to_run_first(tmp_path, used_state):
    (state_dir(tmp_path) / CACHE_NAME).unlink()

    result = etiu(["report"], used_state)

    assert result.returncode == 0, describe(result)
    assert "run --once" in result.stdout
    assert (state_dir(tmp_path) / DATABASE_NAME).is_file()
