"""The actions part of the journal: what the worker did or planned, and how each went.

A mixin of ``Journal``: callers use ``Journal.record_action(s)``, ``finish_action(s)``, ``withdraw_actions``,
``pending_actions`` and ``entries``, and import ``ActionRecord`` and the outcomes from journal.py.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .journal_schema import ACTION_COLUMNS
from .journal_values import MAX_VALUE_CHARS, iso, parse, truncate

# An action kind is a name from the actions registry, which the journal does not know (state/
# imports nothing of the playbook): the worker passes the registry's names to ``Journal.open``.
_KIND_NAME = re.compile(r"[a-z][a-z0-9_]*")
PENDING = "pending"
PLANNED = "planned"
DONE = "done"
FAILED = "failed"
UNVERIFIED = "unverified"
RECORD_OUTCOMES = frozenset({PENDING, PLANNED})
FINISH_OUTCOMES = frozenset({DONE, FAILED, UNVERIFIED})
OUTCOMES = RECORD_OUTCOMES | FINISH_OUTCOMES

# A field name that looks like a credential: its value must never reach the state folder.
_CREDENTIAL_KEY = re.compile(
    r"pass(word|wd)|secret|token|authori[sz]ation|api[-_]?key|credential", re.IGNORECASE
)


_PLAIN_NAMES: set[str] = set()  # field names already found not to look like a credential
_PLAIN_NAMES_KEPT = 4096


# --- records -----------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class ActionRecord:
    """One action the worker takes or plans, as handed to ``Journal.record_action``.

    ``before`` and ``after`` map field names to ServiceNow string values. ``note_key`` names the
    note a ``work_note`` or ``comment`` action posts: finishing the action as done or unverified
    remembers the note in the same transaction, so a crash cannot leave it posted but forgotten.
    """

    run_id: str
    rule: str
    engagement: str
    table: str
    sys_id: str
    number: str
    target: str
    kind: str
    before: Mapping[str, str] = field(default_factory=dict)
    after: Mapping[str, str] = field(default_factory=dict)
    outcome: str = PENDING
    verification: str = ""
    error: str = ""
    note_key: str = ""


@dataclass(frozen=True)
class ActionFinish:
    """How one pending action ended, as handed to ``Journal.finish_actions``."""

    action_id: int
    outcome: str
    verification: str = ""
    error: str = ""
    after: Mapping[str, str] | None = None
    sys_id: str | None = None
    number: str | None = None


@dataclass(frozen=True, kw_only=True)
class JournalEntry(ActionRecord):
    """An action as stored: the record plus its id and the time it was recorded."""

    id: int
    time: datetime


class ActionsMixin:
    """Record, finish and list actions; needs the journal's ``_db``, ``_transaction``, ``_now``,
    ``_batched`` and ``_action_kinds`` (the kinds it may record; ``None``: any name).

    ``_remember_notes`` comes from the memory part: finishing a note action remembers the note.
    """

    def record_action(self, entry: ActionRecord) -> int:
        """Store an action (``pending`` before its write is sent, or ``planned``); return its id."""
        return self.record_actions([entry])[0]

    def record_actions(self, entries: Sequence[ActionRecord]) -> list[int]:
        """``record_action`` of each entry, in one transaction (one commit for a chunk of writes)."""
        if self._batched:
            raise RuntimeError("actions are recorded in their own transaction, committed before their write is sent")
        rows = [_action_row(entry, self._action_kinds) for entry in entries]
        with self._transaction() as db:
            stamp = iso(self._now())  # one step, one moment: the chunk's entries are recorded together
            ids = [int(db.execute(_INSERT, (stamp, *row)).lastrowid) for row in rows]
        return ids

    def finish_action(
        self,
        action_id: int,
        outcome: str,
        verification: str = "",
        error: str = "",
        after: Mapping[str, str] | None = None,
        *,
        sys_id: str | None = None,
        number: str | None = None,
    ) -> None:
        """Set the outcome of a pending action.

        ``after`` replaces the recorded after-values (say, as read back); ``sys_id`` and
        ``number`` fill in what a ``create_ticket`` only learns once the record exists.
        """
        self.finish_actions([ActionFinish(action_id, outcome, verification, error, after, sys_id, number)])

    def finish_actions(self, finishes: Sequence[ActionFinish]) -> None:
        """``finish_action`` of each, in one transaction: all of them are finished, or none."""
        for finish in finishes:
            if finish.outcome not in FINISH_OUTCOMES:
                raise ValueError(f"an action finishes as done, failed or unverified, not {finish.outcome!r}")
        with self._transaction() as db:
            stored = _pending_rows(db, [finish.action_id for finish in finishes])
            db.executemany(_FINISH, [_finish_row(finish) for finish in finishes])
            # A failed write posted nothing; an unverified one may have, so it counts as posted.
            self._remember_notes(db, [
                (finish.sys_id or stored[finish.action_id][1], *stored[finish.action_id][2:])
                for finish in finishes if stored[finish.action_id][2] and finish.outcome in (DONE, UNVERIFIED)
            ])

    def withdraw_actions(self, action_ids: Sequence[int], reason: str) -> None:
        """Pending actions whose write was never sent (the run stopped first) become ``planned``:
        decided, not taken. Recorded ahead of their request, they are known not to have left."""
        with self._transaction() as db:
            db.executemany(
                "UPDATE actions SET outcome = ?, error = ? WHERE id = ? AND outcome = ?",
                [(PLANNED, truncate(reason), action_id, PENDING) for action_id in action_ids],
            )

    def pending_actions(self) -> list[JournalEntry]:
        """Actions whose write was (perhaps) sent but whose outcome was never recorded, oldest first."""
        rows = self._db.execute(
            f"SELECT {ACTION_COLUMNS} FROM actions WHERE outcome = ? ORDER BY id", (PENDING,)
        ).fetchall()
        return [_entry(row) for row in rows]

    def entries(
        self,
        *,
        engagement: str | None = None,
        rule: str | None = None,
        outcome: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        run_id: str | None = None,
        limit: int | None = None,
    ) -> list[JournalEntry]:
        """Journal entries, newest first; ``since`` is inclusive and ``until`` exclusive."""
        conditions: list[str] = []
        parameters: list[Any] = []
        for column, value in (
            ("engagement = ?", engagement), ("rule = ?", rule), ("outcome = ?", outcome),
            ("run_id = ?", run_id),
            ("time >= ?", None if since is None else iso(since)),
            ("time < ?", None if until is None else iso(until)),
        ):
            if value is not None:
                conditions.append(column)
                parameters.append(value)
        where = f"WHERE {' AND '.join(conditions)}" if conditions else ""
        parameters.append(-1 if limit is None else limit)
        rows = self._db.execute(
            f"SELECT {ACTION_COLUMNS} FROM actions {where} ORDER BY time DESC, id DESC LIMIT ?",
            parameters,
        ).fetchall()
        return [_entry(row) for row in rows]



# --- helpers -----------------------------------------------------------------------------------

_INSERT = (
    "INSERT INTO actions (time, run_id, rule, engagement, table_name, sys_id, number,"
    " target, kind, before, after, outcome, verification, error, note_key)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


_FINISH = (
    "UPDATE actions SET outcome = ?, verification = ?, error = ?, after = coalesce(?, after),"
    " sys_id = coalesce(?, sys_id), number = coalesce(?, number) WHERE id = ?"
)
_IDS_PER_SELECT = 500  # under SQLite's oldest limit of 999 parameters a statement


def _pending_rows(db, action_ids: Sequence[int]) -> dict[int, tuple[str, str, str, str]]:
    """(outcome, sys_id, note_key, run_id) of each action, by id; ValueError unless all are pending."""
    rows: dict[int, tuple[str, str, str, str]] = {}
    for start in range(0, len(action_ids), _IDS_PER_SELECT):
        chunk = action_ids[start:start + _IDS_PER_SELECT]
        marks = ", ".join("?" * len(chunk))
        for id_, *row in db.execute(
                f"SELECT id, outcome, sys_id, note_key, run_id FROM actions WHERE id IN ({marks})", chunk):
            rows[id_] = tuple(row)
    for action_id in action_ids:
        if action_id not in rows:
            raise ValueError(f"no action {action_id} in the journal")
        if rows[action_id][0] != PENDING:
            raise ValueError(f"action {action_id} is {rows[action_id][0]}, not pending: it cannot be finished")
    return rows


def _finish_row(finish: ActionFinish) -> tuple[Any, ...]:
    after = _stored_values(finish.after) if finish.after is not None else None
    return (finish.outcome, truncate(finish.verification), truncate(finish.error), after,
            finish.sys_id, finish.number, finish.action_id)


def _action_row(entry: ActionRecord, known: frozenset[str] | None) -> tuple[Any, ...]:
    """The values ``_INSERT`` stores for an entry after its time, checked before anything is written."""
    _check_kind(entry.kind, known)
    if entry.outcome not in RECORD_OUTCOMES:
        raise ValueError(
            f"an action is recorded as pending or planned, not {entry.outcome!r}: "
            "finish_action sets the outcome"
        )
    return (
        entry.run_id, entry.rule, entry.engagement, entry.table, entry.sys_id, entry.number,
        entry.target, entry.kind, _stored_values(entry.before), _stored_values(entry.after),
        entry.outcome, truncate(entry.verification), truncate(entry.error), entry.note_key,
    )


def _check_kind(kind: str, known: frozenset[str] | None) -> None:
    """``kind`` is one of the ``known`` kinds; any name when the journal was given none."""
    if known is not None and kind not in known:
        raise ValueError(f"unknown action kind {kind!r}: expected one of {sorted(known)}")
    if not isinstance(kind, str) or not _KIND_NAME.fullmatch(kind):
        raise ValueError(f"action kind {kind!r} is not a name of lower-case letters, digits and _")


def _stored_values(values: Mapping[str, str]) -> str:
    """The JSON stored for before/after values: credential-looking names refused, long values cut."""
    stored: dict[str, str] = {}
    for name, value in values.items():
        if not isinstance(name, str) or not isinstance(value, str):
            raise TypeError(f"field values are strings, got {name!r}: {value!r}")
        if name not in _PLAIN_NAMES:
            _check_not_credential(name)
        stored[name] = value if len(value) <= MAX_VALUE_CHARS else truncate(value)
    return json.dumps(stored, ensure_ascii=False)


def _check_not_credential(name: str) -> None:
    """Refuse a credential-looking name; remember a plain one (a pack writes few distinct fields)."""
    if _CREDENTIAL_KEY.search(name):
        raise ValueError(f"field {name!r} looks like a credential: the state folder must never hold one")
    if len(_PLAIN_NAMES) < _PLAIN_NAMES_KEPT:
        _PLAIN_NAMES.add(name)


def _entry(row: tuple[Any, ...]) -> JournalEntry:
    (id_, time, run_id, rule, engagement, table, sys_id, number, target, kind, before, after,
     outcome, verification, error, note_key) = row
    return JournalEntry(
        id=id_, time=parse(time), run_id=run_id, rule=rule, engagement=engagement, table=table,
        sys_id=sys_id, number=number, target=target, kind=kind, before=json.loads(before),
        after=json.loads(after), outcome=outcome, verification=verification, error=error,
        note_key=note_key,
    )
