"""A wake-up finds every moment an engagement's context holds, in a pack that reads both a
projected finish under a date's name and a latch whose value is now (as the CX and CRM packs do)."""

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from etiu_worker.playbook.clock_reads import ClockUse
from etiu_worker.playbook.latches import LatchState
from etiu_worker.playbook.projection_reads import ProjectionUse
from etiu_worker.playbook.wakeups import instants

AT = datetime(2026, 12, 3, 11, 7, tzinfo=timezone.utc)
USE = ClockUse(projection=ProjectionUse(read=True, dates=frozenset({"projected_finish"})),
               moving_latches=frozenset({"oncall_over"}))


def test_a_latch_set_since_a_moment_is_found_beside_dates_left_out_as_projected():
    set_at = AT + timedelta(hours=5)
    for _ in range(50):  # each walk makes and drops its copies: no copy may hide the next one
        context = {
            "dates": {"projected_finish": AT + timedelta(days=9), "deadline": AT + timedelta(days=2)},
            "latches": {"oncall_over": LatchState("oncall_over", True, set_at, AT, AT),
                        "intake": LatchState("intake", True, AT + timedelta(hours=7))},
        }
        found = set(instants(context, ZoneInfo("America/New_York"), USE))
        assert AT + timedelta(days=2) in found and AT + timedelta(days=9) not in found
        assert {set_at, AT + timedelta(hours=7)} <= found
