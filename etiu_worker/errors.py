"""The one exception tree of etiu-worker.

Every error the worker raises on purpose is an ``EtiuError``. Each class carries the process
exit code the CLI uses for it, so the mapping from failure to exit code lives in one place.
The exit codes are documented in the README and in ``etiu-worker --help``.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_ACTIONS_FAILED = 1
EXIT_USAGE = 2
EXIT_INVALID_CONFIG = 3
EXIT_SERVICENOW_UNAVAILABLE = 4
EXIT_LOCKED = 5
EXIT_INTERNAL = 70


class EtiuError(Exception):
    """Base class of every error etiu-worker raises on purpose."""

    exit_code = EXIT_INTERNAL


class ConfigError(EtiuError):
    """The configuration (file or environment) is invalid."""

    exit_code = EXIT_INVALID_CONFIG


class RulesError(EtiuError):
    """A rules file or a template is invalid; nothing was sent to ServiceNow."""

    exit_code = EXIT_INVALID_CONFIG


class TemplateError(EtiuError):
    """A template failed to render against an engagement."""

    exit_code = EXIT_INVALID_CONFIG


class QueryValueError(EtiuError):
    """A value would change the meaning of an encoded query (it holds ``^`` or a newline)."""

    exit_code = EXIT_INTERNAL


class StateError(EtiuError):
    """The state folder cannot be used: unwritable, damaged, or recorded for another instance."""

    exit_code = EXIT_INVALID_CONFIG


class LockedError(EtiuError):
    """Another run already holds the state folder's lock."""

    exit_code = EXIT_LOCKED


class ActionsFailedError(EtiuError):
    """One or more actions of a cycle failed or could not be verified."""

    exit_code = EXIT_ACTIONS_FAILED


class ServiceNowError(EtiuError):
    """ServiceNow answered with an error, or could not be reached.

    ``message`` and ``detail`` are ServiceNow's own error text when it sent one.

    ``maybe_applied`` is True when the request was a write (POST or PATCH) that reached
    ServiceNow and failed in a way that does not prove it was not carried out: a 5xx, a read
    timeout, a connection dropped after sending, an empty or unreadable answer. The caller must
    then look the write up on the instance before sending it again. It is False for reads, for
    writes refused before processing (429, 4xx) and for connections never established.
    """

    exit_code = EXIT_ACTIONS_FAILED

    def __init__(
        self,
        message: str,
        detail: str = "",
        *,
        status: int | None = None,
        method: str = "",
        table: str = "",
        maybe_applied: bool = False,
    ) -> None:
        self.message = message
        self.maybe_applied = maybe_applied
        self.detail = detail
        self.status = status
        self.method = method
        self.table = table
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"{self.method} {self.table}".strip()
        status = f"HTTP {self.status}" if self.status is not None else ""
        head = ", ".join(part for part in (where, status) if part)
        text = self.message + (f" ({self.detail})" if self.detail else "")
        return f"{head}: {text}" if head else text


class UnreachableError(ServiceNowError):
    """ServiceNow could not be reached (connection refused, DNS, timeout, TLS) after retries."""

    exit_code = EXIT_SERVICENOW_UNAVAILABLE


class AuthenticationError(ServiceNowError):
    """ServiceNow refused the credentials (HTTP 401)."""

    exit_code = EXIT_SERVICENOW_UNAVAILABLE


class ForbiddenError(ServiceNowError):
    """ServiceNow refused the operation: ACL, data policy or business rule (HTTP 403)."""


class NotFoundError(ServiceNowError):
    """The record does not exist, or an ACL hides it (HTTP 404)."""


class RateLimitedError(ServiceNowError):
    """ServiceNow kept answering 429 Too Many Requests after every retry."""

    exit_code = EXIT_SERVICENOW_UNAVAILABLE


class ServerError(ServiceNowError):
    """ServiceNow kept answering 5xx after every retry."""

    exit_code = EXIT_SERVICENOW_UNAVAILABLE


class EmptyResponseError(ServiceNowError):
    """ServiceNow answered 202 with no body: the request was dropped from its queue."""

    exit_code = EXIT_SERVICENOW_UNAVAILABLE


class BadRequestError(ServiceNowError):
    """ServiceNow refused the request as malformed (another 4xx)."""


class InvalidTableError(BadRequestError):
    """The instance has no such table (HTTP 400 "Invalid table <name>"): the schema names it wrong.

    ``table`` is the table ServiceNow named. ``fix`` says which setting to change once the caller
    knows it (``runner`` fills it from the schema); it ends the message.
    """

    exit_code = EXIT_INVALID_CONFIG

    def __init__(self, message: str, detail: str = "", *, fix: str = "", **where: object) -> None:
        self.fix = fix
        super().__init__(message, detail, **where)  # type: ignore[arg-type]

    def __str__(self) -> str:
        return super().__str__() + (f": {self.fix}" if self.fix else "")


class TokenRefusedError(AuthenticationError):
    """The OAuth token endpoint refused the client or the user: a new token cannot be had."""


class RoadmapError(EtiuError):
    """A short description's roadmap cannot be parsed.

    Also raised when a roadmap cannot be written back (the dates alone overflow the field, or a
    title would read as a label) and when a prod upgrade's local time does not exist, or
    contradicts its zone label, in the engagement's time zone. ``text`` is the text at fault,
    ``position`` the index in ``text`` where the problem starts, ``expected`` the accepted form.
    The ticket needs a human, so it counts as a failed action, not an internal error.
    """

    exit_code = EXIT_ACTIONS_FAILED

    def __init__(self, problem: str, text: str, position: int, expected: str) -> None:
        self.problem = problem
        self.text = text
        self.position = position
        self.expected = expected
        # Every argument goes to Exception so that the error pickles (multiprocessing, logging).
        super().__init__(problem, text, position, expected)

    def __str__(self) -> str:
        return f"{self.problem} (at index {self.position}); expected {self.expected}"
