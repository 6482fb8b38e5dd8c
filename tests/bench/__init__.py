"""Benchmarks: `python -m tests.bench.run` (make bench) against the local stack."""
