"""A progress bar for long reads, on a terminal only.

Piped output, cron mail and JSON logs get nothing of the sort: ``SyncProgress(enabled=False)``
hands out callbacks that do nothing.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn


def wanted(log_format: str) -> bool:
    return log_format == "text" and sys.stderr.isatty()


class SyncProgress:
    """One bar per table read; each ``on_page`` callback moves its own bar."""

    def __init__(self, enabled: bool) -> None:
        self._progress = (
            Progress(TextColumn("reading {task.description}"), BarColumn(), MofNCompleteColumn(),
                     TimeElapsedColumn(), console=Console(stderr=True), transient=True)
            if enabled else None
        )

    def __enter__(self) -> SyncProgress:
        if self._progress is not None:
            self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()

    def on_page(self, table: str) -> Callable[[int, int | None], None] | None:
        if self._progress is None:
            return None
        task = self._progress.add_task(table, total=None)

        def advance(read: int, total: int | None) -> None:
            self._progress.update(task, completed=read, total=total if total is not None else read)

        return advance
