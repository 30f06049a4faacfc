"""The Table API over HTTP: routing, authentication, faults, paging and the JSON envelopes.

Status codes and error texts are ServiceNow's own (see /work/shared/servicenow-api.md), so that
a client written against the sandbox parses real failures. Every response carries a
Content-Length and a Date from the instance's clock, and the connection is kept alive, as a real
instance behind its load balancer does. A table the instance does not have is a 400 "Invalid table".
Requests authenticate with Basic credentials or a Bearer token from ``POST /oauth_token.do``
(oauth.py); the token endpoint meets no faults and is not counted in ``Sandbox.requests``.
"""

from __future__ import annotations

import base64
import binascii
import email.utils
import json
import re
import socket
import time
import traceback
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from . import dates, oauth
from .faults import Fault
from .render import View, render
from .schema import AUDIT_TABLE, SYS_FIELDS, spec
from .store import EVERYTHING, text

if TYPE_CHECKING:
    from collections.abc import Container


_ROUTE = re.compile(r"^/api/now/(?:v[12]/)?table/([A-Za-z0-9_]+)(?:/([^/]+))?/?$")
DEFAULT_LIMIT = 10000
RATE_LIMIT = 1000  # requests per hour announced in X-RateLimit-Limit
RATE_LIMIT_RULE = "5c3b1e0fdb3a2010a0b1f3b5ca9619e7"  # sys_id of an imaginary rate limit rule
_JSON = "application/json;charset=UTF-8"
_TRUE = "true"

_MESSAGES = {
    400: ("Bad Request", "The request could not be processed"),
    401: ("User Not Authenticated", "Required to provide Auth information"),
    403: ("Operation Failed", "ACL Exception Update Failed due to security constraints"),
    404: ("No Record found", "Record doesn't exist or ACL restricts the record retrieval"),
    429: ("Rate limit exceeded", "Rate limit rule etiu-sandbox exceeded: too many requests, retry later"),
    500: ("Internal server error", "The instance could not process the request"),
}


