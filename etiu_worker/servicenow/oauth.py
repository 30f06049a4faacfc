"""OAuth 2.0 for the ServiceNow client: a requests auth object that keeps a Bearer token fresh.

``servicenow.auth`` chooses the grant: ``oauth_password`` (client id and secret, user and
password; ServiceNow also issues a refresh token) or ``oauth_client_credentials`` (client id and
secret only). Tokens come from ``POST {url}/oauth_token.do`` with a form-encoded body, as
ServiceNow requires (it refuses JSON).

A token is renewed a little before ``expires_in`` runs out (a tenth of its life, at most a
minute), and again whenever the instance answers 401 (the client calls ``forget_access_token``
and sends the request once more). Renewing uses the refresh token when there is one and falls
back to a new password grant when the instance refuses it.

One bearer serves every thread of a client: the token is checked and renewed under a lock, so
threads that find it expired wait for one renewal instead of each asking for a token. A 401 makes
``forget_access_token`` drop the token only if it is the one the calling thread sent: when
several threads are refused the same old token, the first renews it and the others use the new one.

Failures: the token endpoint refusing the client or the user raises ``TokenRefusedError`` (exit
4) naming the settings to check; the endpoint unreachable, 429 or 5xx raises ``TokenUnavailable``,
which the client retries like a request never sent (the API request did not leave). The client
id, secret, password and tokens never reach a message or a log line.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import requests
from requests.auth import AuthBase

from ..config import ServiceNowSettings
from ..errors import ServerError, ServiceNowError, TokenRefusedError, UnreachableError

LOG = logging.getLogger(__name__)

TOKEN_PATH = "/oauth_token.do"
_LONGEST_EARLY_RENEWAL = 60.0  # seconds
_CHECK = {
    "oauth_password": "servicenow.client_id, servicenow.client_secret, servicenow.user and servicenow.password",
    "oauth_client_credentials": "servicenow.client_id and servicenow.client_secret, and that the instance "
                                "allows the client_credentials grant",
}


class TokenUnavailable(Exception):
    """No token could be had for a reason that may pass (no connection, 429, 5xx): retry later."""

    def __init__(self, error: ServiceNowError) -> None:
        super().__init__(str(error))
        self.error = error


class OAuthBearer(AuthBase):
    """Sets ``Authorization: Bearer <token>`` on each request, fetching and renewing the token."""

    def __init__(self, settings: ServiceNowSettings, session: requests.Session, *,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._settings = settings
        self._session = session
        self._clock = clock
        self._access_token: str | None = None
        self._refresh_token: str | None = None
        self._renew_at = 0.0
        self._lock = threading.Lock()
        self._sent = threading.local()  # the token this thread last sent

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        token = self._sent.token = self._current_token()
        request.headers["Authorization"] = f"Bearer {token}"
        return request

    def forget_access_token(self) -> None:
        """The instance refused the token this thread sent (401): the next request gets a new one."""
        with self._lock:
            if self._access_token == getattr(self._sent, "token", None):
                self._access_token = None

    def close(self) -> None:
        """Close the session used for the token endpoint."""
        self._session.close()

    def _current_token(self) -> str:
        with self._lock:
            if self._access_token is None or self._clock() >= self._renew_at:
                self._obtain()
            assert self._access_token is not None
            return self._access_token

    def _obtain(self) -> None:
        if self._refresh_token is not None:
            try:
                return self._keep(self._grant("refresh_token", refresh_token=self._refresh_token))
            except TokenRefusedError:
                LOG.info("ServiceNow refused the OAuth refresh token; asking for a new token")
                self._refresh_token = None
        if self._settings.auth == "oauth_client_credentials":
            return self._keep(self._grant("client_credentials"))
        password = self._settings.password.get_secret_value()  # type: ignore[union-attr]
        self._keep(self._grant("password", username=self._settings.user or "", password=password))

    def _keep(self, answer: Mapping[str, Any]) -> None:
        lifetime = _seconds(answer.get("expires_in"))
        self._access_token = str(answer["access_token"])
        self._refresh_token = str(answer["refresh_token"]) if answer.get("refresh_token") else self._refresh_token
        self._renew_at = self._clock() + lifetime - min(lifetime / 10, _LONGEST_EARLY_RENEWAL)

    def _grant(self, grant_type: str, **form: str) -> Mapping[str, Any]:
        secret = self._settings.client_secret.get_secret_value()  # type: ignore[union-attr]
        body = {"grant_type": grant_type, "client_id": self._settings.client_id or "",
                "client_secret": secret, **form}
        try:
            response = self._session.post(f"{self._settings.url}{TOKEN_PATH}", data=body,
                                          headers={"Accept": "application/json"},
                                          timeout=self._settings.timeout)
        except requests.RequestException as exc:
            raise TokenUnavailable(UnreachableError(
                "could not get an OAuth token from ServiceNow", type(exc).__name__,
                method="POST", table=TOKEN_PATH.lstrip("/"))) from None
        return self._answer(grant_type, response)

    def _answer(self, grant_type: str, response: requests.Response) -> Mapping[str, Any]:
        status = response.status_code
        where: dict[str, Any] = dict(status=status, method="POST", table=TOKEN_PATH.lstrip("/"))
        if status == 429 or status >= 500:
            raise TokenUnavailable(ServerError("ServiceNow's token endpoint failed", response.reason or "", **where))
        body = _json_object(response)
        if status >= 400:
            raise TokenRefusedError(
                f"ServiceNow refused the OAuth {grant_type} grant ({_oauth_error(body)})",
                f"check {_CHECK[self._settings.auth]}",
                **where,
            )
        if not body.get("access_token"):
            raise ServerError("ServiceNow's token answer holds no access_token", **where)
        return body


def _json_object(response: requests.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _oauth_error(body: Mapping[str, Any]) -> str:
    # RFC 6749's error codes; ServiceNow often sends only "server_error" / "access_denied".
    parts = [str(body.get(key)) for key in ("error", "error_description") if body.get(key)]
    return ": ".join(parts) or "no reason given"


def _seconds(value: object) -> float:
    # Without a usable expires_in the token is kept until the instance refuses it (401).
    try:
        seconds = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return float("inf")
    return max(seconds, 0.0) if seconds == seconds else float("inf")
