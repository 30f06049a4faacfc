"""Make sure the integration user works in UTC, as the worker's queries assume.

ServiceNow returns date-times in UTC but reads the date-times written into an encoded query in
the API user's time zone: for a user in another zone, every "updated since" query of the delta
read and of the note read-back looks hours off, so a person's edit is never seen and every note
looks unverified. One read of one record with ``sysparm_display_value=all`` tells the zone: the
value is UTC, the display value is in the user's zone. It is done with each full read (the first
run, then every ``state.full_resync_hours``), so a quiet cycle costs no extra request.
"""

from __future__ import annotations

import logging
from datetime import datetime

from ..errors import ConfigError

log = logging.getLogger(__name__)
SN_DATETIME = "%Y-%m-%d %H:%M:%S"
STAMP = "sys_updated_on"


def check_user_time_zone(client, table: str, user: str) -> None:
    """ConfigError (exit 3) when ``user``'s display values are not in UTC; a WARNING when it cannot tell."""
    pages = client.iter_pages(table, "", fields=[STAMP], display_value="all", page_size=1)
    record = next(iter(next(pages, [])), None)
    if record is None:
        return  # an empty table says nothing; the next full read asks again
    stamp = record.get(STAMP)
    offset = _offset_hours(stamp) if isinstance(stamp, dict) else None
    if offset is None:
        log.warning("could not tell the time zone of the integration user %s from %r; make sure it is UTC", user, stamp)
    elif offset:
        raise ConfigError(
            f"the integration user {user} sees date-times {offset:+g} h from UTC, so the worker's queries would "
            f"read the wrong moments: in ServiceNow, set that user's Time zone to UTC (sys_user record), then run again"
        )


def _offset_hours(stamp: dict) -> float | None:
    try:
        value = datetime.strptime(stamp.get("value", ""), SN_DATETIME)
        shown = datetime.strptime(stamp.get("display_value", ""), SN_DATETIME)
    except (TypeError, ValueError):
        return None
    return round((shown - value).total_seconds() / 900) / 4  # zones lie whole quarter hours from UTC
