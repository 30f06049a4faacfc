"""A worker process on a clock the test chose, and that clock.

``SharedClock`` is one clock for a test and the worker processes it starts: it reads ``start`` at
the real moment it was made and then runs at ``pace`` times the real pace. Slowed down, it keeps a
whole module of real-process tests within the minute of ``start``, so a reference run made at the
module's start and the runs of its last test read the same moment: a note naming a minute (a
projected finish counted from now) reads the same in both, where on the real clock it would name
whichever minute each run happened in.

Run as a script (``clocked_command``), this file is ``python -m etiu_worker`` with the worker's
clocks (the engine's, the journal's, the identity check's) replaced by the clock handed over in
``CLOCK_ENV``.
"""

from __future__ import annotations

import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

CLOCK_ENV = "SAFETY_TESTS_CLOCK"  # not ETIU_*: the worker's settings would refuse an unknown one
SLOW = 1 / 60  # a minute of the clock per hour of real time


class SharedClock:
    def __init__(self, start: datetime, pace: float = SLOW, origin: float | None = None) -> None:
        self.start, self.pace = start, pace
        self.origin = time.time() if origin is None else origin  # epoch seconds: the same in every process

    def __call__(self) -> datetime:
        return self.start + timedelta(seconds=(time.time() - self.origin) * self.pace)

    def env(self) -> dict[str, str]:
        """The variable that hands this clock to a worker process started by ``clocked_command``."""
        return {CLOCK_ENV: f"{self.start.isoformat()} {self.origin!r} {self.pace!r}"}

    @classmethod
    def from_env(cls, text: str) -> SharedClock:
        start, origin, pace = text.split()
        return cls(datetime.fromisoformat(start), float(pace), float(origin))


def clocked_command(*args: str) -> list[str]:
    """The command line of a worker process on the clock in its environment's ``CLOCK_ENV``."""
    return [sys.executable, str(Path(__file__).resolve()), *args]


def _run_on_the_shared_clock() -> None:
    import os

    from etiu_worker.cycle import engine
    from etiu_worker.state import identity, journal

    clock = SharedClock.from_env(os.environ[CLOCK_ENV])
    for module in (engine, journal, identity):
        module.now = clock
    from etiu_worker.cli.commands import main

    main()


if __name__ == "__main__":
    _run_on_the_shared_clock()
