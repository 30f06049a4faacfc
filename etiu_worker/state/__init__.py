"""The state folder: the journal of actions, the record cache, the lock. Knows nothing of playbooks."""
