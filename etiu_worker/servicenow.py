"""The ServiceNow Table API client: the only module that imports pysnow, and the only one that retries.

pysnow 0.7.17 stays behind this module because it is in maintenance only and has defects that
the client absorbs (see servicenow-api.md):

* It reads one page only. ``iter_pages`` pages itself with ``sysparm_offset`` over a query
  ordered by ``sys_id`` (offset paging without an order can repeat and skip rows), and stops on
  a short page or once ``X-Total-Count`` rows are read, so an exactly full last page costs no
  extra request. Rows created or deleted while paging may still shift a page: the next cycle
  sees them.
* Its ``update`` is a GET then a PUT: ``update`` sends a single PATCH to ``/{sys_id}``.
* Parameters leak between calls on one resource: every request gets a fresh resource.
* Every 4xx/5xx is a bare ``requests.HTTPError``: the body is read here and turned into the
  project's errors (``errors.py``) with ServiceNow's message and detail. No pysnow or requests
  exception leaves this module.

Retries
-------
Retried, at most ``settings.max_attempts`` tries in all: connection failures, timeouts, HTTP 429
and 503 (waiting ``Retry-After`` seconds when sent, capped at ``settings.max_backoff``), 500, 502,
504, and a GET answered 202 with no body (ServiceNow dropped it from its queue). Without
``Retry-After`` the waits grow exponentially with jitter: about 1, 2, 4 ... seconds, capped at
``max_backoff``. Nothing else is retried: any other 4xx means the request itself is wrong, and a
TLS failure (a certificate that does not verify) cannot be fixed by trying again.

Writes that are not idempotent, a POST or a PATCH whose payload holds a journal field
(``work_notes`` and ``comments`` append an entry on every write), must not be repeated when
ServiceNow may already have acted on them. They are retried only when the request surely did not
reach ServiceNow or was refused before processing: connection refused or name not resolved,
connect timeout, 429 and 503. After a read timeout, a connection dropped once the request was
sent, or a 500/502/504, they raise at once; the caller's idempotency checks (look before writing)
settle it on the next cycle. GETs and PATCHes of plain fields are idempotent and get every retry.

Logging: one DEBUG line per request (method, table, status, try), one WARNING per retry (reason,
wait). Neither the password nor the Authorization header is ever logged.

A client is not thread-safe: use one per thread.
"""

from __future__ import annotations

import logging
import math
import re
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any
from urllib.parse import urlsplit

import pysnow
import requests
from pysnow import exceptions as pysnow_errors
from requests.auth import HTTPBasicAuth
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)
from urllib3.exceptions import ConnectTimeoutError

from .config import ServiceNowSettings
from .errors import (
    AuthenticationError,
    BadRequestError,
    EmptyResponseError,
    ForbiddenError,
    NotFoundError,
    QueryValueError,
    RateLimitedError,
    ServerError,
    ServiceNowError,
    UnreachableError,
)
from .query import Query, checked_field

LOG = logging.getLogger(__name__)

Record = dict[str, Any]

DEFAULT_JOURNAL_FIELDS = frozenset({"work_notes", "comments"})
MAX_PAGE_SIZE = 10000  # ServiceNow's own default and usual ceiling for sysparm_limit
USER_AGENT = "etiu-worker"

_RETRIED_STATUSES = frozenset({429, 500, 502, 503, 504})
_REFUSED_BEFORE_PROCESSING = frozenset({429, 503})  # repeating these is safe for any request
_ERROR_FOR_STATUS: Mapping[int, type[ServiceNowError]] = {
    401: AuthenticationError,
    403: ForbiddenError,
    404: NotFoundError,
    429: RateLimitedError,
}
_TABLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SYS_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_MARKUP = re.compile(r"<[^>]*>")
_EXCERPT_CHARACTERS = 300


