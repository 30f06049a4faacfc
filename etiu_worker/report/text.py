"""Printing for people and scripts: what a cycle did or would do, the journal, the coordinator's table.

Each is first a list of items (dicts whose field names are documented in the README and stay
stable for scripts), then text (see output.py), JSON or CSV of the same items.
"""

from __future__ import annotations

from collections.abc import Sequence

import click

from .changes import format_change, format_entries
from ..config import SchemaSettings
from .output import echo_text, echo_wrapped, labelled, print_rows, write_items

CYCLE_COLUMNS = ("engagement", "record", "number", "rule", "action", "change", "outcome")
CYCLE_FIELDS = (*CYCLE_COLUMNS, "ref", "note")
JOURNAL_COLUMNS = ("time", "run", "rule", "engagement", "record", "number", "action", "change", "outcome",
                   "verification", "ref")
JOURNAL_FIELDS = (*JOURNAL_COLUMNS, "note")
REPORT_COLUMNS = ("engagement", "client", "phase", "kickoff", "dev upgrade", "prod upgrade", "BP", "support week",
                  "open tickets", "scheduled", "flags", "next deadline", "consultant")
REPORT_FIELDS = ("engagement", "client", "phase", "kickoff", "dev_upgrade", "prod_upgrade", "bp",
                 "support_week_first", "support_week_last", "open_tickets", "scheduled", "cancelled", "flags",
                 "next_deadline", "next_deadline_date", "overdue", "consultant", "consultants")
NOTE_FIELDS = ("work_notes", "comments")
UNCUT = 100_000  # characters: a value shown whole


# --- a cycle: plan, run --once, demo ----------------------------------------------------------


def cycle_items(report, schema: SchemaSettings | None = None) -> list[dict]:
    """One item per planned write, with its outcome once sent; ``note`` is the whole note."""
    outcomes = {id(outcome.write): outcome for outcome in report.outcomes}
    items = []
    for write in report.plan.writes:
        outcome = outcomes.get(id(write))
        after = dict(write.fields)
        if write.note:
            after[write.note_field] = write.note.splitlines()[0]
        items.append({
            "engagement": write.engagement, "record": write.target,
            "number": (outcome.number if outcome else "") or write.number or "(new)",
            "rule": write.rule, "action": write.kind,
            "change": format_change(write.before, after, schema=schema, table=write.table),
            "outcome": "planned" if outcome is None else outcome.status,
            "ref": write.note_ref if write.note else "", "note": write.note,
        })
    return items


def print_cycle(report, schema: SchemaSettings | None = None, *, full: bool = False) -> None:
    plan = report.plan
    verb = "would do" if report.dry_run else "did"
    echo_wrapped(f"run {report.run_id}: {len(plan.engagements)} engagements, {len(plan.writes)} writes planned"
                 f" in {report.duration:.2f}s")
    items = cycle_items(report, schema)
    if items:
        rows = [[item[column] for column in CYCLE_COLUMNS] for item in items]
        print_rows(CYCLE_COLUMNS, rows, lambda index: _cycle_line(items[index]), title=f"What the worker {verb}")
    else:
        click.echo("Nothing to do: every engagement is in line with the playbook.")
    if report.requests:
        requests = ", ".join(f"{method} {table} {count}" for (method, table), count in sorted(report.requests.items()))
        echo_wrapped(f"requests: {sum(report.requests.values())} ({requests})")
    for outcome in report.failed:
        echo_wrapped(f"{outcome.status}: {outcome.write.kind} on {outcome.number or outcome.write.target}: "
                     f"{outcome.error or outcome.verification}")
    if full:
        print_notes(items)


def _cycle_line(item: dict) -> str:
    return " · ".join((f"{item['engagement']} {item['number']} {item['record']}", f"{item['action']} {item['outcome']}",
                       item["change"], f"rule {item['rule']}"))


def print_notes(items: Sequence[dict]) -> None:
    """Each item's whole note, under a line naming its record, rule and reference."""
    noted = [item for item in items if item.get("note")]
    if noted:
        click.echo("\nNotes in full:")
    for item in noted:
        click.echo("")
        echo_wrapped(f"{item['engagement']} {item['number']} {item['record']} · rule {item['rule']} · ref {item['ref']}")
        echo_text(item["note"], indent="  ")


def write_cycle(report, fmt: str, schema: SchemaSettings | None = None) -> None:
    write_items(cycle_items(report, schema), fmt, CYCLE_FIELDS)


# --- the journal ------------------------------------------------------------------------------


def journal_items(entries, schema: SchemaSettings | None = None, *, full: bool = False) -> list[dict]:
    """One item per journal entry; ``ref`` is the note's reference, ``note`` the whole note.

    With ``full``, ``change`` holds the field changes uncut and leaves the note to ``note``.
    """
    items = []
    for entry, row in zip(entries, format_entries(entries, schema)):
        item = dict(zip(JOURNAL_COLUMNS, row))
        item["ref"] = entry.note_key
        item["note"] = next((entry.after[name] for name in NOTE_FIELDS if entry.after.get(name)), "")
        if full:
            fields = {name: value for name, value in entry.after.items() if name not in NOTE_FIELDS}
            item["change"] = format_change(entry.before, fields, UNCUT, schema=schema, table=entry.table)
        items.append(item)
    return items


def print_journal(entries, schema: SchemaSettings | None = None) -> None:
    if not entries:
        click.echo("The journal has no entries that match.")
        return
    items = journal_items(entries, schema)
    rows = [[item[column] for column in JOURNAL_COLUMNS] for item in items]
    print_rows(JOURNAL_COLUMNS, rows, lambda index: _journal_line(items[index]))


