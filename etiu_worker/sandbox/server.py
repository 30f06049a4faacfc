"""``Sandbox``: a store, fault settings and an HTTP server in a daemon thread, started and stopped."""

from __future__ import annotations

import os
import socket
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import date, timedelta
from http.server import ThreadingHTTPServer
from types import TracebackType

from . import demo, identity
from .demo_packs import seed_packs
from .faults import Faults
from .handler import Handler
from .oauth import TokenIssuer
from .store import Store


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, Handler)

    def get_request(self) -> tuple[socket.socket, object]:
        connection, address = super().get_request()
        with self._connections_lock:
            self._connections.add(connection)
        return connection, address

    def shutdown_request(self, request: socket.socket) -> None:  # type: ignore[override]
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """End idle keep-alive connections, whose threads would otherwise wait for another request."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class Sandbox:
    """An emulated ServiceNow instance on loopback; see the package docstring for the contract."""

    def __init__(self, data_path: str | os.PathLike[str] | None = None, user: str = "admin",
                 password: str = "sandbox", seed_demo: bool = False, today: date | None = None,
                 timezone: str = "UTC", instance_name: str | None = None,
                 demo_packs: Iterable[str] = ()) -> None:
        self.user = user
        self.password = password
        self.timezone = timezone
        self.faults = Faults()
        # Called with (method, table, query parameters) before each request is served, outside the
        # store lock: a person editing or deleting records between two requests of a cycle.
        self.on_request: Callable[[str, str, dict[str, str]], None] | None = None
        self.audit_readable = True  # False: the API user may not read sys_audit (403)
        self.oauth = TokenIssuer()  # OAuth clients, token lifetime and the tokens issued
        self.store = Store(data_path, timezone=timezone)
        self.requests: Counter[tuple[str, str]] = Counter()
        self._requests_lock = threading.Lock()
        self._server: _Server | None = None
        self._address: str | None = None  # kept after stop() for messages about the old address
        self._thread: threading.Thread | None = None
        if (seed_demo or demo_packs) and self.store.is_empty():
            day = today or self.store.now().astimezone(self.store.zone).date()
            if seed_demo:
                demo.seed(self.store, day)
            seed_packs(self.store, day, demo_packs)
        self.instance_name = identity.ensure_name(self.store, instance_name)

    # ----- the instance's clock and audit settings, kept by the store -----

    @property
    def clock_offset(self) -> timedelta:
        """How far the instance's clock is from the true time: stamps and the Date header follow it."""
        return self.store.clock_offset

    @clock_offset.setter
    def clock_offset(self, offset: timedelta) -> None:
        self.store.clock_offset = offset

    @property
    def audit_inserts(self) -> bool:
        """ServiceNow's glide.sys.audit_inserts (false by default): inserts leave sys_audit rows too."""
        return self.store.audit_inserts

    @audit_inserts.setter
    def audit_inserts(self, audited: bool) -> None:
        self.store.audit_inserts = audited

    # ----- lifecycle -----

    def start(self, host: str = "127.0.0.1", port: int = 0) -> Sandbox:
        """Serve in a daemon thread; port 0 picks a free port (read it from ``url``)."""
        self._bind(host, port)
        assert self._server is not None
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="etiu-sandbox", daemon=True
        )
        self._thread.start()
        return self

    def serve_forever(self, host: str = "127.0.0.1", port: int = 0,
                      on_ready: Callable[[Sandbox], object] | None = None) -> None:
        """Serve in the calling thread until interrupted or stopped from another thread; then stop.

        ``on_ready`` is called once the socket listens, e.g. to print ``url`` when ``port`` is 0.
        """
        self._bind(host, port)
        assert self._server is not None
        if on_ready is not None:
            on_ready(self)
        try:
            self._server.serve_forever(poll_interval=0.2)
        finally:
            self.stop()

    def stop(self) -> None:
        """Stop serving and close the database; the store stays readable. Calling it twice is fine."""
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.close_connections()
            server.server_close()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)
        self._thread = None
        self.store.close()

    def __enter__(self) -> Sandbox:
        return self if self._server is not None else self.start()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.stop()

    # ----- addresses and counters -----

    @property
    def address(self) -> str:
        """host:port the sandbox listens on (or last listened on, once stopped)."""
        if self._address is None:
            raise RuntimeError("the sandbox is not serving: call start() first")
        return self._address

    @property
    def url(self) -> str:
        return f"http://{self.address}"

    @property
    def token_lifetime(self) -> float:
        """Seconds an OAuth access token lives (ServiceNow's default 1799)."""
        return self.oauth.token_lifetime

    @token_lifetime.setter
    def token_lifetime(self, seconds: float) -> None:
        self.oauth.token_lifetime = seconds

    def expire_tokens(self) -> None:
        """Every OAuth access token issued so far is refused from now on; refresh tokens still work."""
        self.oauth.expire_access_tokens()

    def count_request(self, method: str, table: str) -> None:
        with self._requests_lock:
            self.requests[(method, table)] += 1

    def reset_requests(self) -> None:
        with self._requests_lock:
            self.requests.clear()

    def _bind(self, host: str, port: int) -> None:
        if self._server is not None:
            raise RuntimeError(f"the sandbox is already serving at {self.url}")
        self._server = _Server((host, port), self)
        bound_host, bound_port = self._server.server_address[:2]
        self._address = f"{bound_host}:{bound_port}"
