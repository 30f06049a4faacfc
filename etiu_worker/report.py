"""Printing for people: what a cycle did or would do, record by record, and the journal."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from .journal import ENTRY_COLUMNS, format_change, format_entries

console = Console(highlight=False, soft_wrap=False)


def print_cycle(report) -> None:
    plan = report.plan
    verb = "would do" if report.dry_run else "did"
    console.print(
        f"run {report.run_id}: {len(plan.engagements)} engagements, {len(plan.writes)} writes planned"
        f" in {report.duration:.2f}s"
    )
    rows = _cycle_rows(report)
    if rows:
        table = Table(title=f"What the worker {verb}", show_lines=False)
        for column in ("engagement", "record", "number", "rule", "action", "change", "outcome"):
            table.add_column(column, overflow="fold")
        for row in rows:
            table.add_row(*row)
        console.print(table)
    else:
        console.print("Nothing to do: every engagement is in line with the playbook.")
    if report.requests:
        requests = ", ".join(f"{method} {table} {count}" for (method, table), count in sorted(report.requests.items()))
        console.print(f"requests: {sum(report.requests.values())} ({requests})")
    for outcome in report.failed:
        console.print(f"[red]{outcome.status}[/red]: {outcome.write.kind} on {outcome.number or outcome.write.target}: {outcome.error or outcome.verification}")


def _cycle_rows(report) -> list[tuple[str, ...]]:
    outcomes = {id(outcome.write): outcome for outcome in report.outcomes}
    rows = []
    for write in report.plan.writes:
        outcome = outcomes.get(id(write))
        status = "planned" if outcome is None else outcome.status
        number = (outcome.number if outcome else "") or write.number or "(new)"
        after = dict(write.fields)
        if write.note:
            after[write.note_field] = write.note.splitlines()[0]
        rows.append((write.engagement, write.target, number, write.rule, write.kind, format_change(write.before, after), status))
    return rows


def print_journal(entries) -> None:
    if not entries:
        console.print("The journal has no entries that match.")
        return
    table = Table()
    for column in ENTRY_COLUMNS:
        table.add_column(column, overflow="fold")
    for row in format_entries(entries):
        table.add_row(*row)
    console.print(table)
