"""One cycle: read the engagements, match the rules, plan the writes, send them, verify them.

Match, plan and enforce are separate steps: ``plan_cycle`` decides and writes nothing (``plan``
prints it); ``run_cycle`` sends the planned writes, reads every one of them back, and records
each in the journal with its outcome.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import partial
from typing import Any, Callable, Sequence

from ..actions import Write
from ..actions.base import ClockCheck, flag_write, note_ref
from ..playbook.templates import render_file
from ..playbook.context import needs_history
from ..playbook.roadmap_check import carrier_field
from ..errors import EXIT_ACTIONS_FAILED, EXIT_OK
from .freshness import fresh_writes, record_index
from .instance_lookup import unsent_writes
from ..engagement.history import History, cycle_history
from .lanes import in_lanes
from .send import lanes_of
from ..config import Settings
from .recover import settle_pending
from .pack_reads import cache_names, distinct, pack_scopes
from .planning import CyclePlan, next_memory, plan_cycle, plan_engagement  # noqa: F401 - their home before planning.py
from .read import read_scopes, remember_own_writes
from ..engagement.roadmap_memory import upgraded
from ..playbook.rules import Playbook
from .verify import Outcome, send_and_verify
from . import incremental, quiet

log = logging.getLogger(__name__)


def now() -> datetime:
    """The worker's clock; tests replace it to run a cycle at any moment."""
    return datetime.now(timezone.utc)


@dataclass
class CycleReport:
    run_id: str
    dry_run: bool
    started: datetime
    duration: float
    plan: CyclePlan
    outcomes: list[Outcome] = field(default_factory=list)
    requests: Counter = field(default_factory=Counter)
    moved_meanwhile: int = 0  # records someone else changed between the cycle's read and its writes

    @property
    def failed(self) -> list[Outcome]:
        return [outcome for outcome in self.outcomes if outcome.status != "done"]

    @property
    def exit_code(self) -> int:
        return EXIT_ACTIONS_FAILED if self.failed or self.plan.skipped else EXIT_OK


def _upgraded_memories(memories: dict[str, dict[str, Any]], playbooks: Sequence[Playbook]) -> dict[str, dict[str, Any]]:
    """The journal's memories, any roadmap still in the old text form read once, with the labels
    of the first pack that keeps a roadmap, and kept as data."""
    check = next((p.checks.roadmap_sync for p in playbooks if p.checks.roadmap_sync is not None), None)
    if check is None:
        return memories
    return {key: upgraded(memory, check.roadmap_labels) for key, memory in memories.items()}


def run_cycle(client, journal, cache, playbook: Playbook | Sequence[Playbook], settings: Settings, *,
              dry_run: bool = False, should_stop: Callable[[], bool] = lambda: False, progress=None) -> CycleReport:
    """One cycle of every pack in ``playbook`` (one pack, or several: pack_match.py says which
    engagement goes to which); with ``dry_run`` nothing is written to ServiceNow or to the journal.

    ``should_stop`` is asked before each request: a stopping worker finishes the writes in flight,
    verifies what it sent, and leaves the rest to the next run.
    """
    playbooks = (playbook,) if isinstance(playbook, Playbook) else tuple(playbook)
    started = now()
    clock = time.monotonic()
    run_id = journal.start_run() if not dry_run else uuid.uuid4().hex[:8]
    before = Counter(client.requests)
    log.info("cycle started", extra={"run": run_id})
    interrupted = settle_pending(client, journal) if not dry_run else 0
    clean = _last_run_was_clean(journal, run_id, interrupted)
    own_user = settings.servicenow.user if clean else ""
    chosen = pack_scopes(playbooks)
    full = dry_run or not clean or incremental.full_read_due(cache, chosen, settings.state, started)
    rows = read_scopes(client, cache, [(s.cache_name, s.table, s.query) for s in distinct(chosen)],
                       settings.state, started, progress, own_user=own_user, user=settings.servicenow.user, lazy=True)
    selection = _select(playbooks, chosen, rows, journal, cache, settings, started, full)
    owned, memories = selection.owned, selection.memories
    lanes = settings.servicenow.max_parallel_writes
    parts = [(p, _plan(client, None if dry_run else journal, cache, p, owned[p.name], started, run_id, memories,
                       journal.note_posted, lanes), owned[p.name]) for p in playbooks]
    report = CycleReport(run_id, dry_run, started, 0.0, _merged(parts, selection))
    if not dry_run:
        _enforce(client, journal, cache, parts, report, should_stop, chosen, settings.servicenow.max_parallel_writes)
        report.plan = _merged(parts, selection)
        marks = incremental.remember(journal, selection, report.plan, started)
        if not selection.quiet:
            quiet.remember(journal, cache, [s.cache_name for s in distinct(chosen)], selection, marks)
    report.requests = Counter(client.requests) - before
    report.duration = time.monotonic() - clock
    if not dry_run:
        _finish_run(journal, settings, report)
    log.info("cycle finished: %d engagements, %d evaluated, %d writes, %d failed", report.plan.total,
             len(report.plan.evaluated), len(report.outcomes), len(report.failed), extra={"run": run_id})
    return report


