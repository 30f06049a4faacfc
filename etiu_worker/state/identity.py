"""Which instance the state folder belongs to, so a copied volume or a changed URL is caught.

The journal's ``meta`` table records the instance URL (normalised: scheme, host and port, never
credentials) and the instance's own name, the ``instance_name`` system property, read once at
first contact and again every ``state.full_resync_hours``. Before any other request of a run,
``check_instance`` compares them with the instance now configured: a folder recorded for
another instance stops the worker with exit 3, since its watermarks and cached records would
make it skip what the new instance holds. ``state.adopt`` (``run --adopt-state``) takes the
folder over instead: the journal's history is kept; the cached records and watermarks are
forgotten (every record is read again), and so are the engagements' memory and open flags,
which name the old instance's records (a ticket created there is not to be repaired here);
the new instance is recorded.

Where the integration user may not read ``sys_properties`` (403, 404, 400, or no row), the URL
alone identifies the instance; that is said once at INFO.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

from ..errors import (
    AuthenticationError,
    BadRequestError,
    ForbiddenError,
    NotFoundError,
    ServiceNowError,
    StateError,
)

log = logging.getLogger(__name__)

URL_KEY = "instance_url"
NAME_KEY = "instance_name"
CHECKED_KEY = "instance_checked_at"
PROPERTIES_TABLE = "sys_properties"
NAME_PROPERTY = "instance_name"
UNREADABLE = ""  # the name as stored when the instance does not let the worker read it
_DEFAULT_PORTS = {"http": 80, "https": 443}
_REFUSED = (ForbiddenError, NotFoundError, BadRequestError)


def now() -> datetime:
    """The worker's clock for the identity's re-check; tests replace it."""
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class Instance:
    """An instance as the state folder knows it: its URL and, when readable, its name."""

    url: str
    name: str | None = None

    def describe(self) -> str:
        return f"{self.url} (instance_name {self.name})" if self.name else self.url


def normalised_url(url: str) -> str:
    """``scheme://host[:port]``, lower case, default port left out, credentials dropped."""
    parts = urlsplit(url)
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    host = f"[{host}]" if ":" in host else host
    port = parts.port
    suffix = f":{port}" if port is not None and port != _DEFAULT_PORTS.get(scheme) else ""
    return f"{scheme}://{host}{suffix}"


def check_instance(client, journal, cache, settings) -> None:
    """Stop with ``StateError`` (exit 3) when the state folder belongs to another instance.

    Call it after opening the client and the state, before any other request. It sends no
    request, except one read of the instance's name when its re-check is due; with
    ``settings.state.adopt`` a folder of another instance is taken over instead.
    """
    current = Instance(normalised_url(settings.servicenow.url))
    stored = journal.metadata()
    if URL_KEY not in stored:  # first contact, or a folder from before this check
        journal.set_metadata({URL_KEY: current.url})
        return
    recorded = Instance(stored[URL_KEY], stored.get(NAME_KEY) or None)
    if recorded.url != current.url:
        _refuse_or_adopt(recorded, current, journal, cache, settings)
    elif _recheck_due(stored, settings):
        _compare_names(client, recorded, journal, cache, settings)


def remember_instance(client, journal) -> None:
    """After a cycle: read and record the instance's name if the folder has none yet.

    Done after the first cycle rather than before it, so a first run's first request is still
    the cycle's own (a refused password is refused there, once).
    """
    if CHECKED_KEY in journal.metadata():
        return
    name = read_instance_name(client)
    if name is not None:
        _record_name(journal, name)


def read_instance_name(client) -> str | None:
    """The ``instance_name`` property; ``UNREADABLE`` when refused, None after a transient failure."""
    try:
        rows = client.list(PROPERTIES_TABLE, f"name={NAME_PROPERTY}", fields=["name", "value"], page_size=10)
    except _REFUSED as error:
        log.info("cannot read %s (%s): the instance URL alone identifies the instance", PROPERTIES_TABLE, error)
        return UNREADABLE
    except AuthenticationError:
        raise
    except ServiceNowError as error:  # unreachable, 5xx, 429 after the retries: not a refusal
        log.info("could not read the instance's name (%s): it is read again next run", error)
        return None
    values = [str(row.get("value") or "") for row in rows if row.get("name") == NAME_PROPERTY]
    if not values or not values[0]:
        log.info("no %s property visible: the instance URL alone identifies the instance", NAME_PROPERTY)
        return UNREADABLE
    return values[0]


def _recheck_due(stored: dict[str, str], settings) -> bool:
    checked = stored.get(CHECKED_KEY)
    if checked is None:
        return False  # never read yet: remember_instance reads it after the cycle
    period = timedelta(hours=settings.state.full_resync_hours)
    return datetime.fromisoformat(checked) + period <= now()


def _compare_names(client, recorded: Instance, journal, cache, settings) -> None:
    name = read_instance_name(client)
    if name is None:
        return
    if recorded.name and name and name != recorded.name:
        _refuse_or_adopt(recorded, Instance(recorded.url, name), journal, cache, settings)
        return
    if recorded.name and not name:
        log.info("the instance's name cannot be read now; the state folder keeps %s", recorded.describe())
        name = recorded.name
    _record_name(journal, name)


def _refuse_or_adopt(recorded: Instance, current: Instance, journal, cache, settings) -> None:
    folder = settings.state.dir
    if not settings.state.adopt:
        raise StateError(
            f"the state folder {folder} belongs to {recorded.describe()}, not to "
            f"{current.describe()}: point ETIU_SERVICENOW__URL back at it, use another state "
            "folder (ETIU_STATE__DIR), or take this one over with `etiu-worker run --adopt-state` "
            "(ETIU_STATE__ADOPT=true), which keeps the journal's history and reads every record again"
        )
    cache.forget_everything()
    journal.forget_the_instance()
    journal.set_metadata({URL_KEY: current.url, NAME_KEY: current.name, CHECKED_KEY: _stamp(current)})
    log.warning(
        "state folder %s adopted for %s (it belonged to %s): the journal's history is kept; the "
        "cached records, watermarks, engagement memory and open flags of the old instance are "
        "forgotten; this cycle reads every record again",
        folder, current.describe(), recorded.describe(),
    )


def _stamp(instance: Instance) -> str | None:
    """The re-check time to record: none while the name is still to be read after the cycle."""
    return now().isoformat() if instance.name is not None else None


def _record_name(journal, name: str) -> None:
    journal.set_metadata({NAME_KEY: name, CHECKED_KEY: now().isoformat()})
