"""The Python code Jinja compiled a pack's conditions and templates into, kept in the state folder.

Compiling is most of what loading a pack costs (about 0.3 s of CPU for the five shipped packs),
and a worker run from cron loads its packs again every few minutes. A source compiles to the same
code as long as nothing that goes into compiling it changed, so each code object is kept under a
digest of all of that: its text, its kind and name, the environment's options and the names of
its filters and tests (the compiler refuses an unknown one), the labels the ``label`` filter
returns (the compiler folds a filter of a constant into the code), the worker's own source (the
filters are its functions), Jinja's version and Python's bytecode magic. Loading a pack is no
less strict for it: every check still runs, on the same code.

The file holds code that is run, so it is read only when this user owns it and no one else can
write it, the way ssh treats its keys; a damaged or untrusted file is ignored and written again.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import marshal
import os
import stat
from functools import lru_cache
from pathlib import Path
from types import CodeType

import jinja2

log = logging.getLogger(__name__)

FILE_NAME = "compiled-templates"
FORMAT = b"etiu-compiled-templates 1\n"


class CodeCache:
    """Code objects by the digest of what made them; the ones a load used are kept at ``save``."""

    def __init__(self, path: Path, stored: dict[str, bytes]) -> None:
        self.path = path
        self._stored = stored
        self._used: dict[str, bytes] = {}
        self.hits = self.misses = 0

    @classmethod
    def open(cls, state_dir: Path) -> CodeCache:
        """The cache in ``state_dir``; empty when there is none yet, or it cannot be trusted."""
        path = state_dir / FILE_NAME
        return cls(path, _read(path))

    def get(self, key: str) -> CodeType | None:
        data = self._used.get(key) or self._stored.get(key)
        if data is None:
            self.misses += 1
            return None
        try:
            code = marshal.loads(data)
        except (EOFError, ValueError, TypeError):
            self.misses += 1
            return None
        self._used[key] = data
        self.hits += 1
        return code

    def put(self, key: str, code: CodeType) -> None:
        self._used[key] = marshal.dumps(code)

    def save(self) -> None:
        """Keep exactly what this load used; write nothing when that is what the file holds."""
        if self._used == self._stored:
            return
        try:
            _write(self.path, self._used)
        except OSError as error:  # a cache: the next load compiles again
            log.debug("compiled templates not kept in %s: %s", self.path, error)


def digest(*parts: str) -> str:
    """The key of one compiled source: its parts, and what every compile here depends on."""
    hasher = hashlib.sha256(_compiler_identity().encode())
    for part in parts:
        hasher.update(b"\0" + part.encode())
    return hasher.hexdigest()


@lru_cache(maxsize=1)
def _compiler_identity() -> str:
    package = Path(__file__).resolve().parents[1]
    hasher = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        hasher.update(str(path.relative_to(package)).encode() + b"\0" + path.read_bytes())
    return f"{jinja2.__version__} {importlib.util.MAGIC_NUMBER.hex()} {hasher.hexdigest()}"


def _read(path: Path) -> dict[str, bytes]:
    try:
        with path.open("rb") as file:
            if not _trusted(os.fstat(file.fileno())):
                log.debug("compiled templates in %s ignored: not owned by this user, or writable by others", path)
                return {}
            data = file.read()
    except OSError:
        return {}
    if not data.startswith(FORMAT):
        return {}
    try:
        stored = marshal.loads(data[len(FORMAT):])
    except (EOFError, ValueError, TypeError):
        log.debug("compiled templates in %s ignored: damaged", path)
        return {}
    return stored if isinstance(stored, dict) else {}


def _trusted(status: os.stat_result) -> bool:
    return stat.S_ISREG(status.st_mode) and status.st_uid == os.getuid() and not status.st_mode & 0o022


def _write(path: Path, entries: dict[str, bytes]) -> None:
    partial = path.with_name(f"{path.name}.{os.getpid()}.partial")  # two runs may save at once
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        os.fchmod(file.fileno(), 0o600)
        file.write(FORMAT + marshal.dumps(entries))
    os.replace(partial, path)