class _RetryableFailure(Exception):
    """One failed try that may be repeated; ``error`` is what the caller gets when tries run out."""

    def __init__(self, error: ServiceNowError, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.error = error
        self.reason = reason
        self.retry_after = retry_after


@dataclass(frozen=True)
class _Call:
    """One logical request: how to send it, and whether repeating it is harmless."""

    method: str
    table: str
    send: Callable[[], Any]
    idempotent: bool


@dataclass(frozen=True)
class _ReadParameters:
    fields: tuple[str, ...]
    display_value: bool | str
    exclude_reference_link: bool


class _Session(requests.Session):
    """A session whose ``verify = False`` holds even when REQUESTS_CA_BUNDLE or CURL_CA_BUNDLE is set.

    requests lets those variables replace a session's ``verify = False`` with a CA bundle
    (psf/requests#3829), so ``servicenow.verify_tls = false`` would silently still verify.
    """

    def merge_environment_settings(self, url, proxies, stream, verify, cert):  # type: ignore[no-untyped-def]
        merged = super().merge_environment_settings(url, proxies, stream, verify, cert)
        if verify is None and self.verify is False:
            merged["verify"] = False
        return merged


class ServiceNowClient:
    """Reads and writes Table API records, with paging, retries and the project's errors."""

    def __init__(
        self,
        settings: ServiceNowSettings,
        *,
        session: requests.Session | None = None,
        sleep: Callable[[float], object] = time.sleep,
        journal_fields: frozenset[str] = DEFAULT_JOURNAL_FIELDS,
    ) -> None:
        settings.require_credentials()
        self._settings = settings
        self._sleep = sleep
        self._journal_fields = frozenset(journal_fields)
        self._owns_session = session is None
        self._session = self._prepared_session(session if session is not None else _Session())
        self._last_status: int | None = None
        self._backoff = wait_exponential_jitter(initial=1, max=settings.max_backoff, jitter=1)
        self.requests: Counter[tuple[str, str]] = Counter()
        address = urlsplit(settings.url)
        self._pysnow = pysnow.Client(
            # Credentials in the URL's user-info part are dropped: auth travels in a header only.
            host=address.netloc.rpartition("@")[2],
            use_ssl=address.scheme == "https",
            session=self._session,
        )
        self._session.headers["User-Agent"] = USER_AGENT  # pysnow set its own name

    def _prepared_session(self, session: requests.Session) -> requests.Session:
        if not self._settings.verify_tls:
            # When on, a session passed in keeps its own CA bundle. When off, only this module's
            # own session also withstands REQUESTS_CA_BUNDLE (see _Session).
            session.verify = False
        if session.auth is None:
            password = self._settings.password.get_secret_value()  # type: ignore[union-attr]
            session.auth = HTTPBasicAuth(self._settings.user, password)
        session.hooks["response"].append(self._remember_status)
        return session

    def _remember_status(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        # pysnow hides the status of a successful answer; the DEBUG line needs it.
        self._last_status = response.status_code

    # Reads

    def list(
        self,
        table: str,
        query: str | Query = "",
        *,
        fields: Sequence[str] | None = None,
        display_value: bool | str = False,
        exclude_reference_link: bool = True,
        page_size: int | None = None,
        on_page: Callable[[int, int | None], object] | None = None,
    ) -> list[Record]:
        """Every record matching ``query`` (a string or a ``query.Query``), all pages read."""
        pages = self.iter_pages(
            table,
            query,
            fields=fields,
            display_value=display_value,
            exclude_reference_link=exclude_reference_link,
            page_size=page_size,
            on_page=on_page,
        )
        return [record for page in pages for record in page]

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
        """The matching records one non-empty page at a time, ordered by sys_id after ``query``'s own order.

        The arguments are checked here, before the first request. ``on_page(read, total)`` is
        called after each page with the rows read so far and X-Total-Count (for progress bars).
        """
        table = _checked_table(table)
        parameters = _read_parameters(fields, display_value, exclude_reference_link)
        ordered_query = _ordered_by_sys_id(str(query))
        return self._pages(table, ordered_query, parameters, self._checked_page_size(page_size), on_page)

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
        table, path = _checked_table(table), _record_path(sys_id)
        parameters = _read_parameters(fields, display_value, exclude_reference_link)
        send = partial(self._read_record, table, path, parameters)
        return self._call(_Call("GET", table, send, idempotent=True))

    # Writes

    def create(self, table: str, payload: Mapping[str, Any]) -> Record:
        """POST a new record and return it as created (raw values, reference links left out)."""
        table = _checked_table(table)
        send = partial(self._post, table, dict(payload))
        return self._call(_Call("POST", table, send, idempotent=False))

    def update(self, table: str, sys_id: str, payload: Mapping[str, Any]) -> Record:
        """PATCH the given fields of one record and return the record as saved."""
        table, path = _checked_table(table), _record_path(sys_id)
        appends_journal_entry = not self._journal_fields.isdisjoint(payload)
        send = partial(self._patch, table, path, dict(payload))
        return self._call(_Call("PATCH", table, send, idempotent=not appends_journal_entry))

    # Lifecycle

    def close(self) -> None:
        """Close the session this client created; a session passed in belongs to its owner."""
        if self._owns_session:
            self._session.close()

    def __enter__(self) -> ServiceNowClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # Paging and single requests through pysnow

    def _pages(
        self, table: str, query: str, parameters: _ReadParameters, page_size: int,
        on_page: Callable[[int, int | None], object] | None = None,
    ) -> Iterator[list[Record]]:
        offset = 0
        while True:
            send = partial(self._read_page, table, query, parameters, page_size, offset)
            records, total = self._call(_Call("GET", table, send, idempotent=True))
            offset += len(records)
            if on_page is not None:
                on_page(offset, total)
            if records:
                yield records
            if len(records) < page_size or (total is not None and offset >= total):
                return

    def _read_page(
        self, table: str, query: str, parameters: _ReadParameters, limit: int, offset: int
    ) -> tuple[list[Record], int | None]:
        response = self._resource(table).get(
            query=query,
            limit=limit,
            offset=offset,
            fields=list(parameters.fields),
            display_value=parameters.display_value,
            exclude_reference_link=parameters.exclude_reference_link,
        )
        return response.all(), _total_count(response.headers)

    def _read_record(self, table: str, path: str, parameters: _ReadParameters) -> Record:
        resource = self._resource(table)
        # resource.request() refuses params=: the resource's own parameters are what gets sent.
        resource.parameters.fields = list(parameters.fields)
        resource.parameters.display_value = parameters.display_value
        resource.parameters.exclude_reference_link = parameters.exclude_reference_link
        return resource.request("GET", path_append=path).one()

    def _post(self, table: str, payload: Record) -> Record:
        return self._writer(table).create(payload).one()

    def _patch(self, table: str, path: str, payload: Record) -> Record:
        # One PATCH: pysnow's own update() would send a GET, then a PUT.
        return self._writer(table).request("PATCH", path_append=path, json=payload).one()

    def _writer(self, table: str) -> Any:
        resource = self._resource(table)
        # Returned records then have the shape list() and get() give by default.
        resource.parameters.exclude_reference_link = True
        return resource

    def _resource(self, table: str) -> Any:
        # A fresh resource per request: pysnow leaks parameters from one call to the next.
        return self._pysnow.resource(api_path=f"/table/{table}", timeout=self._settings.timeout)

    def _checked_page_size(self, page_size: int | None) -> int:
        size = self._settings.page_size if page_size is None else page_size
        if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be an int from 1 to {MAX_PAGE_SIZE}, not {size!r}")
        return size

    # Retries

    def _call(self, call: _Call) -> Any:
        retrying = Retrying(
            stop=stop_after_attempt(self._settings.max_attempts),
            retry=retry_if_exception_type(_RetryableFailure),
            wait=self._wait,
            sleep=self._sleep,
            before_sleep=partial(self._log_retry, call),
            reraise=True,
        )
        try:
            for attempt in retrying:
                with attempt:
                    return self._attempt(call, attempt.retry_state.attempt_number)
        except _RetryableFailure as failure:
            LOG.warning("%s %s: giving up after %d tries: %s", call.method, call.table,
                        self._settings.max_attempts, failure.reason)
            raise failure.error from failure.__cause__
        raise AssertionError("tenacity ended without a result or an error")  # pragma: no cover

    def _attempt(self, call: _Call, attempt: int) -> Any:
        self.requests[(call.method, call.table)] += 1
        self._last_status = None
        try:
            return call.send()
        except requests.HTTPError as exc:
            raise self._status_failure(call, exc.response) from exc
        except pysnow_errors.EmptyContent as exc:
            raise _empty_answer_failure(call) from exc
        except (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError) as exc:
            raise self._connection_failure(call, exc) from exc
        except pysnow_errors.InvalidUsage as exc:
            raise ValueError(f"invalid request for {call.method} {call.table}: {exc}") from exc
        except (pysnow_errors.PysnowException, ValueError) as exc:  # ValueError: a body that is not JSON
            raise _unreadable_answer(call, self._last_status) from exc
        finally:
            status = f"HTTP {self._last_status}" if self._last_status else "no response"
            LOG.debug("%s %s: %s (try %d of %d)", call.method, call.table, status, attempt,
                      self._settings.max_attempts)

    def _status_failure(self, call: _Call, response: requests.Response) -> Exception:
        error = _error_for_response(response, call)
        status = response.status_code
        if status not in _RETRIED_STATUSES:
            return error
        if call.idempotent or status in _REFUSED_BEFORE_PROCESSING:
            retry_after = _retry_after(response)
            waited = f" (Retry-After: {retry_after:g}s)" if retry_after is not None else ""
            return _RetryableFailure(error, f"HTTP {status} {response.reason}{waited}", retry_after)
        _log_not_repeated(call, f"HTTP {status}")
        return error

    def _connection_failure(self, call: _Call, exc: requests.RequestException) -> Exception:
        detail = _innermost_text(exc)
        if isinstance(exc, requests.exceptions.SSLError):
            return UnreachableError("the TLS handshake with ServiceNow failed", detail + _TLS_HINT,
                                    method=call.method, table=call.table)
        not_sent = _surely_not_sent(exc)
        error = UnreachableError(self._connection_message(exc, not_sent), detail,
                                 method=call.method, table=call.table)
        if call.idempotent or not_sent:
            return _RetryableFailure(error, error.message)
        _log_not_repeated(call, error.message)
        return error

    def _connection_message(self, exc: requests.RequestException, not_sent: bool) -> str:
        timeout = self._settings.timeout
        if isinstance(exc, requests.ConnectTimeout):
            return f"could not connect to ServiceNow within {timeout:g}s"
        if isinstance(exc, requests.Timeout):
            return f"ServiceNow did not answer within {timeout:g}s"
        if not_sent:
            return "could not connect to ServiceNow"
        return "the connection to ServiceNow broke during the request"

    def _wait(self, state: RetryCallState) -> float:
        failure = state.outcome.exception() if state.outcome else None
        if isinstance(failure, _RetryableFailure) and failure.retry_after is not None:
            return min(failure.retry_after, self._settings.max_backoff)
        return self._backoff(state)

    def _log_retry(self, call: _Call, state: RetryCallState) -> None:
        failure = state.outcome.exception() if state.outcome else None
        wait = state.next_action.sleep if state.next_action else 0.0
        LOG.warning("%s %s: %s; retrying in %.1fs (try %d of %d failed)", call.method, call.table,
                    getattr(failure, "reason", failure), wait, state.attempt_number,
                    self._settings.max_attempts)


_TLS_HINT = "; check the certificate, or servicenow.verify_tls for a test instance"


def _log_not_repeated(call: _Call, reason: str) -> None:
    LOG.warning("%s %s: %s; not repeated, ServiceNow may already have acted on it",
                call.method, call.table, reason)


def _error_for_response(response: requests.Response, call: _Call) -> ServiceNowError:
    status = response.status_code
    error_class = _ERROR_FOR_STATUS.get(status) or (ServerError if status >= 500 else BadRequestError)
    message, detail = _error_text(response)
    return error_class(message, detail, status=status, method=call.method, table=call.table)


def _error_text(response: requests.Response) -> tuple[str, str]:
    """ServiceNow's ``{"error": {"message", "detail"}}``, or the reason phrase and a body excerpt."""
    fallback = response.reason or f"HTTP {response.status_code}"
    try:
        body = response.json()
    except ValueError:
        body = None
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        message = str(error.get("message") or "").strip() or fallback
        return message, str(error.get("detail") or "").strip()
    return fallback, _excerpt(_MARKUP.sub(" ", response.text or ""))


def _empty_answer_failure(call: _Call) -> Exception:
    error = EmptyResponseError(
        "ServiceNow answered 202 with no body: it dropped the request from its queue",
        status=202, method=call.method, table=call.table,
    )
    return _RetryableFailure(error, "HTTP 202 with no body") if call.idempotent else error


def _unreadable_answer(call: _Call, status: int | None) -> ServiceNowError:
    return ServerError(
        "ServiceNow's answer is not a Table API result",
        "the body is not JSON with a 'result' key; a hibernating instance or a login page answers like this",
        status=status, method=call.method, table=call.table,
    )


def _retry_after(response: requests.Response) -> float | None:
    # Seconds only; an HTTP-date falls back to the exponential backoff.
    try:
        seconds = float(response.headers.get("Retry-After", ""))
    except ValueError:
        return None
    return max(seconds, 0.0) if math.isfinite(seconds) else None


def _surely_not_sent(exc: BaseException) -> bool:
    """True when the connection was never established, so ServiceNow cannot have seen the request."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    # urllib3's NewConnectionError (refused, unresolved name) is a ConnectTimeoutError.
    return any(isinstance(cause, ConnectTimeoutError) for cause in _causes(exc))


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and what it wraps: requests puts urllib3's error in args, urllib3 in ``reason``."""
    pending, seen = [exc], set()
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        linked = [*current.args, getattr(current, "reason", None), current.__cause__, current.__context__]
        pending.extend(item for item in linked if isinstance(item, BaseException))


def _innermost_text(exc: BaseException) -> str:
    inner = exc.args[0] if exc.args and isinstance(exc.args[0], BaseException) else exc
    reason = getattr(inner, "reason", None)
    return _excerpt(str(reason if isinstance(reason, BaseException) else inner))


def _excerpt(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _EXCERPT_CHARACTERS else text[:_EXCERPT_CHARACTERS] + "..."


def _total_count(headers: Mapping[str, str]) -> int | None:
    try:
        return int(headers.get("X-Total-Count", ""))
    except ValueError:
        return None


def _ordered_by_sys_id(query: str) -> str:
    # A stable order makes offset paging neither repeat nor skip rows; the caller's order comes first.
    query = query.strip()
    return f"{query}^ORDERBYsys_id" if query else "ORDERBYsys_id"


def _read_parameters(
    fields: Sequence[str] | None, display_value: bool | str, exclude_reference_link: bool
) -> _ReadParameters:
    return _ReadParameters(
        fields=_checked_fields(fields),
        display_value=_checked_display_value(display_value),
        exclude_reference_link=bool(exclude_reference_link),
    )


def _checked_fields(fields: Sequence[str] | None) -> tuple[str, ...]:
    if fields is None:
        return ()
    if isinstance(fields, str):
        raise TypeError("fields takes a sequence of field names, not one string")
    return tuple(checked_field(name) for name in fields)


def _checked_display_value(value: bool | str) -> bool | str:
    if isinstance(value, bool) or value == "all":
        return value
    if isinstance(value, str) and value.lower() in ("true", "false", "all"):
        return {"true": True, "false": False, "all": "all"}[value.lower()]
    raise ValueError(f"display_value must be True, False or 'all', not {value!r}")


def _checked_table(table: str) -> str:
    if not isinstance(table, str) or not _TABLE_NAME.fullmatch(table):
        raise QueryValueError(f"{table!r} is not a table name: use letters, digits and '_'")
    return table


def _record_path(sys_id: str) -> str:
    # The sys_id becomes part of the URL: anything but an id could point the request elsewhere.
    if not isinstance(sys_id, str) or not _SYS_ID.fullmatch(sys_id):
        raise QueryValueError(
            f"{str(sys_id)[:40]!r} is not a sys_id: expected letters, digits, '_' or '-' (32 hex digits)"
        )
    return f"/{sys_id}"
