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


def print_engagements(report, rows, *, title: str = "Engagements", selection: str = "") -> None:
    """The coordinator's table (``etiu-worker report``), then the open flags of the rows shown.

    Record text goes into ``Text`` objects, never markup: a client called ``[bold]`` stays so.
    """
    from rich.text import Text

    last = report.last_run
    source = (f"records as the worker left them after run {last.id} "
              f"({(last.finished_at or last.started_at):%Y-%m-%d %H:%M} UTC)") if last else "no run in the journal yet"
    console.print(Text(f"{len(rows)} of {len(report.rows)} engagements{f' ({selection})' if selection else ''}; "
                       f"dates as of {report.generated_at:%Y-%m-%d %H:%M} UTC; {source}."))
    if not rows:
        console.print("No engagement matches.")
        return
    table = Table(title=title, show_lines=False)
    for column in ("engagement", "client", "phase", "kickoff", "dev upgrade", "prod upgrade", "BP", "support week",
                   "open tickets", "scheduled", "flags", "next deadline", "consultant"):
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*(Text(cell) for cell in _engagement_cells(row)))
    console.print(table)
    flagged = [row for row in rows if row.flags or row.problems]
    if flagged:
        console.print("Open flags:")
    for row in flagged:
        console.print(Text(f"  {row.key} {row.client} ({row.flag_count} open)"))
        for flag in row.flags:
            mark = "warning" if flag.severity == "warning" else "flag"
            where = f" [{', '.join(flag.numbers)}]" if flag.numbers else ""
            console.print(Text(f"    {mark} {flag.rule}: {flag.message}{where}"))
        for problem in row.problems if not row.flags else ():
            console.print(Text(f"    needs attention: {problem}"))


def _engagement_cells(row) -> tuple[str, ...]:
    roadmap = row.roadmap

    def day(value) -> str:
        return value.isoformat() if value else "—"

    week = (f"{day(roadmap.support_week_first)} to {day(roadmap.support_week_last)}"
            if roadmap.support_week_first else day(roadmap.support_week))
    scheduled = "yes" if row.scheduled else "no (cancelled)" if row.cancelled else "no"
    deadline = row.next_deadline
    due = f"{deadline.what} {deadline.text}{' (overdue)' if deadline.overdue else ''}" if deadline else "—"
    return (row.key, row.client, row.phase, day(roadmap.kickoff), day(roadmap.dev_upgrade),
            roadmap.prod_upgrade or "—", day(roadmap.bp), week, " ".join(row.open_tickets) or "—",
            scheduled, str(row.flag_count), due, row.consultant or "—")
