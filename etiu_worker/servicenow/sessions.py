"""The client's HTTP sessions and pysnow resources: one set per thread, made once, reused.

requests does not promise that one Session is safe across threads, and ServiceNow handles the
requests of one user session (one JSESSIONID cookie) one after another, so threads sharing a
session would queue on the instance. ``Connections`` gives each thread its own session, made on
the thread's first request by the client's factory (the same auth, TLS setting, headers and
hooks for all), and ``close()`` closes every one. A session passed in by the caller is shared by
all threads instead, and left open for its owner; each thread still has its own resources.

Two costs requests and pysnow would pay on every request are paid once here:

* requests looks the proxies up in the environment for every request (``get_environ_proxies``
  scans os.environ and parses NO_PROXY each time). ``Environment`` looks them up once per origin
  (scheme and host) for the client's life: the same answer, NO_PROXY included, since requests'
  lookup depends on nothing else of the URL. REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE are read once.
* pysnow builds a new Resource (URL builder, path check, deep copy of its parameters) for each
  call. A connection keeps one per table and gives it fresh parameters before each request.

The pool of connections an adapter picks for a request is kept per origin (``KeptPoolAdapter``).

A write (a POST or a PATCH: one per record the worker changes, thousands in a cold cycle) skips
pysnow and ``Session.request`` altogether (``Connection.write``, writing.py): it prepares the
request itself and hands it to the session's adapter, with the same URL, parameters, headers,
cookies, auth, hooks, environment settings and redirects, and reads the answer as pysnow would.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import requests
import requests.adapters
from pysnow.params_builder import ParamsBuilder
from pysnow.resource import Resource
from requests.sessions import merge_setting
from requests.utils import get_environ_proxies

from .arguments import ReadParameters, total_count
from .writing import Writer

API_PATH = "/api/now"
_CHUNK_SIZE = 8192  # pysnow's own default for a resource

Record = dict[str, Any]


class Environment:
    """What requests reads from the environment for a request, read once per origin and kept."""

    def __init__(self) -> None:
        self.ca_bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
        self._proxies: dict[tuple[str, str, str | None], dict[str, str]] = {}
        self._lock = threading.Lock()

    def proxies_for(self, url: str, no_proxy: str | None) -> dict[str, str]:
        """``requests.utils.get_environ_proxies(url, no_proxy)``, computed once per origin."""
        parts = urlsplit(url)
        key = (parts.scheme, parts.netloc, no_proxy)
        with self._lock:
            if key not in self._proxies:
                self._proxies[key] = get_environ_proxies(url, no_proxy=no_proxy)
            return self._proxies[key]


class KeptPoolAdapter(requests.adapters.HTTPAdapter):
    """requests' adapter, keeping the connection pool it picks for an origin and its settings.

    ``HTTPAdapter.send`` works the pool out again for every request (parsing the URL, selecting a
    proxy, building the pool's key), some 30 µs of a write's 1 ms. The pool depends only on the URL's
    origin and the TLS and proxy settings, so the one found first is kept, and worked out again
    only once it is closed (the adapter closed, or the pool manager dropping it for a newer one).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pools: dict[tuple[Any, ...], Any] = {}

    def get_connection_with_tls_context(self, request, verify, proxies=None, cert=None):  # type: ignore[no-untyped-def]
        origin = request.url.split("/", 3)[:3]  # scheme, "", host and port
        key = (*origin, verify, cert if not isinstance(cert, list) else tuple(cert),
               tuple(sorted((proxies or {}).items())))
        pool = self._pools.get(key)
        if pool is None or pool.pool is None:
            pool = self._pools[key] = super().get_connection_with_tls_context(request, verify, proxies, cert)
        return pool

    def close(self) -> None:
        self._pools.clear()
        super().close()


class ClientSession(requests.Session):
    """A session that reads the environment once (see Environment) and keeps ``verify = False``.

    requests lets REQUESTS_CA_BUNDLE or CURL_CA_BUNDLE replace a session's ``verify = False``
    with a CA bundle (psf/requests#3829), so ``servicenow.verify_tls = false`` would silently
    still verify.
    """

    def __init__(self, environment: Environment) -> None:
        super().__init__()
        self.environment = environment
        self.mount("https://", KeptPoolAdapter())
        self.mount("http://", KeptPoolAdapter())

    def merge_environment_settings(self, url, proxies, stream, verify, cert):  # type: ignore[no-untyped-def]
        if self.trust_env:
            merged = self._merged_with_kept_environment(url, proxies, stream, verify, cert)
        else:
            merged = super().merge_environment_settings(url, proxies, stream, verify, cert)
        if verify is None and self.verify is False:
            merged["verify"] = False
        return merged

    def _merged_with_kept_environment(self, url, proxies, stream, verify, cert):  # type: ignore[no-untyped-def]
        # requests.Session.merge_environment_settings, step for step, with the lookups kept.
        proxies = dict(proxies or {})
        for key, value in self.environment.proxies_for(url, proxies.get("no_proxy")).items():
            proxies.setdefault(key, value)
        if verify is True or verify is None:
            verify = self.environment.ca_bundle or verify
        return {
            "proxies": merge_setting(proxies, self.proxies),
            "stream": merge_setting(stream, self.stream),
            "verify": merge_setting(verify, self.verify),
            "cert": merge_setting(cert, self.cert),
        }


class Connection:
    """One thread's session and its pysnow resources, one per table; sends one request each call.

    pysnow exceptions and ``requests.HTTPError`` leave these methods as they are: the client
    turns them into the project's errors.
    """

    def __init__(self, session: requests.Session, base_url: str, timeout: float, *, owns_session: bool) -> None:
        self.session = session
        self.owns_session = owns_session
        self._base_url = base_url
        self._timeout = timeout
        self._resources: dict[str, Resource] = {}
        self._writer_for = Writer(session, f"{base_url}{API_PATH}/table/", timeout)

    def read_page(
        self, table: str, query: str, parameters: ReadParameters, limit: int
    ) -> tuple[list[Record], int | None]:
        """One page of a read: its records, and the rows left from it on (``X-Total-Count``)."""
        response = self.resource(table).get(
            query=query,
            limit=limit,
            fields=list(parameters.fields),
            display_value=parameters.display_value,
            exclude_reference_link=parameters.exclude_reference_link,
        )
        return response.all(), total_count(response.headers)

    def read_record(self, table: str, path: str, parameters: ReadParameters) -> Record:
        resource = self.resource(table)
        # resource.request() refuses params=: the resource's own parameters are what gets sent.
        resource.parameters.fields = list(parameters.fields)
        resource.parameters.display_value = parameters.display_value
        resource.parameters.exclude_reference_link = parameters.exclude_reference_link
        return resource.request("GET", path_append=path).one()

    def post(self, table: str, payload: Record) -> Record:
        return self._writer_for.send("POST", table, payload)

    def patch(self, table: str, path: str, payload: Record) -> Record:
        # One PATCH: pysnow's own update() would send a GET, then a PUT.
        return self._writer_for.send("PATCH", table + path, payload)

    def resource(self, table: str) -> Any:
        """The table's resource, with fresh parameters for one request."""
        resource = self._resources.get(table)
        if resource is None:
            resource = self._resources[table] = Resource(
                base_url=self._base_url, base_path=API_PATH, api_path=f"/table/{table}",
                parameters=ParamsBuilder(), chunk_size=_CHUNK_SIZE, session=self.session, timeout=self._timeout,
            )
        # pysnow's requests write their parameters into the resource's own (its copy is shallow):
        # without fresh ones, one call's query, limit and fields would be sent with the next.
        resource.parameters = ParamsBuilder()
        return resource

    def close(self) -> None:
        if self.owns_session:
            self.session.close()


class Connections:
    """A Connection per thread, made on the thread's first request; ``close()`` closes them all."""

    def __init__(self, base_url: str, timeout: float, make_session: Callable[[], requests.Session],
                 shared_session: requests.Session | None = None) -> None:
        self._base_url = base_url
        self._timeout = timeout
        self._make_session = make_session
        self._shared_session = shared_session
        self._local = threading.local()
        self._lock = threading.Lock()
        self._open: dict[threading.Thread, Connection] = {}

    def current(self) -> Connection:
        """The calling thread's connection."""
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = self._local.connection = self._opened()
        return connection

    def close(self) -> None:
        """Close the sessions the client made, on every thread; a shared session stays open."""
        with self._lock:
            connections, self._open = list(self._open.values()), {}
        for connection in connections:
            connection.close()

    def _opened(self) -> Connection:
        shared = self._shared_session
        session = shared if shared is not None else self._make_session()
        connection = Connection(session, self._base_url, self._timeout, owns_session=shared is None)
        with self._lock:
            # A pool's threads may end before the client does: their sessions need not wait for close().
            for finished in [thread for thread in self._open if not thread.is_alive()]:
                self._open.pop(finished).close()
            self._open[threading.current_thread()] = connection
        return connection
