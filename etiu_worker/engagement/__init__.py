"""Engagements built from raw records: typed records, roadmaps, business days. No I/O."""