def _select(playbooks, chosen, rows, journal, cache, settings: Settings, started: datetime, full: bool):
    """The engagements to evaluate: none, without grouping any, when the cycle is quiet (quiet.py)."""
    fingerprint = incremental.settings_fingerprint(playbooks, settings)
    names = [scope.cache_name for scope in distinct(chosen)]
    total = None if full else quiet.known_total(journal, cache, names, fingerprint, settings, started)
    if total is not None:
        log.info("%d engagements, none evaluated (nothing changed, no wake-up due)", total)
        return incremental.quiet(playbooks, total, fingerprint)
    return incremental.select(playbooks, chosen, rows, journal, settings, started, full=full, fingerprint=fingerprint,
                              upgrade=lambda memories: _upgraded_memories(memories, playbooks), cache=cache)


def _merged(parts: list[tuple[Playbook, CyclePlan, list]], selection) -> CyclePlan:
    """The packs' plans as one, in pack order, saying which pack took which engagements."""
    whole = CyclePlan([engagement for _, part, _ in parts for engagement in part.engagements],
                      evaluated=list(selection.evaluated), total=selection.total)
    whole.packs = {pack.name: tuple(engagement.key for engagement in part.engagements) for pack, part, _ in parts}
    for _, part, _ in parts:
        whole.results += part.results
        whole.writes += part.writes
        for name in ("memories", "latched", "raised_flags", "evaluated_rules", "skipped", "waiting", "wakes"):
            getattr(whole, name).update(getattr(part, name))
    return whole


def _plan(client, journal, cache, playbook: Playbook, engagements, started, run_id, memories, already_posted,
          lanes: int = 1) -> CyclePlan:
    """Plan from the records (with the history first sight needs), less what the instance already has."""
    unsure = [e for e in engagements if needs_history(e, memories.get(e.key, {}), playbook)]
    check = playbook.checks.roadmap_sync
    field = carrier_field(check, playbook.declarations)
    history: History | None = {}
    if check and field and unsure:
        with lanes_of(lanes) as pool:
            history = cycle_history(client, unsure, check.roles, field, partial(in_lanes, pool))
    cycle = plan_cycle(playbook, engagements, memories, started, already_posted, history, keep_results=False)
    cycle.writes = unsent_writes(client, journal, cache, playbook.declarations, cycle.writes, run_id, lanes)
    return cycle


