"""Fault injection: the ways a real instance misbehaves, on demand or at random.

A test may change any field at any time from its own thread. ``script`` is consumed first, one
item per request; random faults are drawn only when the script is empty. Faults apply to HTTP
requests only, never to ``Sandbox.store``. A faulted request (429, 5xx, drop, 202) changes no data,
except the ``applied_*`` kinds: the request is served in full (the write is committed), then its
answer is lost: the connection closes unanswered (``applied_drop``) or a 500, 503 or 504 comes back.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field
from typing import Literal

Kind = Literal["status", "drop", "empty", "drop_write", "applied_drop", "applied_500", "applied_503", "applied_504"]
SERVER_ERRORS = (500, 502, 503, 504)
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH"})
LOST_ANSWERS: tuple[Kind, ...] = ("applied_drop", "applied_500", "applied_503", "applied_504")
_APPLIED_PREFIX = "applied_"


@dataclass(frozen=True)
class Fault:
    kind: Kind
    status: int = 0  # for kind "status"

    @property
    def applied(self) -> bool:
        """Whether the request is served (its write committed) before the fault hits its answer."""
        return self.kind.startswith(_APPLIED_PREFIX)

    @property
    def answer(self) -> Fault:
        """For an ``applied_*`` fault, what the client gets instead of the answer: a drop or a status."""
        what = self.kind[len(_APPLIED_PREFIX):]
        return Fault("drop") if what == "drop" else Fault("status", int(what))


@dataclass
class Faults:
    latency: float = 0.0  # seconds added to every request
    rate_429: float = 0.0
    retry_after: int = 1  # seconds, sent in Retry-After
    rate_5xx: float = 0.0  # status drawn from 500/502/503/504
    rate_drop: float = 0.0  # connection closed without a response
    rate_202: float = 0.0  # GET answered 202 with no body
    rate_drop_write: float = 0.0  # a write answers success but its non-journal fields are not stored
    rate_lost_answer: float = 0.0  # a write is applied, then its answer is lost (drop, 500, 503 or 504)
    drop_write_fields: frozenset[str] = frozenset()  # always silently not stored
    # Items: an HTTP status (429, 500, 503...), "drop", "202", "drop_write", one of LOST_ANSWERS
    # ("applied_drop", "applied_500", "applied_503", "applied_504"), or None (serve normally).
    script: list[int | str | None] = field(default_factory=list)
    seed: int | None = None  # read once, at construction

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)
        self._lock = threading.Lock()
        for item in self.script:
            _parse(item)

    @classmethod
    def mixed(cls, rate: float, seed: int | None = None) -> Faults:
        """``rate`` of requests meet a fault, split evenly among 429, 5xx, drop and drop_write.

        drop_write only touches writes, so on reads the effective rate is three quarters of ``rate``.
        """
        if not 0 <= rate <= 1:
            raise ValueError(f"rate must be between 0 and 1, not {rate}")
        share = rate / 4
        return cls(rate_429=share, rate_5xx=share, rate_drop=share, rate_drop_write=share, seed=seed)

    @classmethod
    def realistic(cls, rate: float, seed: int | None = None) -> Faults:
        """``rate`` split evenly among 429, 5xx and drops (none applied), answers lost after the write
        was applied (writes only) and empty 202s (GETs only): the mix a busy instance shows.

        Each request meets four of the five kinds, so its effective rate is four fifths of ``rate``.
        """
        if not 0 <= rate <= 1:
            raise ValueError(f"rate must be between 0 and 1, not {rate}")
        share = rate / 5
        return cls(rate_429=share, rate_5xx=share, rate_drop=share, rate_lost_answer=share, rate_202=share,
                   seed=seed)

    def next_fault(self, method: str) -> Fault | None:
        """The fault to inflict on the request being served, if any."""
        with self._lock:
            if self.script:
                return _parse(self.script.pop(0))
            return self._draw(method.upper())

    def _draw(self, method: str) -> Fault | None:
        # One draw against consecutive bands, so the rates add up to the share of faulted requests.
        bands: list[tuple[float, Fault | None]] = [
            (self.rate_429, Fault("status", 429)),
            (self.rate_5xx, Fault("status", self._random.choice(SERVER_ERRORS))),
            (self.rate_drop, Fault("drop")),
            (self.rate_202 if method == "GET" else 0.0, Fault("empty")),
            (self.rate_drop_write if method in WRITE_METHODS else 0.0, Fault("drop_write")),
            (self.rate_lost_answer if method in WRITE_METHODS else 0.0, None),  # drawn below
        ]
        draw = self._random.random()
        for rate, fault in bands:
            if draw < rate:
                # Drawn only when hit, so that other settings keep their seeded sequences.
                return fault or Fault(self._random.choice(LOST_ANSWERS))
            draw -= rate
        return None


def _parse(item: int | str | None) -> Fault | None:
    if item is None:
        return None
    if item in ("202", 202):
        return Fault("empty")
    if item == "drop":
        return Fault("drop")
    if item == "drop_write":
        return Fault("drop_write")
    if item in LOST_ANSWERS:
        return Fault(item)  # type: ignore[arg-type]
    if isinstance(item, int) and not isinstance(item, bool) and 400 <= item <= 599:
        return Fault("status", item)
    raise ValueError(f"unknown fault script item {item!r}: use a 4xx/5xx status, 'drop', '202', 'drop_write', "
                     f"{', '.join(repr(kind) for kind in LOST_ANSWERS)} or None")
