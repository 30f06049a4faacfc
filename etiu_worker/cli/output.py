"""What some commands print besides their items: the sandbox's shell lines, one journal action, the
check that ``report --html`` can write its page. Kept apart so cli.py stays the commands' wiring."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import click

from .. import errors

SANDBOX_PASSWORD = "sandbox"  # the sandbox's default, documented in the README: not a secret


def sandbox_exports(url: str, user: str, password: str) -> list[str]:
    """Shell lines that point the worker at the sandbox; a password of the user's own is typed, not printed."""
    lines = ["point the worker at it (paste into a shell):",
             f"export ETIU_SERVICENOW__URL={shlex.quote(url)} ETIU_SERVICENOW__USER={shlex.quote(user)}"]
    if password == SANDBOX_PASSWORD:
        return [*lines, f"export ETIU_SERVICENOW__PASSWORD={SANDBOX_PASSWORD}"]
    return [lines[0].replace("):", "; then type the --password and Enter):"), lines[1],
            "read -rs ETIU_SERVICENOW__PASSWORD && export ETIU_SERVICENOW__PASSWORD"]


def show_entry(store, ref: str, schema, fmt: str) -> None:
    """Every journal entry of the note with reference ``ref``, newest first; exit 2 when there is none."""
    from ..report.text import journal_items, print_entry, write_journal

    entries = [entry for entry in store.entries() if entry.note_key and entry.note_key == ref]
    if not entries:
        click.echo(f"etiu-worker: no action in the journal has the note reference {ref!r}; "
                   "`etiu-worker journal` lists the actions with their refs", err=True)
        sys.exit(errors.EXIT_USAGE)
    if fmt != "text":
        write_journal(entries, fmt, schema)
        return
    for index, item in enumerate(journal_items(entries, schema, full=True)):
        if index:
            click.echo("")
        print_entry(item)


def require_folder_of(path: Path) -> None:
    """Stop before anything is printed when the page could not be written where asked."""
    folder = path.resolve().parent
    if not folder.is_dir():
        click.echo(f"etiu-worker: --html {path}: the folder {folder} does not exist; create it or choose another path",
                   err=True)
        sys.exit(errors.EXIT_INVALID_CONFIG)
