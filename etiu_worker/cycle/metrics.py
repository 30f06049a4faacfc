"""Prometheus metrics after each cycle, in node_exporter's textfile-collector format.

The file is written to a temporary name beside it and renamed, so the collector never reads a
half-written file. Off unless ``worker.metrics_path`` is set.
"""

from __future__ import annotations

import os
import tempfile
from collections import Counter
from pathlib import Path

PREFIX = "etiu_worker"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(**labels: str) -> str:
    inner = ",".join(f'{name}="{_escape(str(value))}"' for name, value in labels.items())
    return "{" + inner + "}" if inner else ""


def render(report, open_flags: list, last_success: float | None) -> str:
    """The metrics text for one finished cycle."""
    lines: list[str] = []

    def metric(name: str, kind: str, help_text: str, samples: list[tuple[dict, float]]) -> None:
        lines.append(f"# HELP {PREFIX}_{name} {help_text}")
        lines.append(f"# TYPE {PREFIX}_{name} {kind}")
        lines.extend(f"{PREFIX}_{name}{_labels(**labels)} {value:g}" for labels, value in samples)

    if last_success is not None:
        metric("last_success_timestamp_seconds", "gauge", "When the last cycle without failed actions finished (Unix time).", [({}, last_success)])
    metric("cycle_duration_seconds", "gauge", "How long the last cycle took.", [({}, report.duration)])
    metric("cycle_engagements", "gauge", "Engagements the last cycle evaluated.", [({}, len(report.plan.engagements))])
    metric("cycle_requests", "gauge", "HTTP requests the last cycle sent, by method and table.",
           [({"method": method, "table": table}, count) for (method, table), count in sorted(report.requests.items())])
    actions = Counter((outcome.write.rule, outcome.status) for outcome in report.outcomes)
    metric("cycle_actions", "gauge", "Writes of the last cycle by rule and outcome.",
           [({"rule": rule, "outcome": outcome}, count) for (rule, outcome), count in sorted(actions.items())])
    flags = Counter(flag.rule for flag in open_flags)
    metric("open_flags", "gauge", "Flags raised on engagements and not resolved, by rule.",
           [({"rule": rule}, count) for rule, count in sorted(flags.items())] or [({"rule": "none"}, 0)])
    return "\n".join(lines) + "\n"


def write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise
