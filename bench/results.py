"""What the benchmark measured: a cycle, the naive baseline, one size of one workload, a target.

Plain data classes (``--json`` writes them out as they are), with the arithmetic the tables and
the targets share: requests per part of a cycle and table, the floor, the allowances.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime

JOURNAL = "sys_journal_field"
READ_BACK_BATCH = 100  # records one read-back, freshness check or note look-up may cover
WRITES = ("POST", "PATCH", "PUT", "DELETE")
SHORT = {"u_etiu_ticket": "tickets", "change_request": "CRs", "change_task": "CTASKs",
         "sn_customerservice_case": "cases", "sn_customerservice_task": "case tasks", JOURNAL: "journal"}


def short_name(table: str) -> str:
    return SHORT.get(table, table)


@dataclass
class Cycle:
    name: str
    data: dict  # what bench.worker answered
    server: dict[str, int]  # requests the sandbox served: "METHOD table" -> count
    changed_rows: dict[str, int]  # rows a person (or the seed) changed since the last cycle, per table
    tables: tuple[str, ...] = ()  # the tables the worker lists, in the order shown
    latency: float = 0.0  # seconds the sandbox added to each request during this cycle

    def part(self, part: str) -> dict[str, int]:
        return self.data["parts"].get(part, {})

    def reads(self, part: str, table: str | None = None) -> int:
        return sum(n for key, n in self.part(part).items()
                   if key.startswith("GET ") and (table is None or key == f"GET {table}"))

    def per_table(self, part: str) -> dict[str, int]:
        return {key.split()[1]: n for key, n in self.part(part).items() if key.startswith("GET ")}

    def lists(self) -> dict[str, int]:
        return {table: self.reads("sync", table) for table in self.tables}

    @property
    def writes(self) -> int:
        return sum(n for key, n in self.server.items() if key.split()[0] in WRITES)

    @property
    def total(self) -> int:
        return sum(self.server.values())

    @property
    def written_records(self) -> int:
        return sum(self.data["written_records"].values())

    @property
    def cpu(self) -> float:
        return self.data["cpu"]

    @property
    def evaluated(self) -> int:
        """Engagements the cycle evaluated (all of them when the worker does not say)."""
        count = self.data.get("evaluated")
        return self.data["engagements"] if count is None else count

    @property
    def evaluated_shown(self) -> str:
        return "all" if self.data.get("evaluated") is None else f"{self.data['evaluated']:,}"

    def floor_reads(self, page_size: int) -> dict[str, int]:
        """The fewest list requests that can read the changed rows: at least one per table."""
        return {table: max(1, math.ceil(self.changed_rows.get(table, 0) / page_size)) for table in self.tables}

    def batch_allowance(self) -> dict[str, int]:
        """One request per table per 100 records written (read-backs, freshness checks)."""
        allowance = {table: math.ceil(n / READ_BACK_BATCH) for table, n in self.data["written_records"].items()}
        allowance[JOURNAL] = math.ceil(self.data["noted_records"] / READ_BACK_BATCH)
        return allowance

    def read_backs(self) -> dict[str, int]:
        return self.per_table("send_and_verify")

    def freshness(self) -> dict[str, int]:
        return self.per_table("freshness")


@dataclass
class Naive:
    requests: int  # for all N engagements (counted, or 3 x N + 1 when sampled)
    counted: int  # requests the sandbox served in the run
    read: int  # engagements read in the run
    seconds: float  # for all N engagements, at the benchmark's latency
    measured: float  # seconds of the run itself
    how: str  # measured, or how it was extrapolated


@dataclass
class SizeResult:
    n: int
    workload: str  # etiu, or mix (all five shipped packs)
    rows: dict[str, int]
    cycles: dict[str, Cycle]
    converge_cycles: int
    edited: int
    plan: dict | None  # plan_cycle alone (etiu only)
    peak_mb: float  # ru_maxrss of the worker over its cycles
    naive: Naive | None  # None: not run (the mix, or above --cold-max)
    page_size: int
    latency: float
    seconds: float
    tables: tuple[str, ...] = ()
    packs: dict[str, int] = field(default_factory=dict)  # engagements per pack

    @property
    def label(self) -> str:
        return f"{self.n:,}" if self.workload == "etiu" else f"{self.n:,} (5 packs)"


@dataclass
class Target:
    name: str
    n: int | None
    measured: str
    limit: str
    ok: bool | None  # None: not applicable in this run
    why: str = ""
    workload: str = "etiu"


@dataclass
class Results:
    command: str
    started: datetime
    latency: float = 0.0
    cold_max: int = 0
    sizes: list[SizeResult] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    seconds: float = 0.0
