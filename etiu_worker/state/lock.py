"""One run at a time per state folder: an advisory lock the kernel releases if the process dies."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..errors import LockedError, StateError
from .journal_open import folder_problem

LOCK_NAME = "etiu-worker.lock"


@contextmanager
def exclusive_run(state_dir: Path) -> Iterator[None]:
    """Hold the state folder's lock, or raise LockedError at once when another run has it."""
    path = state_dir / LOCK_NAME
    try:
        state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:  # a read-only folder, a file where the folder should be
        raise StateError(folder_problem(state_dir, exc)) from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.read(fd, 32).decode(errors="replace").strip() or "unknown"
        os.close(fd)
        raise LockedError(f"another etiu-worker run (pid {holder}) holds {path}") from None
    try:
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
