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
"""

from .faults import Fault, Faults
from .server import Sandbox
from .store import Store

__all__ = ["Fault", "Faults", "Sandbox", "Store"]
