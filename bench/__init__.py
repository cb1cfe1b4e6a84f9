"""Benchmarks that print ratios against a baseline measured in the same run.

`python -m bench` runs them all, `python -m bench NAME ...` only those. To add one, write
`bench/<name>.py` (see `bench.core` for what it defines) and list it below.
"""

from __future__ import annotations

# Module names under bench/, in the order they run and appear in RESULTS.md.
BENCHMARKS: tuple[str, ...] = (
    "generation",
    "api_reads",
    "gallery",
    "concurrency",
    "in_flight",
    "gallery_storage",
    "first_load",
)
