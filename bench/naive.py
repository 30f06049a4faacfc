"""The naive baseline: what a consultant would script with pysnow to read every engagement.

One list of the change requests that carry an engagement key, then, for each engagement, one
query for its tickets, one for its change request and one for its CTASKs: 3 x N + 1 requests.
Reads only. pysnow is used directly, as in a hand-written script (no paging, no retries: pysnow
asks for up to 10,000 rows per request, which is enough for one engagement's records and, at the
sizes benchmarked, for the list of change requests).

    python bench/naive.py --url http://127.0.0.1:8080 --user admin --password sandbox [--every K]

prints one JSON line: requests sent, engagements listed, engagements and records read, and the
seconds taken by the list and by the loop over engagements. ``--every K`` reads only every K-th
engagement (the benchmark samples this way at large N, where the sandbox, which has no index,
scans every row for each of the 3 x N queries; the time per engagement is then scaled to N).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from urllib.parse import urlsplit

import pysnow


def read_all(url: str, user: str, password: str, every: int = 1) -> dict:
    address = urlsplit(url)
    client = pysnow.Client(host=address.netloc, user=user, password=password, use_ssl=address.scheme == "https")
    sent = [0]
    client.session.hooks["response"].append(lambda response, *args, **kwargs: sent.__setitem__(0, sent[0] + 1))

    def query(table: str, encoded: str, **kwargs) -> list[dict]:
        return list(client.resource(api_path=f"/table/{table}").get(query=encoded, **kwargs).all())

    started = time.perf_counter()
    keys = sorted({row["correlation_id"] for row in query("change_request", "correlation_idISNOTEMPTY",
                                                           fields=["correlation_id"])})
    listed = time.perf_counter() - started
    sampled = keys[::every]
    records = 0
    for key in sampled:
        tickets = query("u_etiu_ticket", f"correlation_id={key}")
        changes = query("change_request", f"correlation_id={key}")
        # change_request comes back as a reference link unless asked not to; ask for the bare sys_id.
        ctasks = query("change_task", f"change_request={changes[0]['sys_id']}", exclude_reference_link=True) if changes else []
        records += len(tickets) + len(changes) + len(ctasks)
    elapsed = time.perf_counter() - started
    client.session.close()
    return {"requests": sent[0], "engagements": len(keys), "read": len(sampled), "records": records,
            "list_seconds": listed, "loop_seconds": elapsed - listed, "seconds": elapsed}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--user", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--every", type=int, default=1, help="read every K-th engagement only")
    args = parser.parse_args(argv)
    json.dump(read_all(args.url, args.user, args.password, max(args.every, 1)), sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