def _enforce(client, journal, cache, parts, report: CycleReport, should_stop, chosen, parallel: int = 1) -> None:
    """Send every pack's fresh writes as one round, then the follow-up flags as a second, and
    record what happened pack by pack. One round for all packs: a record two packs write to gets
    one request, and each table is read back once per 100 written records, not once per pack."""
    owner = _owner(parts)
    read = record_index([engagement for _, _, engagements in parts for engagement in engagements])
    outcomes: list[Outcome] = []
    try:
        for _, part, _ in parts:
            save_latches(journal, part)
        planned = [write for _, part, _ in parts for write in part.writes]
        fresh = {id(write) for write in fresh_writes(client, cache, planned, read, parallel)}
        for _, part, _ in parts:
            part.writes = [write for write in part.writes if id(write) in fresh]
        since = client.instance_now() or report.started  # the read-back's window, on the instance's clock
        outcomes = send_and_verify(client, journal, report.run_id, [w for _, part, _ in parts for w in part.writes],
                                   since, now, should_stop, parallel)
        follow_ups = _follow_ups(client, journal, cache, parts, outcomes, report.run_id, owner)
        if follow_ups:
            outcomes += send_and_verify(client, journal, report.run_id, follow_ups, since, now, parallel=parallel)
    finally:
        report.outcomes += outcomes
        for pack, part, _ in parts:
            mine = [outcome for outcome in outcomes if owner(outcome.write.engagement) is pack]
            record_state(journal, part, mine)
            report.moved_meanwhile += remember_own_writes(cache, pack.declarations, mine, read,
                                                          cache_names(chosen, pack.name))


def _owner(parts) -> Callable[[str], Playbook]:
    """The pack that took each engagement, by key (the first pack for a key none took)."""
    packs = {engagement.key: pack for pack, part, _ in parts for engagement in part.engagements}
    return lambda key: packs.get(key, parts[0][0])


def _follow_ups(client, journal, cache, parts, outcomes: list[Outcome], run_id: str, owner) -> list[Write]:
    """The flags the round's outcomes call for (a clock gap, a write that did not save), each in
    its pack's words, less what the instance already has; added to their pack's part."""
    gaps = clock_gap_flags(outcomes, journal.note_posted)
    follow_ups: list[Write] = []
    for pack, part, _ in parts:
        mine = [outcome for outcome in outcomes if owner(outcome.write.engagement) is pack]
        flags = [flag for flag in gaps if owner(flag.engagement) is pack]
        flags = unsent_writes(client, journal, cache, pack.declarations,
                              flags + not_saved_flags(pack, mine, journal.note_posted), run_id)
        part.writes += flags
        follow_ups += flags
    return follow_ups


def _finish_run(journal, settings: Settings, report: CycleReport) -> None:
    journal.prune(settings.state.journal_retention_days)
    counts = {"writes": len(report.outcomes), "failed": len(report.failed), "moved_meanwhile": report.moved_meanwhile}
    journal.finish_run(report.run_id, "failed" if report.failed else "ok", counts)


def clock_gap_flags(outcomes: list[Outcome], already_posted) -> list[Write]:
    """Flags for notes the instance stamped too far from the worker's clock."""
    flags = []
    for outcome in outcomes:
        check = outcome.write.clock_check
        if check is None or outcome.stamped_at is None or outcome.sent_at is None:
            continue
        gap = (outcome.stamped_at - outcome.sent_at).total_seconds() / 60
        # The instance stamps whole seconds; allow for that and the round trip.
        if abs(gap) <= check.minutes:
            continue
        flag = gap_flag(outcome, check, gap)
        if not already_posted(flag.sys_id, flag.note_ref):
            flags.append(flag)
    return flags


def gap_flag(outcome: Outcome, check: ClockCheck, gap: float) -> Write:
    write = outcome.write
    context = {**check.context, "gap_minutes": gap, "instance_time": outcome.stamped_at, "worker_time": outcome.sent_at}
    ref = note_ref(write.engagement, write.rule, "clock-gap", write.note_ref)
    return flag_write(
        marks=check.marks, rule=write.rule, engagement=write.engagement, table=write.table, sys_id=outcome.sys_id,
        number=outcome.number, target=write.target, body=render_file(check.env, check.flag_template, context),
        ref=ref, flag_key=f"clock-gap:{write.note_ref}", kind="clock-gap",
    )


NOT_SAVED_RULE = "write_verification"
NOT_SAVED_TEMPLATE = "flag_write_not_saved.j2"


