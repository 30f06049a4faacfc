"""Benchmark of etiu-worker against the sandbox instance: ``python -m bench``."""
