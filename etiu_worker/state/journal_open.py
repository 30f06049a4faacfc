"""Opening the journal's file: a private file in a private folder, refused when it is damaged.

The journal is the worker's memory, not the truth: the instance is the authority. So a missing
or empty journal is a new one (said at WARNING, since the worker then has to look up on the
instance what it already did), while a damaged one stops the worker with exit 3 and the command
that moves it aside. Nothing here ever exits 70: a damaged file is the environment, not a bug.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from pathlib import Path

from .cache import CACHE_NAME
from ..errors import StateError
from .files import BROKEN_SUFFIX, connect_read_only, damage, is_empty

log = logging.getLogger(__name__)

DATABASE_NAME = "etiu-worker.sqlite3"
BUSY_TIMEOUT_SECONDS = 30.0
LOST_JOURNAL = (
    "the state folder has no journal; the instance is the authority, the worker will look up "
    "what it already did"
)
_CORRUPTION_WORDS = ("malformed", "not a database", "corrupt", "damaged")


def move_aside_advice(path: Path) -> str:
    return (
        f"move it aside (mv {path} {path}{BROKEN_SUFFIX}) and run again: the instance is the "
        "authority, the worker looks up there what it already did"
    )


def damaged_journal(path: Path, problem: str) -> StateError:
    return StateError(f"the journal {path} is damaged ({problem}): {move_aside_advice(path)}")


def journal_failure(path: Path, error: sqlite3.DatabaseError) -> str:
    """The message for an SQLite error met while using the journal at ``path``."""
    text = str(error)
    if any(word in text.lower() for word in _CORRUPTION_WORDS):
        return f"the journal {path} is damaged ({text}): {move_aside_advice(path)}"
    return f"the journal {path} cannot be used ({text}): check the state folder's disk and permissions"


def prepare_for_writing(state_dir: Path, path: Path) -> None:
    """Make the folder and the file ready for ``connect_for_writing``, or raise ``StateError``."""
    _say_if_lost(state_dir, path)
    if path.exists() and not is_empty(path):
        problem = damage(path)
        if problem:
            raise damaged_journal(path, problem)
    try:
        _create_private_file(state_dir, path)
    except OSError as exc:
        raise StateError(folder_problem(state_dir, exc)) from None


def folder_problem(state_dir: Path, exc: OSError) -> str:
    """One line for an OS error on the state folder: what, where, and what to do."""
    reason = exc.strerror or str(exc)
    return (
        f"the state folder {state_dir} cannot be written ({reason}): the worker records each "
        "action there before sending it; make it writable or point ETIU_STATE__DIR (state.dir) "
        "at a writable folder (journal and report only read it)"
    )


def require_journal(state_dir: Path) -> Path:
    """The journal's path, or ``StateError`` when the folder holds none (nothing is created)."""
    path = Path(state_dir) / DATABASE_NAME
    if not path.is_file() or is_empty(path):
        raise StateError(
            f"the state folder {state_dir} holds no journal: check ETIU_STATE__DIR (state.dir), "
            "or run etiu-worker run --once first"
        )
    return path


def connect_for_writing(path: Path) -> sqlite3.Connection:
    # isolation_level=None: the journal issues BEGIN and COMMIT itself, one step per transaction.
    connection = sqlite3.connect(path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None)
    try:
        connection.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_SECONDS * 1000)}")
        connection.execute("PRAGMA journal_mode = WAL")
        # FULL syncs the WAL at each commit: a "pending" row must survive a power cut as well,
        # since the write it announces may already be in ServiceNow.
        connection.execute("PRAGMA synchronous = FULL")
    except BaseException:
        connection.close()
        raise
    return connection


def connect_for_reading(path: Path) -> sqlite3.Connection:
    problem = damage(path)
    if problem:
        raise damaged_journal(path, problem)
    try:
        return connect_read_only(path, BUSY_TIMEOUT_SECONDS)
    except sqlite3.DatabaseError as error:
        raise StateError(journal_failure(path, error)) from None


def _say_if_lost(state_dir: Path, path: Path) -> None:
    """WARNING when a folder that held state has lost its journal, or holds an empty one."""
    if not is_empty(path):
        return
    # A first run in a new folder is not a loss: there is no journal yet, and no cache either.
    if path.exists() or (state_dir / CACHE_NAME).exists():
        log.warning("%s (%s)", LOST_JOURNAL, path)


def _create_private_file(state_dir: Path, path: Path) -> None:
    """Create the folder (0700) and the database file (0600) before SQLite opens it.

    SQLite gives its ``-wal`` and ``-shm`` files the database file's permissions.
    """
    if not state_dir.is_dir():
        state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(state_dir, 0o700)  # mkdir's mode is filtered by the umask
    try:
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        # Opened for writing once here, so a read-only folder is named with its errno (EROFS)
        # rather than as SQLite's "unable to open database file".
        os.close(os.open(path, os.O_RDWR))
        return
    try:
        os.fchmod(descriptor, 0o600)
    finally:
        os.close(descriptor)
