"""One cycle of the worker: read the records, evaluate the playbook, plan, send and verify, journal."""
