"""The journal's SQLite schema, as the list of migrations that build it.

``PRAGMA user_version`` is the number of migrations a database has applied; ``Journal.open``
applies the rest. A database written by a newer etiu-worker (a higher version) is refused.
"""

from __future__ import annotations

# Each migration is a list of statements, applied in one transaction; ``PRAGMA user_version``
# is the number of migrations applied. Append, never edit: databases in the field hold them.
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """CREATE TABLE runs (
            id TEXT PRIMARY KEY,
            started_at TEXT NOT NULL,
            finished_at TEXT,
            outcome TEXT,
            counts TEXT NOT NULL DEFAULT '{}'
        )""",
        "CREATE INDEX runs_started ON runs (started_at)",
        # AUTOINCREMENT: an action id printed in a log never names another action after a prune.
        """CREATE TABLE actions (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            time TEXT NOT NULL,
            run_id TEXT NOT NULL,
            rule TEXT NOT NULL,
            engagement TEXT NOT NULL,
            table_name TEXT NOT NULL,
            sys_id TEXT NOT NULL,
            number TEXT NOT NULL,
            target TEXT NOT NULL,
            kind TEXT NOT NULL,
            before TEXT NOT NULL,
            after TEXT NOT NULL,
            outcome TEXT NOT NULL,
            verification TEXT NOT NULL,
            error TEXT NOT NULL,
            note_key TEXT NOT NULL
        )""",
        "CREATE INDEX actions_time ON actions (time)",
        "CREATE INDEX actions_engagement ON actions (engagement, time)",
        "CREATE INDEX actions_run ON actions (run_id)",
        "CREATE INDEX actions_pending ON actions (id) WHERE outcome = 'pending'",
        """CREATE TABLE notes (
            sys_id TEXT NOT NULL,
            key TEXT NOT NULL,
            run_id TEXT NOT NULL,
            time TEXT NOT NULL,
            PRIMARY KEY (sys_id, key)
        ) WITHOUT ROWID""",
        """CREATE TABLE flags (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            engagement TEXT NOT NULL,
            rule TEXT NOT NULL,
            key TEXT NOT NULL,
            table_name TEXT NOT NULL,
            sys_id TEXT NOT NULL,
            number TEXT NOT NULL,
            message TEXT NOT NULL,
            opened_at TEXT NOT NULL,
            resolved_at TEXT
        )""",
        # At most one open flag per problem; a resolved problem that comes back is a new flag.
        "CREATE UNIQUE INDEX flags_open ON flags (engagement, rule, key) WHERE resolved_at IS NULL",
        "CREATE INDEX flags_resolved ON flags (resolved_at) WHERE resolved_at IS NOT NULL",
        """CREATE TABLE engagement_state (
            key TEXT PRIMARY KEY,
            state TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )""",
        """CREATE TABLE watermarks (
            table_name TEXT PRIMARY KEY,
            value TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )""",
        "CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
    ),
    (
        # The watermarks live in the record cache, with the records they stand for; the
        # journal's copies were never used. ``meta`` now holds the instance the folder is for.
        "DROP TABLE watermarks",
        "DELETE FROM meta WHERE name = 'last_full_sync'",
    ),
    (
        # A flag's severity and kind are stored when it is opened, not parsed back out of its
        # text and key. Existing flags get what that parsing gave: a warning's message starts
        # with the warning marker; the kind is the rule's own key (after the record slot) up to
        # its first "|" or ":". The engine's own flags have no slot: their kind is their prefix.
        "ALTER TABLE flags ADD COLUMN severity TEXT NOT NULL DEFAULT 'problem'",
        "ALTER TABLE flags ADD COLUMN kind TEXT NOT NULL DEFAULT ''",
        "UPDATE flags SET severity = 'warning' WHERE substr(message, 1, 14) = '[ETIU WARNING]'",
        "UPDATE flags SET kind = CASE WHEN instr(key, ':') > 0 THEN substr(key, instr(key, ':') + 1) ELSE key END",
        "UPDATE flags SET kind = substr(kind, 1, instr(kind, '|') - 1) WHERE instr(kind, '|') > 0",
        "UPDATE flags SET kind = substr(kind, 1, instr(kind, ':') - 1) WHERE instr(kind, ':') > 0",
        "UPDATE flags SET kind = 'clock-gap' WHERE substr(key, 1, 10) = 'clock-gap:'",
        "UPDATE flags SET kind = 'not-saved' WHERE substr(key, 1, 10) = 'not-saved:'",
    ),
    (
        # Incremental evaluation: what each engagement was last evaluated from (a fingerprint of
        # its records, its memory, the packs and the settings) and when a moment it depends on
        # passes. A folder from before has none: its first cycle evaluates every engagement.
        """CREATE TABLE evaluations (
            key TEXT PRIMARY KEY,
            fingerprint TEXT NOT NULL,
            wake_at TEXT NOT NULL
        ) WITHOUT ROWID""",
    ),
)
SCHEMA_VERSION = len(MIGRATIONS)

ACTION_COLUMNS = (
    "id, time, run_id, rule, engagement, table_name, sys_id, number, target, kind, before, "
    "after, outcome, verification, error, note_key"
)
FLAG_COLUMNS = (
    "id, engagement, rule, key, table_name, sys_id, number, message, opened_at, resolved_at, severity, kind"
)
