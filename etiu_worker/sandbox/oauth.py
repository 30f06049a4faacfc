"""The sandbox's OAuth 2.0 token endpoint, ``POST /oauth_token.do``, as ServiceNow serves it.

Grants: ``password`` (client id and secret, user and password: an access and a refresh token),
``refresh_token`` (a new access token for a refresh token) and ``client_credentials`` (client id
and secret: an access token only). The body must be form-encoded; JSON is refused. A client is
registered with ``issuer.clients[client_id] = secret``. Access tokens live ``token_lifetime``
seconds; a test can end them all at once (``expire_access_tokens``) or revoke every refresh
token (``revoke_refresh_tokens``). ``grants`` lists the grant type of every request served.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Mapping
from urllib.parse import parse_qsl

TOKEN_PATH = "/oauth_token.do"
DEFAULT_LIFETIME = 1799  # ServiceNow's default: 30 minutes, less a second
_FORM = "application/x-www-form-urlencoded"

Answer = tuple[int, dict[str, object]]


class TokenIssuer:
    """Issues and checks Bearer tokens; thread-safe, since the server serves requests in threads."""

    def __init__(self) -> None:
        self.clients: dict[str, str] = {}
        self.token_lifetime: float = DEFAULT_LIFETIME
        self.grants: list[str] = []
        self._access: dict[str, float] = {}  # token -> monotonic expiry
        self._refresh: set[str] = set()
        self._lock = threading.Lock()

    def accepts(self, token: str) -> bool:
        with self._lock:
            expiry = self._access.get(token)
        return expiry is not None and time.monotonic() < expiry

    def expire_access_tokens(self) -> None:
        """Every access token issued so far is refused from now on (as after its expiry)."""
        with self._lock:
            self._access.clear()

    def revoke_refresh_tokens(self) -> None:
        with self._lock:
            self._refresh.clear()

    def answer(self, content_type: str, body: bytes, user: str, password: str) -> Answer:
        """The status and JSON body for one token request."""
        if content_type.split(";")[0].strip().lower() != _FORM:
            return _refusal(400, "invalid_request", f"the body must be {_FORM}")
        form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        grant = form.get("grant_type", "")
        with self._lock:
            self.grants.append(grant)
        if self.clients.get(form.get("client_id", "")) != form.get("client_secret") or not form.get("client_id"):
            return _refusal(401, "invalid_client", "access_denied")
        return self._grant(grant, form, user, password)

    def _grant(self, grant: str, form: Mapping[str, str], user: str, password: str) -> Answer:
        if grant == "password":
            if (form.get("username"), form.get("password")) != (user, password):
                return _refusal(401, "invalid_grant", "access_denied")
            return 200, self._issue(refreshable=True)
        if grant == "refresh_token":
            with self._lock:
                known = form.get("refresh_token", "") in self._refresh
            if not known:
                return _refusal(401, "invalid_grant", "access_denied")
            return 200, {**self._issue(refreshable=False), "refresh_token": form["refresh_token"]}
        if grant == "client_credentials":
            return 200, self._issue(refreshable=False)
        return _refusal(400, "unsupported_grant_type", f"grant_type {grant!r} is not supported")

    def _issue(self, refreshable: bool) -> dict[str, object]:
        access = secrets.token_urlsafe(24)
        answer: dict[str, object] = {"access_token": access, "scope": "useraccount", "token_type": "Bearer",
                                     "expires_in": int(self.token_lifetime)}
        with self._lock:
            self._access[access] = time.monotonic() + self.token_lifetime
            if refreshable:
                answer["refresh_token"] = refresh = secrets.token_urlsafe(24)
                self._refresh.add(refresh)
        return answer


def _refusal(status: int, error: str, description: str) -> Answer:
    return status, {"error": error, "error_description": description}
