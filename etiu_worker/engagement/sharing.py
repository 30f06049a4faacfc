"""One string object for each repeated field name and value across many raw rows. No I/O.

A table read in full holds the same texts thousands of times over (the state, the user who last
updated, a reference, a date shared by a bulk load), each row decoded into its own copies. Sharing
them leaves the rows equal to what they were, in about half the memory.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable


def shared(rows: Iterable[dict], memo: dict[str, str] | None = None) -> list[dict]:
    """``rows`` as new equal dicts whose names are interned and whose text values are taken from
    ``memo`` (a table's pages share one; it holds each distinct value once, so drop it after)."""
    memo = {} if memo is None else memo
    one = memo.setdefault
    intern = sys.intern  # field names: few, and the same in every table and cycle
    return [{intern(name): one(value, value) if type(value) is str else value for name, value in row.items()}
            for row in rows]
