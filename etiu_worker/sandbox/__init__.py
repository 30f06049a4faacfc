"""The sandbox instance: the part of ServiceNow's Table API etiu-worker uses, on loopback.

Tests and benchmarks point the real client (pysnow + requests) at it, so it answers like a real
instance: string values, reference links, display values, journal fields, paging headers,
encoded queries, ServiceNow's error envelopes, and, on demand, its failures (``Faults``).

    with Sandbox(seed_demo=True).start() as sb:
        client = pysnow.Client(host=sb.url.removeprefix("http://"), user=sb.user,
                               password=sb.password, use_ssl=False)
        sb.faults.script = [503, 503]  # the next two requests fail, then all is well

``sb.store`` reads and writes records directly, bypassing HTTP and faults: a person in the UI.
Standard library only; never import the client here.

What a test may set or read on a ``Sandbox`` besides the store and the faults:

- ``on_request(method, table, params)``: called for every request (refused ones included) before it
  is served, outside the store lock, with the table of the path ("" for other paths) and the query
  parameters; it may edit or delete records through ``sb.store`` (a person working between two
  pages of a read, or between the worker's read and its write). If it raises, that request is
  answered 500 and the traceback goes to stderr.
- ``clock_offset`` (a ``timedelta``, default zero): the instance's clock is the store's ``now()``
  plus the offset; it stamps every record, journal entry and audit row (``store.instance_now()``)
  and every answer's ``Date`` header (RFC 7231, e.g. ``Wed, 14 Oct 2026 14:45:00 GMT``).
- ``timezone`` (constructor): the API user's zone. Display values are shown in it, and plain
  ``YYYY-MM-DD HH:MM:SS`` operands on date-time fields in encoded queries are read in it, as on a
  real instance (``sys_updated_on>=2026-10-14 15:00:00`` is 15:00 local); UTC by default.
- Tables: the declared ones (``schema.py``: the ETIU ticket, change_request, change_task, the
  customer service case and case task, sys_journal_field, sys_user, sys_audit, sys_properties)
  and any table a record was put in through ``store.insert``. Any other table answers 400 ``Invalid table <name>`` to every method.
- ``sys_audit``: every update of u_etiu_ticket, change_request, change_task, a case or a case
  task (Table API or ``store.update``) appends one row per changed non-journal field (tablename, documentkey,
  fieldname, oldvalue, newvalue, user, reason "", record_checkpoint = the record's sys_mod_count
  after the change, sys_created_on = the record's update stamp). Inserts are not audited unless
  ``audit_inserts`` is True (ServiceNow's glide.sys.audit_inserts, false by default).
  ``audit_readable = False`` makes reads of sys_audit answer 403, as for a user without an audit role.
- ``instance_name`` (constructor, and the attribute): the ``sys_properties`` row
  ``name=instance_name``; by default ``sandbox-<random hex>``, chosen once and kept in the data file.
- Keyset paging: ``sys_id>LAST^ORDERBYsys_id`` with ``sysparm_limit`` and no offset; sys_ids
  compare and sort as text.

Fault kinds (``Faults``): 429, 5xx and drops that change nothing; ``drop_write`` (answered as
saved, not stored); and answers lost after the write was applied: ``applied_drop`` (committed,
then the connection closes unanswered), ``applied_500``, ``applied_503``, ``applied_504``
(committed, then that status; 503/504 as the load balancer's HTML page). Script items use those
strings; ``rate_lost_answer`` draws them at random on writes. ``Faults.realistic(rate)`` splits a
rate evenly among 429, 5xx, drops, lost answers and empty 202s on GETs; ``Faults.mixed`` is unchanged.
"""

from .faults import Fault, Faults
from .server import Sandbox
from .store import Store

__all__ = ["Fault", "Faults", "Sandbox", "Store"]