def not_saved_flags(playbook: Playbook, outcomes: list[Outcome], already_posted) -> list[Write]:
    """A flag on each record where a field the worker wrote did not persist, even after a retry."""
    flags = []
    for outcome in outcomes:
        write = outcome.write
        fields = {name: value for name, value in outcome.missing.items() if name in write.fields}
        if outcome.status != "unverified" or not fields or not outcome.sys_id:
            continue
        ref = note_ref(write.engagement, NOT_SAVED_RULE, outcome.sys_id, repr(sorted(write.fields.items())))
        if already_posted(outcome.sys_id, ref):
            continue
        context = {"written": {name: write.fields[name] for name in fields}, "stored": fields,
                   "number": outcome.number, "rule": write.rule, "contacts": playbook.contacts}
        flags.append(flag_write(
            marks=playbook.marks, rule=NOT_SAVED_RULE, engagement=write.engagement, table=write.table, sys_id=outcome.sys_id,
            number=outcome.number, target=write.target, body=render_file(playbook.env, NOT_SAVED_TEMPLATE, context),
            ref=ref, flag_key=f"not-saved:{outcome.sys_id}:{','.join(sorted(fields))}", kind="not-saved",
            footer=_verification_footer(playbook.marks, ref),
        ))
    return flags


def _verification_footer(marks, ref: str) -> str:
    """The footer of a flag no rule raised: it names the write verification instead of a rule."""
    return marks.footer.replace("rule {rule}", "{rule}").format(rule="write verification", ref=ref)


def _last_run_was_clean(journal, run_id: str, interrupted: int) -> bool:
    """Whether the cache holds every write the worker made: the last run finished with every write
    verified, and nothing was left pending. Otherwise a write may have landed unseen (a ticket
    created before a crash or a dropped answer), and the delta read must bring the worker's own
    updates back too."""
    if interrupted:
        return False
    earlier = [run for run in journal.runs(limit=3) if run.id != run_id]
    # A run that stopped on an error never finished: its outcome is None, which is not clean. A run
    # whose written records moved meanwhile did not cache them: their last updater may be the worker.
    return bool(earlier) and earlier[0].outcome == "ok" and not earlier[0].counts.get("moved_meanwhile")


def save_latches(journal, cycle: CyclePlan) -> None:
    """The latches' new memory, saved before any write leaves: a note's reference may hold the
    moment a latch set, which a run killed before ``record_state`` must find again (not a new one).
    ``record_state`` saves the same latches whatever the writes do, so this changes nothing else."""
    if cycle.latched:
        journal.save_engagement_states(cycle.latched)


def record_state(journal, cycle: CyclePlan, outcomes: list[Outcome]) -> None:
    """Flags opened and resolved, and engagement memory, after the writes were sent: one
    transaction for the whole cycle (the writes' own entries were finished before)."""
    with journal.batch():
        for outcome in outcomes:
            write = outcome.write
            if write.kind == "flag" and outcome.status == "done":
                journal.open_flag(write.engagement, write.rule, write.flag_key, write.table, write.sys_id, write.number,
                                  write.flag_message, severity=write.flag_severity, kind=write.flag_kind)
        journal.resolve_flags_of(_still_open(cycle))
        _remember_created(cycle, outcomes)
        journal.save_engagement_states(cycle.memories)


_NONE_RAISED: frozenset[str] = frozenset()


def _still_open(cycle: CyclePlan) -> dict[tuple[str, str], frozenset[str]]:
    """The flag keys each evaluated (engagement, rule) still raises: its other open flags resolve."""
    still: dict[tuple[str, str], frozenset[str]] = {}
    for key, rules in cycle.evaluated_rules.items():
        raised: dict[str, set[str]] = {}
        for rule, flag in cycle.raised_flags.get(key, ()):
            raised.setdefault(rule, set()).add(flag)
        for rule in rules:  # most raise nothing: one shared empty set, not 40,000 at 5,000 engagements
            still[(key, rule)] = frozenset(raised[rule]) if rule in raised else _NONE_RAISED
    return still


def _remember_created(cycle: CyclePlan, outcomes: list[Outcome]) -> None:
    for outcome in outcomes:
        write = outcome.write
        if write.kind in ("create_ticket", "create") and outcome.sys_id and write.engagement in cycle.memories:
            # Remembered so that a ticket whose engagement key did not save is repaired, not created
            # twice; forgotten once a person deleted it, so that it can be created again.
            memory = cycle.memories[write.engagement]
            created = {**memory.get("created", {}), write.role: outcome.sys_id}
            if outcome.gone:
                del created[write.role]
            memory["created"] = created
