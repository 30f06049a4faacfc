"""A write's one HTTP request, sent without pysnow or ``requests.Session.request``.

Both cost more CPU than the request itself (about 1.5 ms of some 2.7 ms per write on loopback):
pysnow's parameter builder and response wrapper, and the session's merging of settings, cookie
jars and hooks for every call, and its lookup of proxies in the environment. ``Writer`` sends what
``pysnow.Resource.create`` (a POST) and ``Resource.request("PATCH", ...)`` sent through the
session: the same URL and query parameters (the write answers with reference links left out),
the session's headers, cookies and auth, a JSON body; it hands the request to the session's
adapter with the session's environment settings (worked out on the first write and kept, as
sessions.Environment keeps the proxies), runs the session's response hooks, keeps the cookies
the answer sets and follows redirects as ``Session.send`` does. The answer is read as pysnow
reads it: ``HTTPError`` for a 4xx or 5xx, ``MissingResult`` without a ``result``, and exactly one
record, else ``NoResults`` / ``MultipleResults``. pysnow's and requests' exceptions leave as they
are: the client turns them into the project's errors.
"""

from __future__ import annotations

import json
from typing import Any

import requests
from pysnow.exceptions import MissingResult, MultipleResults, NoResults
from pysnow.params_builder import ParamsBuilder
from requests.cookies import extract_cookies_to_jar, get_cookie_header
from requests.hooks import dispatch_hook
from requests.models import PreparedRequest, RequestEncodingMixin
from requests.structures import CaseInsensitiveDict
from requests.utils import resolve_proxies


def _write_query() -> str:
    parameters = ParamsBuilder()
    parameters.exclude_reference_link = True
    return RequestEncodingMixin._encode_params(parameters.as_dict())


WRITE_QUERY = _write_query()  # pysnow's parameters for a write, encoded as requests encodes them


class Writer:
    """One thread's writes through its session; ``send`` returns the record as ServiceNow answered."""

    def __init__(self, session: requests.Session, table_url: str, timeout: float) -> None:
        self._session = session
        self._table_url = table_url
        self._timeout = timeout
        self._settings: dict[str, Any] | None = None

    def send(self, method: str, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        request = self._prepared(method, f"{self._table_url}{path}?{WRITE_QUERY}", payload)
        response = self._sent(request)
        response.raise_for_status()
        return _one(response)

    def _prepared(self, method: str, url: str, payload: dict[str, Any]) -> PreparedRequest:
        session = self._session
        request = PreparedRequest()
        request.method, request.url, request.hooks = method, url, {"response": []}
        request.headers = CaseInsensitiveDict(session.headers)
        request._cookies = session.cookies
        if session.cookies:
            cookie = get_cookie_header(session.cookies, request)
            if cookie is not None:
                request.headers["Cookie"] = cookie
        request.body = json.dumps(payload, allow_nan=False).encode("utf-8")
        request.headers["Content-Length"] = str(len(request.body))
        if session.auth is not None:
            request.prepare_auth(session.auth)
        return request

    def _sent(self, request: PreparedRequest) -> requests.Response:
        session = self._session
        settings = self._environment_settings(request)
        response = session.get_adapter(request.url).send(request, **settings)
        response = dispatch_hook("response", session.hooks, response)
        if "set-cookie" in response.headers or "set-cookie2" in response.headers:
            extract_cookies_to_jar(session.cookies, request, response.raw)
        if response.is_redirect:
            history = [response, *session.resolve_redirects(response, request, **settings)]
            response = history.pop()
            response.history = history
        response.content  # read now, as Session.send does, so the connection goes back to its pool
        return response

    def _environment_settings(self, request: PreparedRequest) -> dict[str, Any]:
        if self._settings is None:
            session = self._session
            merged = session.merge_environment_settings(request.url, {}, None, None, None)
            proxies = resolve_proxies(request, merged["proxies"], session.trust_env)
            self._settings = {"stream": False, "timeout": self._timeout, "verify": merged["verify"],
                              "cert": merged["cert"], "proxies": proxies}
        return self._settings


def _one(response: requests.Response) -> dict[str, Any]:
    """The one record of a write's answer, read as ``pysnow.Response.one`` reads it."""
    result = response.json().get("result", None)
    if result is None:
        raise MissingResult("The expected `result` key was missing in the response. Cannot continue")
    records = result if isinstance(result, list) else [result] if isinstance(result, dict) else []
    if not records:
        raise NoResults("No records found")
    if len(records) > 1:
        raise MultipleResults("Expected single-record result, got multiple")
    return records[0]
