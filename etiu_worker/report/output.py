"""Items (one dict per row, stable field names) printed as text for people, or as JSON or CSV for scripts.

Text: a table when every row fits the width on one line (the terminal's, or ``COLUMNS``; 80 when
piped), so no cell is ever folded; otherwise one record per line, starting with its identifiers
(engagement key, record number) and wrapped at whole words, continuation lines indented, so that
an identifier is never split and ``| grep ENG-0001`` finds the record. JSON is one document, a
list of objects; CSV a header row and one row per item, lists joined by `; `.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import textwrap
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import click
from rich.cells import cell_len
from rich.console import Console
from rich.table import Table
from rich.text import Text

FORMATS = ("text", "json", "csv")
FALLBACK_WIDTH = 80
INDENT = "    "
# A rich table's frame and padding: "│ " before each cell, " " after, "│" closing the row.
_CELL_FRAME, _ROW_FRAME = 3, 1

Item = Mapping[str, Any]


def width() -> int:
    """The terminal's width, ``COLUMNS`` when set, else 80 (a pipe, cron mail, a log file)."""
    return shutil.get_terminal_size((FALLBACK_WIDTH, 24)).columns


def wrap(line: str, columns: int | None = None, indent: str = INDENT, first: str = "") -> list[str]:
    """``line`` wrapped at whole words to ``columns``; a word longer than a line stays whole."""
    return textwrap.wrap(
        line, columns or width(), initial_indent=first, subsequent_indent=indent,
        break_long_words=False, break_on_hyphens=False,
    ) or [first.rstrip()]


def echo_wrapped(line: str, indent: str = INDENT, first: str = "") -> None:
    for part in wrap(line, indent=indent, first=first):
        click.echo(part)


def echo_text(text: str, indent: str = "") -> None:
    """Text of several lines (a note), each wrapped at whole words; blank lines kept."""
    for line in text.splitlines() or [""]:
        lead = line[: len(line) - len(line.lstrip())]
        echo_wrapped(line.strip(), indent=indent + lead + "  ", first=indent + lead)


def table_width(columns: Sequence[str], rows: Iterable[Sequence[str]]) -> int:
    """The width a rich table of these cells takes with no cell folded."""
    widths = [cell_len(column) for column in columns]
    for row in rows:
        widths = [max(size, cell_len(cell)) for size, cell in zip(widths, row)]
    return sum(widths) + _CELL_FRAME * len(widths) + _ROW_FRAME


def print_rows(columns: Sequence[str], rows: Sequence[Sequence[str]], record_line: Callable[[int], str],
               title: str = "") -> None:
    """A table if it fits the width, else ``record_line(index)`` for each row, wrapped."""
    available = width()
    if table_width(columns, rows) <= available:
        _print_table(columns, rows, title, available)
        return
    if title:
        click.echo(title)
    for index in range(len(rows)):
        echo_wrapped(record_line(index))


def _print_table(columns: Sequence[str], rows: Sequence[Sequence[str]], title: str, available: int) -> None:
    table = Table(title=title or None, show_lines=False)
    for column in columns:
        table.add_column(column, no_wrap=True)
    for row in rows:
        # Record text goes into Text, never markup: a client called "[bold]" stays so.
        table.add_row(*(Text(cell) for cell in row))
    Console(width=available, highlight=False, soft_wrap=False).print(table)


def labelled(parts: Iterable[tuple[str, str]]) -> str:
    """``label: value`` pairs joined by `` · ``, leaving out empty values."""
    return " · ".join(f"{label}: {value}" if label else value for label, value in parts if value)


def write_items(items: Sequence[Item], fmt: str, fields: Sequence[str]) -> None:
    """JSON (one list) or CSV (header, then one row per item) on standard output."""
    if fmt == "json":
        click.echo(json.dumps([dict(item) for item in items], ensure_ascii=False, indent=2))
        return
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(fields), extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for item in items:
        writer.writerow({name: _csv_value(item.get(name)) for name in fields})
    click.echo(buffer.getvalue(), nl=False)


def _csv_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return "; ".join(str(part) for part in value)  # names hold spaces
    return "" if value is None else str(value)
