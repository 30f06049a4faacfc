"""The SQLite files of the state folder: how to tell a damaged one, and how to open one read-only.

The journal and the record cache are SQLite databases the worker may find empty (a full disk),
truncated (a copy cut short), overwritten, or written by a newer etiu-worker. ``damage`` looks at
a file's header before SQLite does, so a damaged file is named with what is wrong with it
instead of failing somewhere in the middle of a cycle. The checks read 100 bytes and one
``stat``: they cost nothing on a large journal, unlike ``PRAGMA quick_check``.
"""

from __future__ import annotations

import inspect
import sqlite3
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

from ..errors import StateError

SQLITE_MAGIC = b"SQLite format 3\x00"
HEADER_SIZE = 100
SIDE_FILES = ("-wal", "-shm", "-journal")
BROKEN_SUFFIX = ".broken"

Method = TypeVar("Method", bound=Callable[..., Any])


def is_empty(path: Path) -> bool:
    """Whether ``path`` is missing or holds zero bytes (a full disk, a file created and never written)."""
    try:
        return path.stat().st_size == 0
    except FileNotFoundError:
        return True


def damage(path: Path) -> str | None:
    """What is wrong with the SQLite file at ``path`` (which exists and is not empty), or None."""
    size = path.stat().st_size
    with path.open("rb") as handle:
        header = handle.read(HEADER_SIZE)
    if len(header) < HEADER_SIZE or not header.startswith(SQLITE_MAGIC):
        return "it is not an SQLite database"
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    # The page count is only meaningful while its "valid for" counter matches the change counter.
    counted = header[24:28] == header[92:96]
    if page_size < 512 or page_size & (page_size - 1):
        return "its header is damaged"
    if counted and size < pages * page_size:
        return f"it is truncated ({size} of {pages * page_size} bytes)"
    return None


def user_version(path: Path) -> int:
    """The ``PRAGMA user_version`` stored in the file's header (bytes 60-63)."""
    with path.open("rb") as handle:
        header = handle.read(HEADER_SIZE)
    return int.from_bytes(header[60:64], "big")


def remove(path: Path) -> None:
    """Delete a database file with its WAL and shared-memory files.

    The side files go too: a stale WAL next to a new database would be replayed into it.
    """
    for name in (path.name, *(path.name + suffix for suffix in SIDE_FILES)):
        (path.parent / name).unlink(missing_ok=True)


def connect_read_only(path: Path, timeout: float) -> sqlite3.Connection:
    """A read-only connection, also on a read-only file system.

    ``mode=ro`` reads the WAL of a running worker; where SQLite cannot create the shared-memory
    file it needs for that (a read-only mount), the file is opened as immutable instead, which
    reads what the last checkpoint left in the main file.
    """
    try:
        connection = _connect_uri(path, "mode=ro", timeout)
        connection.execute("PRAGMA user_version").fetchone()
        return connection
    except sqlite3.OperationalError:
        return _connect_uri(path, "mode=ro&immutable=1", timeout)


def _connect_uri(path: Path, options: str, timeout: float) -> sqlite3.Connection:
    uri = f"{path.resolve().as_uri()}?{options}"
    return sqlite3.connect(uri, uri=True, timeout=timeout, isolation_level=None)


def guard_database_errors(describe: Callable[[Any, sqlite3.DatabaseError], str]) -> Callable[[type], type]:
    """A class decorator: an SQLite error in any public method becomes a ``StateError``.

    ``describe(instance, error)`` gives its message, naming the file and what to do, so that a
    damage SQLite only finds in the middle of a cycle still exits 3 with one line, not 70.
    """
    def decorate(cls: type) -> type:
        # Every public method, inherited ones (the journal's mixins) included.
        for name in dir(cls):
            member = inspect.getattr_static(cls, name)
            if inspect.isfunction(member) and not name.startswith("_"):
                setattr(cls, name, _guarded(member, describe))
        return cls
    return decorate


def _guarded(method: Method, describe: Callable[[Any, sqlite3.DatabaseError], str]) -> Method:
    @wraps(method)
    def call(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except sqlite3.DatabaseError as error:
            raise StateError(describe(self, error)) from None
    return call  # type: ignore[return-value]

