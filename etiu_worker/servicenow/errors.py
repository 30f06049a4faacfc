"""How the ServiceNow client reads a failed try: the project's error, and whether to try again.

``servicenow.py`` sends; this module turns what came back (an HTTP status and body, or a
requests exception) into an ``errors.ServiceNowError``, wrapped in ``RetryableFailure`` when
repeating the request is safe. No pysnow here: that stays behind ``servicenow.py``.

A request may be repeated when it is idempotent (a GET, a PATCH of plain fields) or when
ServiceNow surely did not act on it: a 429 (the rate limiter refuses before processing), or a
connection that was never established. Everything else on a write that is not idempotent (a
POST, a PATCH appending a journal entry) raises at once, 503 included: a load balancer's 503 can
come after the instance committed. Such an error has ``maybe_applied`` set (see errors.py).
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import requests
from urllib3.exceptions import ConnectTimeoutError

from ..errors import (
    AuthenticationError,
    BadRequestError,
    EmptyResponseError,
    ForbiddenError,
    InvalidTableError,
    NotFoundError,
    RateLimitedError,
    ServerError,
    ServiceNowError,
    UnreachableError,
)

LOG = logging.getLogger("etiu_worker.servicenow.client")  # the client's log: one logger for its lines

RETRIED_STATUSES = frozenset({429, 500, 502, 503, 504})
REFUSED_BEFORE_PROCESSING = frozenset({429})  # repeating these is safe for any request
WRITE_METHODS = frozenset({"POST", "PATCH"})
_ERROR_FOR_STATUS: Mapping[int, type[ServiceNowError]] = {
    401: AuthenticationError,
    403: ForbiddenError,
    404: NotFoundError,
    429: RateLimitedError,
}
_INVALID_TABLE = re.compile(r"Invalid table (\S+)")
_MARKUP = re.compile(r"<[^>]*>")
_EXCERPT_CHARACTERS = 300
_TLS_HINT = "; check the certificate, or servicenow.verify_tls for a test instance"


class RetryableFailure(Exception):
    """One failed try that may be repeated; ``error`` is what the caller gets when tries run out."""

    def __init__(self, error: ServiceNowError, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.error = error
        self.reason = reason
        self.retry_after = retry_after


@dataclass(frozen=True)
class Call:
    """One logical request: how to send it, and whether repeating it is harmless."""

    method: str
    table: str
    send: Callable[[], Any]
    idempotent: bool

    @property
    def writes(self) -> bool:
        return self.method in WRITE_METHODS


def status_failure(call: Call, response: requests.Response) -> Exception:
    """The error for an HTTP error status, wrapped in RetryableFailure when a retry is safe."""
    status = response.status_code
    error = error_for_response(response, call)
    if status not in RETRIED_STATUSES:
        return error
    if call.idempotent or status in REFUSED_BEFORE_PROCESSING:
        retry_after = retry_after_seconds(response)
        waited = f" (Retry-After: {retry_after:g}s)" if retry_after is not None else ""
        return RetryableFailure(error, f"HTTP {status} {response.reason}{waited}", retry_after)
    log_not_repeated(call, f"HTTP {status}")
    return error


def connection_failure(call: Call, exc: requests.RequestException, timeout: float) -> Exception:
    """The error for a request that got no answer; retryable when idempotent or surely not sent."""
    detail = innermost_text(exc)
    if isinstance(exc, requests.exceptions.SSLError):
        return UnreachableError("the TLS handshake with ServiceNow failed", detail + _TLS_HINT,
                                method=call.method, table=call.table)
    not_sent = surely_not_sent(exc)
    error = UnreachableError(_connection_message(exc, not_sent, timeout), detail, method=call.method,
                             table=call.table, maybe_applied=call.writes and not not_sent)
    if call.idempotent or not_sent:
        return RetryableFailure(error, error.message)
    log_not_repeated(call, error.message)
    return error


def _connection_message(exc: requests.RequestException, not_sent: bool, timeout: float) -> str:
    if isinstance(exc, requests.ConnectTimeout):
        return f"could not connect to ServiceNow within {timeout:g}s"
    if isinstance(exc, requests.Timeout):
        return f"ServiceNow did not answer within {timeout:g}s"
    if not_sent:
        return "could not connect to ServiceNow"
    return "the connection to ServiceNow broke during the request"


def empty_answer_failure(call: Call) -> Exception:
    error = EmptyResponseError(
        "ServiceNow answered 202 with no body: it dropped the request from its queue",
        status=202, method=call.method, table=call.table, maybe_applied=call.writes,
    )
    return RetryableFailure(error, "HTTP 202 with no body") if call.idempotent else error


def unreadable_answer(call: Call, status: int | None) -> ServiceNowError:
    return ServerError(
        "ServiceNow's answer is not a Table API result",
        "the body is not JSON with a 'result' key; a hibernating instance or a login page answers like this",
        status=status, method=call.method, table=call.table, maybe_applied=call.writes,
    )


def log_not_repeated(call: Call, reason: str) -> None:
    LOG.warning("%s %s: %s; not repeated, ServiceNow may already have acted on it",
                call.method, call.table, reason)


def error_for_response(response: requests.Response, call: Call) -> ServiceNowError:
    status = response.status_code
    message, detail = error_text(response)
    where: dict[str, Any] = dict(status=status, method=call.method, table=call.table,
                                 maybe_applied=call.writes and status >= 500)
    invalid_table = _INVALID_TABLE.fullmatch(message) if status == 400 else None
    if invalid_table:
        return InvalidTableError(message, detail, **{**where, "table": invalid_table.group(1)})
    error_class = _ERROR_FOR_STATUS.get(status) or (ServerError if status >= 500 else BadRequestError)
    return error_class(message, detail, **where)


def error_text(response: requests.Response) -> tuple[str, str]:
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
    return fallback, excerpt(_MARKUP.sub(" ", response.text or ""))


def retry_after_seconds(response: requests.Response) -> float | None:
    # Seconds only; an HTTP-date falls back to the exponential backoff.
    try:
        seconds = float(response.headers.get("Retry-After", ""))
    except ValueError:
        return None
    return max(seconds, 0.0) if math.isfinite(seconds) else None


def surely_not_sent(exc: BaseException) -> bool:
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


def innermost_text(exc: BaseException) -> str:
    inner = exc.args[0] if exc.args and isinstance(exc.args[0], BaseException) else exc
    reason = getattr(inner, "reason", None)
    return excerpt(str(reason if isinstance(reason, BaseException) else inner))


def excerpt(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _EXCERPT_CHARACTERS else text[:_EXCERPT_CHARACTERS] + "..."