_AUDIT_REFUSED = ("User Not Authorized", "Failed API level ACL Validation")  # no role that may read audit data


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # else a small body waits ~40 ms for the client's delayed ACK
    server_version = "ServiceNow"
    sys_version = ""
    _silent = False  # True while serving a request whose answer a fault replaces

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_PUT(self) -> None:
        self._serve("PUT")

    def do_PATCH(self) -> None:
        self._serve("PATCH")

    def do_DELETE(self) -> None:
        self._serve("DELETE")

    def version_string(self) -> str:
        return self.server_version

    def date_time_string(self, timestamp: float | None = None) -> str:
        """The Date header: the instance's clock (``Sandbox.clock_offset`` included), not the host's."""
        moment = self.sandbox.store.instance_now().timestamp() if timestamp is None else timestamp
        return email.utils.formatdate(moment, usegmt=True)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
        pass  # a test run would drown in access logs

    @property
    def sandbox(self) -> Any:  # server.Sandbox; not imported, as the server imports this handler
        return self.server.sandbox  # type: ignore[attr-defined]

    # ----- one request -----

    def _serve(self, method: str) -> None:
        body = self._read_body()
        if body is None:  # the client went away mid-request: an instance acts on no such request
            self.close_connection = True
            return
        url = urlsplit(self.path)
        if url.path == oauth.TOKEN_PATH:  # not the Table API: no request count, no faults
            return self._token(method, body)
        route = _ROUTE.match(url.path)
        params = dict(parse_qsl(url.query, keep_blank_values=True))
        self.sandbox.count_request(method, route.group(1) if route else "")
        if not self._call_on_request(method, route, params):
            return self._error(500, detail="the sandbox's on_request hook raised (traceback on stderr)")
        faults = self.sandbox.faults
        if faults.latency > 0:
            time.sleep(faults.latency)
        if not self._authenticated():
            return self._error(401)
        fault = faults.next_fault(method)
        if fault is not None and fault.kind != "drop_write" and not fault.applied:
            return self._inflict(fault)
        drop = EVERYTHING if fault is not None and fault.kind == "drop_write" else faults.drop_write_fields
        self._silent = fault is not None and fault.applied  # served in full, then its answer is lost
        try:
            self._dispatch(method, route, url.path, params, body, drop)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client went away mid-answer
        except Exception as exc:  # noqa: BLE001 - a sandbox bug must reach the client as a 500, not a hang
            traceback.print_exc()
            self._error(500, detail=f"{type(exc).__name__}: {exc}")
        if fault is not None and fault.applied:
            self._silent = False
            self._inflict(fault.answer)

    def _call_on_request(self, method: str, route: re.Match[str] | None, params: dict[str, str]) -> bool:
        """Run the test's hook, outside the store lock so that it may edit records; False if it raised."""
        hook = self.sandbox.on_request
        if hook is None:
            return True
        try:
            hook(method, route.group(1) if route else "", dict(params))
        except Exception:  # noqa: BLE001 - the test sees the traceback and a 500, the server goes on
            traceback.print_exc()
            return False
        return True

    def _dispatch(self, method: str, route: re.Match[str] | None, path: str, params: dict[str, str],
                  body: bytes, drop: Container[str]) -> None:
        if route is None:
            return self._unknown_resource(path)
        table, sys_id = route.group(1), route.group(2)
        if not self.sandbox.store.has_table(table):
            return self._error(400, f"Invalid table {table}", None)
        if method == "GET" and table == AUDIT_TABLE and not self.sandbox.audit_readable:
            return self._error(403, *_AUDIT_REFUSED)
        if method == "GET":
            return self._get_one(table, sys_id, params) if sys_id else self._list(table, path, params)
        if method == "DELETE" and sys_id:
            return self._delete(table, sys_id)
        creates, updates = method == "POST" and not sys_id, method in ("PUT", "PATCH") and bool(sys_id)
        if creates or updates:
            fields = self._fields(body, table, params)
            if fields is None:
                return self._error(400, "Exception while reading request", "The payload is not valid JSON.")
            return self._write(method, table, sys_id, fields, params, drop)
        return self._unknown_resource(path)

    # ----- reading -----

    def _list(self, table: str, path: str, params: dict[str, str]) -> None:
        limit = _integer(params.get("sysparm_limit"), DEFAULT_LIMIT)
        limit = limit if limit > 0 else DEFAULT_LIMIT
        offset = max(_integer(params.get("sysparm_offset"), 0), 0)
        store = self.sandbox.store
        with store.lock:
            rows = store.select(table, params.get("sysparm_query", ""))
            result = render(store, table, rows[offset:offset + limit], self._view(params))
        headers = {"X-Total-Count": str(len(rows)), "Link": self._links(path, params, offset, limit, len(rows))}
        self._json(200, {"result": result}, headers)

    def _get_one(self, table: str, sys_id: str, params: dict[str, str]) -> None:
        store = self.sandbox.store
        with store.lock:
            record = store.record(table, sys_id)
            result = render(store, table, [record], self._view(params))[0] if record else None
        if result is None:
            return self._error(404)
        self._json(200, {"result": result})

    def _links(self, path: str, params: dict[str, str], offset: int, limit: int, total: int) -> str:
        def link(page_offset: int, rel: str) -> str:
            query = {**params, "sysparm_offset": str(page_offset), "sysparm_limit": str(limit)}
            return f'<{self._base()}{path}?{urlencode(query)}>;rel="{rel}"'

        last = (total - 1) // limit * limit if total else 0
        # ServiceNow sends prev on the first page too, pointing at offset -1.
        links = [link(0, "first"), link(max(offset - limit, 0) if offset else -1, "prev")]
        if offset + limit < total:
            links.append(link(offset + limit, "next"))
        links.append(link(last, "last"))
        return ",".join(links)

    def _view(self, params: dict[str, str]) -> View:
        mode = params.get("sysparm_display_value", "false").lower()
        fields = tuple(name.strip() for name in params.get("sysparm_fields", "").split(",") if name.strip())
        return View(
            mode=mode if mode in ("true", "all") else "false",  # type: ignore[arg-type]
            links=params.get("sysparm_exclude_reference_link", "false").lower() != _TRUE,
            fields=fields,
            base=self._base(),
        )

    def _base(self) -> str:
        return f"http://{self.headers.get('Host') or self.sandbox.address}"

    # ----- writing -----

    def _write(self, method: str, table: str, sys_id: str | None, fields: dict[str, object],
               params: dict[str, str], drop: Container[str]) -> None:
        store, user = self.sandbox.store, self.sandbox.user
        with store.lock:
            try:
                if method == "POST":
                    record = store.create(table, fields, user, drop)
                else:
                    record = store.modify(table, sys_id or "", fields, user, drop)
            except ValueError as exc:  # POST with the sys_id of an existing record
                return self._error(403, "Operation Failed", str(exc))
            if record is None:
                return self._error(404)
            result = render(store, table, [_as_if_saved(table, record, fields, drop)], self._view(params))[0]
        if method == "POST":
            location = f"{self._base()}/api/now/table/{table}/{record['sys_id']}"
            return self._json(201, {"result": result}, {"Location": location})
        self._json(200, {"result": result})

    def _delete(self, table: str, sys_id: str) -> None:
        if not self.sandbox.store.delete(table, sys_id):
            return self._error(404)
        self._send(204, b"", {})

    def _fields(self, body: bytes, table: str, params: dict[str, str]) -> dict[str, object] | None:
        """The JSON object of a write, or None if the body is not one."""
        try:
            fields = json.loads(body.decode("utf-8")) if body.strip() else {}
        except (UnicodeDecodeError, json.JSONDecodeError):
            return None
        if not isinstance(fields, dict):
            return None
        if params.get("sysparm_input_display_value", "false").lower() == _TRUE:
            return _from_display(table, fields, self.sandbox.store.zone)
        return fields

    # ----- faults and errors -----

    def _inflict(self, fault: Fault) -> None:
        if fault.kind == "drop":
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        if fault.kind == "empty":
            return self._send(202, b"", {})
        if fault.status == 429:
            return self._rate_limited()
        if fault.status in (502, 503, 504):
            return self._gateway_error(fault.status)
        self._error(fault.status)

    def _rate_limited(self) -> None:
        retry_after = max(int(self.sandbox.faults.retry_after), 0)
        self._error(429, headers={
            "Retry-After": str(retry_after),
            "X-RateLimit-Limit": str(RATE_LIMIT),
            "X-RateLimit-Reset": str(int(time.time()) + retry_after),
            "X-RateLimit-Rule": RATE_LIMIT_RULE,
        })

    def _gateway_error(self, status: int) -> None:
        # These come from the load balancer in front of the instance: HTML, not the JSON envelope.
        phrase = HTTPStatus(status).phrase
        page = f"<html><head><title>{status} {phrase}</title></head><body><h1>{phrase}</h1></body></html>"
        self._send(status, page.encode(), {"Content-Type": "text/html"})

    def _unknown_resource(self, path: str) -> None:
        self._error(400, f"Requested URI does not represent any resource: {path}", None)

    def _error(self, status: int, message: str | None = None, detail: str | None = None,
               headers: dict[str, str] | None = None) -> None:
        """The failure envelope; without a message, ServiceNow's own text for the status."""
        if message is None:
            message, default_detail = _MESSAGES.get(status, (HTTPStatus(status).phrase, ""))
            detail = default_detail if detail is None else detail
        error = {"message": message, "detail": detail}
        self._json(status, {"error": error, "status": "failure"}, headers or {})

    # ----- plumbing -----

    def _token(self, method: str, body: bytes) -> None:
        if method != "POST":
            return self._error(405)
        status, answer = self.sandbox.oauth.answer(self.headers.get("Content-Type", ""), body,
                                                   self.sandbox.user, self.sandbox.password)
        self._json(status, answer)

    def _authenticated(self) -> bool:
        header = self.headers.get("Authorization", "")
        scheme, _, encoded = header.partition(" ")
        if scheme.lower() == "bearer":
            return self.sandbox.oauth.accepts(encoded.strip())
        if scheme.lower() != "basic":
            return False
        try:
            user, _, password = base64.b64decode(encoded.strip(), validate=True).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        return user == self.sandbox.user and password == self.sandbox.password

    def _read_body(self) -> bytes | None:
        """The request's body; None when the connection closed before all of it arrived (a worker
        killed between the headers and the body, which its HTTP client sends apart)."""
        length = _integer(self.headers.get("Content-Length"), 0)
        body = self.rfile.read(length) if length > 0 else b""
        return body if len(body) >= length else None

    def _json(self, status: int, payload: object, headers: dict[str, str] | None = None) -> None:
        body = json.dumps(payload, separators=(",", ":")).encode("utf-8")
        self._send(status, body, {"Content-Type": _JSON, **(headers or {})})

    def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        if self._silent:
            return
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        # What end_headers() does, with the body in the same write: one segment for small answers.
        self._headers_buffer.extend((b"\r\n", body))  # type: ignore[attr-defined]
        self.flush_headers()


def _integer(value: str | None, default: int) -> int:
    try:
        return int(value) if value not in (None, "") else default
    except ValueError:
        return default


def _as_if_saved(table: str, record: dict[str, str], fields: dict[str, object],
                 drop: Container[str]) -> dict[str, str]:
    """The record the client expects: dropped writes are echoed as if stored (they fail silently)."""
    declared = spec(table)
    echoed = {
        name: text(value) for name, value in fields.items()
        if name in drop and name not in SYS_FIELDS
        and (declared is None or (name in declared.fields and name not in declared.journals))
    }
    return {**record, **echoed} if echoed else record


def _from_display(table: str, fields: dict[str, object], zone: object) -> dict[str, object]:
    """sysparm_input_display_value=true: date-times were typed in the user's time zone."""
    declared = spec(table)
    if declared is None:
        return fields
    return {
        name: dates.from_local(text(value), zone) if declared.is_date_time(name) else value  # type: ignore[arg-type]
        for name, value in fields.items()
    }