def _journal_line(item: dict) -> str:
    return " · ".join(part for part in (
        f"{item['engagement']} {item['number']} {item['record']}", item["time"], f"{item['action']} {item['outcome']}",
        item["change"], item["verification"], f"rule {item['rule']}", f"run {item['run']}",
        f"ref {item['ref']}" if item["ref"] else "") if part)


def print_entry(item: dict) -> None:
    """One action in full (``journal --show REF``): what, where, the change and the whole note."""
    echo_wrapped(f"{item['engagement']} {item['number']} {item['record']} · {item['action']} {item['outcome']} · "
                 f"{item['time']}")
    echo_wrapped(labelled((("rule", item["rule"]), ("run", item["run"]), ("ref", item["ref"]))), first="  ")
    echo_wrapped(labelled((("change", item["change"] or "none (a note only)"),)), first="  ")
    echo_wrapped(labelled((("verification", item["verification"]),)), first="  ")
    if item["note"]:
        click.echo("  note:")
        echo_text(item["note"], indent="    ")


def write_journal(entries, fmt: str, schema: SchemaSettings | None = None) -> None:
    write_items(journal_items(entries, schema), fmt, JOURNAL_FIELDS)


# --- the coordinator's report -----------------------------------------------------------------


def engagement_items(rows) -> list[dict]:
    """One item per engagement row; dates are ISO days, the prod upgrade as the client reads it."""
    return [_engagement_item(row) for row in rows]


def _engagement_item(row) -> dict:
    roadmap, deadline = row.roadmap, row.next_deadline

    def day(value) -> str:
        return value.isoformat() if value else ""

    return {
        "engagement": row.key, "client": row.client, "phase": row.phase, "kickoff": day(roadmap.kickoff),
        "dev_upgrade": day(roadmap.dev_upgrade), "prod_upgrade": roadmap.prod_upgrade, "bp": day(roadmap.bp),
        "support_week_first": day(roadmap.support_week_first or roadmap.support_week),
        "support_week_last": day(roadmap.support_week_last), "open_tickets": list(row.open_tickets),
        "scheduled": row.scheduled, "cancelled": row.cancelled, "flags": row.flag_count,
        "next_deadline": f"{deadline.what} {deadline.text}" if deadline else "",
        "next_deadline_date": day(deadline.day) if deadline else "", "overdue": bool(deadline and deadline.overdue),
        "consultant": row.consultant, "consultants": list(row.consultants),
    }


def print_engagements(report, rows, *, title: str = "Engagements", selection: str = "") -> None:
    """The coordinator's table (``etiu-worker report``), then the open flags of the rows shown."""
    last = report.last_run
    source = (f"records as the worker left them after run {last.id} "
              f"({(last.finished_at or last.started_at):%Y-%m-%d %H:%M} UTC)") if last else "no run in the journal yet"
    echo_wrapped(f"{len(rows)} of {len(report.rows)} engagements{f' ({selection})' if selection else ''}; "
                 f"dates as of {report.generated_at:%Y-%m-%d %H:%M} UTC; {source}.")
    if not rows:
        click.echo("No engagement matches.")
        return
    items = engagement_items(rows)
    cells = [_engagement_cells(item) for item in items]
    print_rows(REPORT_COLUMNS, cells, lambda index: _engagement_line(items[index], cells[index]), title=title)
    _print_flags(rows)


def _print_flags(rows) -> None:
    flagged = [row for row in rows if row.flags or row.problems]
    if flagged:
        click.echo("Open flags:")
    for row in flagged:
        echo_wrapped(f"{row.key} {row.client} ({row.flag_count} open)", first="  ")
        for flag in row.flags:
            mark = "warning" if flag.severity == "warning" else "flag"
            where = f" [{', '.join(flag.numbers)}]" if flag.numbers else ""
            echo_wrapped(f"{row.key} {mark} {flag.rule}: {flag.message}{where}", first="    ", indent="      ")
        for problem in row.problems if not row.flags else ():
            echo_wrapped(f"{row.key} needs attention: {problem}", first="    ", indent="      ")


def _engagement_cells(item: dict) -> list[str]:
    def shown(value: str) -> str:
        return value or "—"

    first, last = item["support_week_first"], item["support_week_last"]
    week = f"{first} to {last}" if first and last else shown(first)
    scheduled = "yes" if item["scheduled"] else "no (cancelled)" if item["cancelled"] else "no"
    due = f"{item['next_deadline']}{' (overdue)' if item['overdue'] else ''}" if item["next_deadline"] else "—"
    return [item["engagement"], item["client"], item["phase"], shown(item["kickoff"]), shown(item["dev_upgrade"]),
            shown(item["prod_upgrade"]), shown(item["bp"]), week, " ".join(item["open_tickets"]) or "—",
            scheduled, str(item["flags"]), due, shown(item["consultant"])]


def _engagement_line(item: dict, cells: Sequence[str]) -> str:
    named = dict(zip(REPORT_COLUMNS, cells))
    dates = ", ".join(f"{label} {named[label]}" for label in ("kickoff", "dev upgrade", "prod upgrade", "BP", "support week")
                      if named[label] != "—")
    return " · ".join(part for part in (
        f"{item['engagement']} {item['client']}", item["phase"], f"next: {named['next deadline']}", dates,
        f"open: {named['open tickets']}", f"scheduled: {named['scheduled']}", f"flags: {item['flags']}",
        f"consultant: {named['consultant']}") if part)


def write_engagements(rows, fmt: str) -> None:
    write_items(engagement_items(rows), fmt, REPORT_FIELDS)
