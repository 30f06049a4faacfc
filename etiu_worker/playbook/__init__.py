"""The playbook: a pack's declarations loaded and checked, and what conditions can read."""
