"""Engagements as data: the record roles a pack declares, typed records, and their grouping."""
