"""A digest of what incremental evaluation reads from the journal: every engagement's memory and
evaluation mark, as stored. Two equal digests mean neither changed (cycle/quiet.py), whoever
wrote them: a cycle, or a command that forgot an engagement or the instance."""

from __future__ import annotations

import hashlib

# One text per table, joined by SQLite (control characters apart the fields): hashing it once
# costs far less than a row at a time in Python.
_TEXTS = (
    "SELECT group_concat(key || char(31) || state, char(30)) FROM (SELECT key, state FROM engagement_state ORDER BY key)",
    "SELECT group_concat(key || char(31) || fingerprint || char(31) || wake_at, char(30))"
    " FROM (SELECT key, fingerprint, wake_at FROM evaluations ORDER BY key)",
)


class BasisMixin:
    """``Journal.evaluation_digest``; mixed into ``Journal`` (journal.py)."""

    def evaluation_digest(self) -> str:
        digest = hashlib.blake2b(digest_size=16)
        for query in _TEXTS:
            (text,) = self._db.execute(query).fetchone()
            digest.update((text or "").encode("utf-8") + b"\x1d")
        return digest.hexdigest()
