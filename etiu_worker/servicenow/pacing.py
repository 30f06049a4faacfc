"""The client's shared pacing: when ServiceNow says "slow down" to one thread, every thread waits.

ServiceNow's rate limiter counts the requests of a user, not of a connection: a 429 to one of
the client's threads means the others' next requests would be refused too. So a 429, or a 503
with ``Retry-After``, holds a gate: no thread sends its next request before that moment (the
``Retry-After`` seconds, or the retry's own backoff for a 429 without one, at most
``servicenow.max_backoff``). The gate only ever moves later.

The thread that got the answer waits through its own retry (tenacity's sleep goes through
``pause``); each thread remembers the moment it has waited until, so no thread waits twice for
one hold, even when the clock and the sleep are fakes that do not move together (tests).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

LOG = logging.getLogger("etiu_worker.servicenow.client")  # the client's log: one logger for its lines


class PacingGate:
    """A monotonic "not before" moment shared by threads, with injectable clock and sleep."""

    def __init__(self, clock: Callable[[], float], sleep: Callable[[float], object]) -> None:
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._not_before = float("-inf")
        self._waited = threading.local()

    def hold_for(self, seconds: float) -> None:
        """No thread sends before ``seconds`` from now (or later, if already held longer)."""
        until = self._clock() + seconds
        with self._lock:
            self._not_before = max(self._not_before, until)

    def wait_turn(self) -> None:
        """Sleep until the gate's moment, unless this thread has already waited until then."""
        not_before = self._not_before  # one attribute read: no lock needed for a float
        if not_before <= self._waited_until():
            return
        remaining = not_before - self._clock()
        if remaining > 0:
            LOG.debug("waiting %.1fs: ServiceNow asked the client to slow down", remaining)
            self._sleep(remaining)
        self._waited.until = not_before

    def pause(self, seconds: float) -> None:
        """Sleep ``seconds`` (a retry's wait); a hold ending by then is waited for too."""
        until = self._clock() + seconds
        self._sleep(seconds)
        self._waited.until = max(self._waited_until(), until)

    def _waited_until(self) -> float:
        return getattr(self._waited, "until", float("-inf"))
