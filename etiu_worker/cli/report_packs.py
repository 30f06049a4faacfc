"""The ``report`` command over several packs: the views and phases it offers are the configured
packs' (their report data), and each pack's engagements are shown under its own title."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import click


@dataclass(frozen=True)
class PackReport:
    """One pack's report, with the pack's name."""

    name: str
    report: Any  # report/coordinator_rows.CoordinatorReport

    @property
    def views(self) -> dict[str, Any]:
        return self.report.pack.views_by_name if self.report.pack else {}


def offered_views(playbooks: Sequence) -> dict[str, Any]:
    """Every view of the packs, by name (the first pack naming one wins)."""
    views: dict[str, Any] = {}
    for playbook in playbooks:
        for name, view in (playbook.report.views_by_name.items() if playbook.report else ()):
            views.setdefault(name, view)
    return views


def offered_phases(playbooks: Sequence) -> tuple[str, ...]:
    """Every phase of the packs, in pack order."""
    return tuple(dict.fromkeys(phase for playbook in playbooks if playbook.report for phase in playbook.report.phase_names))


def checked_view(view: str | None, playbooks: Sequence) -> str | None:
    """``--view`` as given, when one of the packs offers it; a usage error listing them otherwise."""
    views = offered_views(playbooks)
    if view is None or view in views:
        return view
    raise click.BadParameter(f"{view!r} is not a view of the configured packs; views are {', '.join(views)}",
                             param_hint="'--view'")


def checked_phase(phase: str | None, playbooks: Sequence) -> str | None:
    """``--phase`` as one of the packs' phases; a usage error listing them otherwise."""
    from ..report.coordinator import normalise_phase

    if phase is None:
        return None
    try:
        return normalise_phase(phase, offered_phases(playbooks))
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="'--phase'") from None


def shown(reports: Sequence[PackReport], view: str | None, phase: str | None) -> list[PackReport]:
    """The packs whose report can hold the rows asked for: one that has the view and the phase."""
    return [pack for pack in reports
            if (view is None or view in pack.views) and (phase is None or phase in pack.report.phases)]


def write_several(chosen: Sequence[tuple[PackReport, list]], fmt: str) -> None:
    """The rows of several packs as one JSON list or CSV table, each naming its pack: the fields
    are the packs' fields, in pack order."""
    from ..report.output import write_items
    from ..report.text import engagement_items, report_fields

    items = [{"pack": pack.name, **item} for pack, rows in chosen for item in engagement_items(rows)]
    fields = dict.fromkeys(("pack", *(name for pack, _ in chosen for name in report_fields(pack.report.pack))))
    write_items(items, fmt, tuple(fields))
