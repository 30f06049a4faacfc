"""The ServiceNow Table API client: with sessions.py and writing.py, the only modules that import pysnow; the only one that retries.

pysnow 0.7.17 stays behind these modules because it is in maintenance only and has defects that
the client absorbs (see servicenow-api.md):

* It reads one page only. ``iter_pages`` pages itself by key (see keyset.py): ``ORDERBYsys_id``
  and ``sys_id>`` the last sys_id of the previous page, no offset, so rows created or deleted
  during a read can neither hide nor repeat another row. It stops on a short page, or when the
  page's ``X-Total-Count`` (the rows left from that page on) says nothing follows, so an exactly
  full last page costs no extra request. A caller's query may not have its own ORDERBY.
* Its ``update`` is a GET then a PUT: ``update`` sends a single PATCH to ``/{sys_id}``.
* Parameters leak between calls on one resource: each thread keeps one resource per table and
  gives it fresh parameters before every request (sessions.py).
* Every 4xx/5xx is a bare ``requests.HTTPError``: the body is read (servicenow_errors.py) and
  turned into the project's errors with ServiceNow's message and detail; ``400 Invalid table X``
  becomes ``InvalidTableError``. No pysnow or requests exception leaves this module.

Retries
-------
Retried, at most ``settings.max_attempts`` tries in all: connection failures, timeouts, HTTP 429
and 5xx (waiting ``Retry-After`` seconds when sent, capped at ``settings.max_backoff``), and a GET
answered 202 with no body. Without ``Retry-After`` the waits grow exponentially with jitter:
about 1, 2, 4 ... seconds, capped at ``max_backoff``. Any other 4xx means the request itself is
wrong, and a TLS failure cannot be fixed by trying again.

Writes that are not idempotent, a POST or a PATCH whose payload holds a journal field
(``work_notes`` and ``comments`` append an entry on every write), are retried only where
ServiceNow certainly did not act: after a 429 (its rate limiter refuses before processing) or a
connection that was never established (refused, name not resolved, connect timeout). A 503 or
other 5xx, a read timeout, a connection dropped once the request was sent, or an empty answer
raise at once with ``maybe_applied = True``: the caller settles them by looking the write up.
A PATCH of plain fields that fails after being sent also has ``maybe_applied`` set.

Authentication: ``servicenow.auth`` is Basic (user and password) or OAuth 2.0 (oauth.py). With
OAuth, a 401 renews the token once and the request is sent once more; a second 401 raises
``AuthenticationError``.

The instance's clock: every answer's ``Date`` header is kept; ``instance_now()`` is that time
plus the monotonic time elapsed since the answer arrived.

Logging: one DEBUG line per request (method, table, status, try), one WARNING per retry (reason,
wait). Neither a secret nor the Authorization header is ever logged.

Threads: one client may be called from several threads at once (parallel writes). Each thread
has its own requests session and pysnow resources (sessions.py), made on its first request with
the same auth, TLS and timeout, and all closed by ``close()``. The request counter and the
instance's clock are shared, under a lock; so is the OAuth token (renewed once for all threads).
A 429, or a 503 with ``Retry-After``, seen by one thread makes every thread wait before its next
request (pacing.py); each call's own retries are unchanged.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from functools import partial
from typing import Any
from urllib.parse import urlsplit

import requests
from pysnow import exceptions as pysnow_errors
from requests.auth import HTTPBasicAuth
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential_jitter

from . import keyset
from ..config import ServiceNowSettings
from ..errors import AuthenticationError, ServiceNowError, TokenRefusedError
from .oauth import OAuthBearer, TokenUnavailable
from .pacing import PacingGate
from .sessions import ClientSession, Connections, Environment
from .query import Query
from .arguments import (
    ReadParameters,
    checked_page_size,
    checked_table,
    read_parameters,
    record_path,
)
from .errors import (
    Call,
    RetryableFailure,
    connection_failure,
    empty_answer_failure,
    retry_after_seconds,
    status_failure,
    unreadable_answer,
)

LOG = logging.getLogger(__name__)

Record = dict[str, Any]

DEFAULT_JOURNAL_FIELDS = frozenset({"work_notes", "comments"})
USER_AGENT = "etiu-worker"

_CONNECTION_ERRORS = (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError)
_SLOW_DOWN_STATUSES = frozenset({429, 503})  # with Retry-After, or a 429 without: every thread waits
_FIRST_BACKOFF = 1.0  # seconds; doubled at each try


class ServiceNowClient:
    """Reads and writes Table API records, with paging, retries and the project's errors."""

    def __init__(
        self,
        settings: ServiceNowSettings,
        *,
        session: requests.Session | None = None,
        sleep: Callable[[float], object] = time.sleep,
        journal_fields: frozenset[str] = DEFAULT_JOURNAL_FIELDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        settings.require_credentials()
        self._settings = settings
        self._monotonic = monotonic
        self._journal_fields = frozenset(journal_fields)
        self._environment = Environment()
        self._verify: Any = session.verify if session is not None and settings.verify_tls else settings.verify_tls
        self._bearer: OAuthBearer | None = None
        self._auth = self._made_auth()  # one for every thread's session: one OAuth token for all
        self._pacing = PacingGate(monotonic, sleep)
        self._lock = threading.Lock()  # the counter and the instance's clock
        self._answers = threading.local()  # each thread's last answer status, for its DEBUG line
        self._last_date: tuple[datetime, float] | None = None
        self._backoff = wait_exponential_jitter(initial=_FIRST_BACKOFF, max=settings.max_backoff, jitter=1)
        self._requests: Counter[tuple[str, str]] = Counter()
        address = urlsplit(settings.url)
        # Credentials in the URL's user-info part are dropped: auth travels in a header only.
        base_url = f"{address.scheme}://{address.netloc.rpartition('@')[2]}"
        shared = self._prepared(session) if session is not None else None
        self._connections = Connections(base_url, settings.timeout, self._new_session, shared)

    def _new_session(self) -> requests.Session:
        return self._prepared(ClientSession(self._environment))

    def _prepared(self, session: requests.Session) -> requests.Session:
        if not self._settings.verify_tls:
            # When on, a session passed in keeps its own CA bundle. When off, only this module's
            # own sessions also withstand REQUESTS_CA_BUNDLE (see sessions.ClientSession).
            session.verify = False
        if session.auth is None:
            session.auth = self._auth
        session.hooks["response"].append(self._remember_answer)
        session.headers.update({"Content-Type": "application/json", "Accept": "application/json",
                                "User-Agent": USER_AGENT})
        return session

    def _made_auth(self) -> requests.auth.AuthBase:
        if self._settings.auth == "basic":
            password = self._settings.password.get_secret_value()  # type: ignore[union-attr]
            return HTTPBasicAuth(self._settings.user, password)
        token_session = ClientSession(self._environment)
        token_session.verify = self._verify
        token_session.headers["User-Agent"] = USER_AGENT
        self._bearer = OAuthBearer(self._settings, token_session, clock=self._monotonic)
        return self._bearer

    def _remember_answer(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        # pysnow hides the status of a successful answer; the DEBUG line needs it.
        self._answers.status = response.status_code
        try:
            stamped = parsedate_to_datetime(response.headers.get("Date", ""))
        except (TypeError, ValueError):
            return
        if stamped.tzinfo is not None:
            with self._lock:
                self._last_date = (stamped.astimezone(timezone.utc), self._monotonic())

    def instance_now(self) -> datetime | None:
        """The instance's clock now (UTC): its last ``Date`` header plus the time since; None before any answer."""
        with self._lock:
            last_date = self._last_date
        if last_date is None:
            return None
        stamped, arrived = last_date
        return stamped + timedelta(seconds=self._monotonic() - arrived)

    @property
    def requests(self) -> Counter[tuple[str, str]]:
        """The requests sent so far by (method, table), every try counted: a copy, safe while threads send."""
        with self._lock:
            return Counter(self._requests)

    # Reads

    def list(self, table: str, query: str | Query = "", **options: Any) -> list[Record]:
        """Every record matching ``query`` (a string or a ``query.Query``), all pages read.

        ``options`` are those of ``iter_pages``: fields, display_value, exclude_reference_link,
        page_size, on_page.
        """
        return [record for page in self.iter_pages(table, query, **options) for record in page]

    def iter_pages(
        self,
        table: str,
        query: str | Query = "",
        *,
        fields: Sequence[str] | None = None,
        display_value: bool | str = False,
        exclude_reference_link: bool = True,
        page_size: int | None = None,
        on_page: Callable[[int, int | None], object] | None = None,
    ) -> Iterator[list[Record]]:
        """The matching records one non-empty page at a time, in sys_id order (keyset paging).

        The arguments are checked here, before the first request; a query with its own ORDERBY
        is a ValueError. ``fields`` gains ``sys_id``, the paging key. ``on_page(read, total)`` is
        called after each page with the rows read so far and the expected total (for progress
        bars only: it changes when rows do).
        """
        table = checked_table(table)
        parameters = read_parameters(fields, display_value, exclude_reference_link)
        parameters = replace(parameters, fields=keyset.with_key(parameters.fields))
        checked_query = keyset.checked_query(str(query))
        return self._pages(table, checked_query, parameters, checked_page_size(self._settings.page_size if page_size is None else page_size), on_page)

    def get(
        self,
        table: str,
        sys_id: str,
        *,
        fields: Sequence[str] | None = None,
        display_value: bool | str = False,
        exclude_reference_link: bool = True,
    ) -> Record:
        """One record by sys_id; NotFoundError if it does not exist or an ACL hides it."""
        table, path = checked_table(table), record_path(sys_id)
        parameters = read_parameters(fields, display_value, exclude_reference_link)
        send = partial(self._connections.current().read_record, table, path, parameters)
        return self._call(Call("GET", table, send, idempotent=True))

    # Writes

    def create(self, table: str, payload: Mapping[str, Any]) -> Record:
        """POST a new record and return it as created (raw values, reference links left out)."""
        table = checked_table(table)
        send = partial(self._connections.current().post, table, dict(payload))
        return self._call(Call("POST", table, send, idempotent=False))

    def update(self, table: str, sys_id: str, payload: Mapping[str, Any]) -> Record:
        """PATCH the given fields of one record and return the record as saved."""
        table, path = checked_table(table), record_path(sys_id)
        appends_journal_entry = not self._journal_fields.isdisjoint(payload)
        send = partial(self._connections.current().patch, table, path, dict(payload))
        return self._call(Call("PATCH", table, send, idempotent=not appends_journal_entry))

    # Lifecycle

    def close(self) -> None:
        """Close the sessions this client created, on every thread; a session passed in belongs to its owner."""
        self._connections.close()
        if self._bearer is not None:
            self._bearer.close()

    def __enter__(self) -> ServiceNowClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # Paging

    def _pages(
        self, table: str, query: str, parameters: ReadParameters, page_size: int,
        on_page: Callable[[int, int | None], object] | None = None,
    ) -> Iterator[list[Record]]:
        read, after = 0, None
        while True:
            page_query = keyset.page_query(query, after)
            send = partial(self._connections.current().read_page, table, page_query, parameters, page_size)
            records, left = self._call(Call("GET", table, send, idempotent=True))
            if on_page is not None:
                on_page(read + len(records), None if left is None else read + left)
            read += len(records)
            if records:
                after = keyset.next_key(table, records, after)
                yield records
            # X-Total-Count counts the rows from this page on: equal to the page, nothing follows.
            if len(records) < page_size or (left is not None and left <= len(records)):
                return

    # Retries

    def _call(self, call: Call) -> Any:
        try:
            return self._retried(call)
        except AuthenticationError as refused:
            if self._bearer is None or isinstance(refused, TokenRefusedError):
                raise
            LOG.info("%s %s: ServiceNow refused the OAuth token; trying once more with a new one",
                     call.method, call.table)
            self._bearer.forget_access_token()
        return self._retried(call)

    def _retried(self, call: Call) -> Any:
        retrying = Retrying(
            stop=stop_after_attempt(self._settings.max_attempts),
            retry=retry_if_exception_type(RetryableFailure),
            wait=self._wait,
            sleep=self._pacing.pause,
            before_sleep=partial(self._log_retry, call),
            reraise=True,
        )
        applied = [False]  # any try may have been carried out: the final error says so too
        try:
            for attempt in retrying:
                with attempt:
                    return self._attempt_noting_effect(call, attempt.retry_state.attempt_number, applied)
        except RetryableFailure as failure:
            LOG.warning("%s %s: giving up after %d tries: %s", call.method, call.table,
                        self._settings.max_attempts, failure.reason)
            raise failure.error from failure.__cause__
        raise AssertionError("tenacity ended without a result or an error")  # pragma: no cover

    def _attempt_noting_effect(self, call: Call, attempt: int, applied: list[bool]) -> Any:
        try:
            return self._attempt(call, attempt)
        except (RetryableFailure, ServiceNowError) as failed:
            error = failed.error if isinstance(failed, RetryableFailure) else failed
            error.maybe_applied = applied[0] = error.maybe_applied or applied[0]
            raise

    def _attempt(self, call: Call, attempt: int) -> Any:
        self._pacing.wait_turn()
        with self._lock:
            self._requests[(call.method, call.table)] += 1
        self._answers.status = None
        try:
            return call.send()
        except requests.HTTPError as exc:
            self._slow_everyone_down_if_asked(exc.response, attempt)
            raise status_failure(call, exc.response) from exc
        except pysnow_errors.EmptyContent as exc:
            raise empty_answer_failure(call) from exc
        except TokenUnavailable as exc:  # the request itself never left: safe to repeat
            raise RetryableFailure(exc.error, exc.error.message) from None
        except _CONNECTION_ERRORS as exc:
            raise connection_failure(call, exc, self._settings.timeout) from exc
        except pysnow_errors.InvalidUsage as exc:
            raise ValueError(f"invalid request for {call.method} {call.table}: {exc}") from exc
        except (pysnow_errors.PysnowException, ValueError) as exc:  # ValueError: a body that is not JSON
            raise unreadable_answer(call, self._answers.status) from exc
        finally:
            status = f"HTTP {self._answers.status}" if self._answers.status else "no response"
            LOG.debug("%s %s: %s (try %d of %d)", call.method, call.table, status, attempt,
                      self._settings.max_attempts)

    def _slow_everyone_down_if_asked(self, response: requests.Response, attempt: int) -> None:
        status = response.status_code
        if status not in _SLOW_DOWN_STATUSES:
            return
        seconds = retry_after_seconds(response)
        if seconds is None and status == 429:
            # The base of this try's own backoff (see _wait): this thread waits at least as long.
            seconds = _FIRST_BACKOFF * 2 ** (attempt - 1)
        if seconds is not None:
            self._pacing.hold_for(min(seconds, self._settings.max_backoff))

    def _wait(self, state: RetryCallState) -> float:
        failure = state.outcome.exception() if state.outcome else None
        if isinstance(failure, RetryableFailure) and failure.retry_after is not None:
            return min(failure.retry_after, self._settings.max_backoff)
        return self._backoff(state)

    def _log_retry(self, call: Call, state: RetryCallState) -> None:
        failure = state.outcome.exception() if state.outcome else None
        wait = state.next_action.sleep if state.next_action else 0.0
        LOG.warning("%s %s: %s; retrying in %.1fs (try %d of %d failed)", call.method, call.table,
                    getattr(failure, "reason", failure), wait, state.attempt_number,
                    self._settings.max_attempts)
