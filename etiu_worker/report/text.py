"""Printing for people and scripts: what a cycle did or would do, the journal, the coordinator's table.

Each is first a list of items (dicts whose field names are documented in the README and stay
stable for scripts), then text (see output.py), JSON or CSV of the same items.
"""

from __future__ import annotations

from collections.abc import Sequence

import click

from .changes import format_change, format_entries
from ..playbook.pack_records import FieldNames
from .output import echo_text, echo_wrapped, labelled, print_rows, write_items

CYCLE_COLUMNS = ("engagement", "record", "number", "rule", "action", "change", "outcome")
CYCLE_FIELDS = (*CYCLE_COLUMNS, "ref", "note")
JOURNAL_COLUMNS = ("time", "run", "rule", "engagement", "record", "number", "action", "change", "outcome",
                   "verification", "ref")
JOURNAL_FIELDS = (*JOURNAL_COLUMNS, "note")
# The report's columns and fields around the pack's own (its report.columns).
REPORT_LEAD, REPORT_TAIL = ("engagement", "client", "phase"), ("flags", "next deadline", "consultant")
FIELDS_LEAD = ("engagement", "client", "phase")
FIELDS_TAIL = ("flags", "next_deadline", "next_deadline_date", "overdue", "consultant", "consultants")
NOTE_FIELDS = ("work_notes", "comments")
UNCUT = 100_000  # characters: a value shown whole


# --- a cycle: plan, run --once, demo ----------------------------------------------------------


def cycle_items(report, schema: FieldNames | None = None) -> list[dict]:
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


def print_cycle(report, schema: FieldNames | None = None, *, full: bool = False) -> None:
    plan = report.plan
    verb = "would do" if report.dry_run else "did"
    if len(plan.packs) > 1 and plan.engagements:
        echo_wrapped(_packs(plan))
    echo_wrapped(f"run {report.run_id}: {_engagements(plan)}, {len(plan.writes)} writes planned"
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


def _packs(plan) -> str:
    """The engagements each pack took, of those evaluated when incremental evaluation left some alone."""
    counts = ", ".join(f"{name} {len(keys)} engagement{'s' * (len(keys) != 1)}" for name, keys in plan.packs.items())
    return ("packs: " if len(plan.engagements) >= plan.total else "packs, of the evaluated: ") + counts


def _engagements(plan) -> str:
    """How many engagements the cycle found, and how many it evaluated when not all (the others
    had nothing that could change their outcome: incremental evaluation)."""
    found, evaluated = max(plan.total, len(plan.engagements)), len(plan.engagements)
    return f"{found} engagements" + (f" ({evaluated} evaluated)" if evaluated < found else "")


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


def write_cycle(report, fmt: str, schema: FieldNames | None = None) -> None:
    write_items(cycle_items(report, schema), fmt, CYCLE_FIELDS)


# --- the journal ------------------------------------------------------------------------------


def journal_items(entries, schema: FieldNames | None = None, *, full: bool = False) -> list[dict]:
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


def print_journal(entries, schema: FieldNames | None = None) -> None:
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


def write_journal(entries, fmt: str, schema: FieldNames | None = None) -> None:
    write_items(journal_items(entries, schema), fmt, JOURNAL_FIELDS)


# --- the coordinator's report -----------------------------------------------------------------


def report_columns(pack=None) -> tuple[str, ...]:
    """The table's columns: the pack's labels (by default the shipped pack's) between the report's own."""
    return (*REPORT_LEAD, *(column.label for column in _pack(pack).columns if column.label), *REPORT_TAIL)


def report_fields(pack=None) -> tuple[str, ...]:
    """The JSON and CSV fields: the pack's (by default the shipped pack's) between the report's own."""
    return (*FIELDS_LEAD, *_pack(pack).field_names, *FIELDS_TAIL)


def _pack(pack):
    if pack is not None:
        return pack
    from .shipped import shipped_report

    return shipped_report()


def __getattr__(name: str):
    """``REPORT_COLUMNS`` and ``REPORT_FIELDS``: the shipped pack's, read on first use."""
    if name == "REPORT_COLUMNS":
        return report_columns()
    if name == "REPORT_FIELDS":
        return report_fields()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def engagement_items(rows) -> list[dict]:
    """One item per engagement row: the pack's fields, dates as ISO days, a datetime as the client reads it."""
    return [_engagement_item(row) for row in rows]


def _engagement_item(row) -> dict:
    deadline = row.next_deadline
    return {
        "engagement": row.key, "client": row.client, "phase": row.phase, **row.fields, "flags": row.flag_count,
        "next_deadline": f"{deadline.what} {deadline.text}" if deadline else "",
        "next_deadline_date": deadline.day.isoformat() if deadline else "", "overdue": bool(deadline and deadline.overdue),
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
    columns = report_columns(report.pack)
    cells = [_engagement_cells(row) for row in rows]
    print_rows(columns, cells, lambda index: _engagement_line(rows[index], cells[index], columns), title=title)
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


def _deadline_text(row) -> str:
    deadline = row.next_deadline
    if not deadline:
        return "—"
    return f"{deadline.what} {deadline.text}{' (overdue)' if deadline.overdue else ''}"


def _engagement_cells(row) -> list[str]:
    return [row.key, row.client, row.phase, *(cell.text or "—" for cell in row.cells), str(row.flag_count),
            _deadline_text(row), row.consultant or "—"]


def _engagement_line(row, cells: Sequence[str], columns: Sequence[str]) -> str:
    named = dict(zip(columns, cells))
    dates = ", ".join(f"{cell.label} {cell.text}" for cell in row.cells if cell.dated and cell.text)
    others = [f"{cell.short or cell.label}: {cell.text or '—'}" for cell in row.cells if not cell.dated]
    return " · ".join(part for part in (
        f"{row.key} {row.client}", row.phase, f"next: {named['next deadline']}", dates, *others,
        f"flags: {row.flag_count}", f"consultant: {named['consultant']}") if part)


def write_engagements(rows, fmt: str, pack=None) -> None:
    """The rows as JSON or CSV; the fields are the pack's (by default those of the rows, else the shipped pack's)."""
    rows = list(rows)
    fields = report_fields(pack) if pack is not None or not rows else (*FIELDS_LEAD, *rows[0].fields, *FIELDS_TAIL)
    write_items(engagement_items(rows), fmt, fields)
