"""Benchmark: normalisation and deduplication alone, in one process, on the core workload.

Run: ``.venv/bin/python bench/stages_bench.py [n_events]`` (default 200,000 events: 333,275 records).
Run it from two checkouts back to back to tell a code change from the machine's noise.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from dedupe_workload import SOURCES, bench_config, raw_records

from aggregator.dedupe import dedupe
from aggregator.normalise import normalise


def main() -> None:
    n_events = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    raw = raw_records(n_events)
    config = bench_config()
    started = time.perf_counter()
    normalised = normalise(raw, {s.id: s for s in config.sources}, reference=pd.Timestamp("2026-11-26").date())
    middle = time.perf_counter()
    result = dedupe(normalised.listings, dict(SOURCES), pd.Timestamp("2026-11-26T02:00Z"))
    done = time.perf_counter()
    print(f"{len(raw):,} records: normalise {middle - started:.1f} s, dedupe {done - middle:.1f} s, "
          f"{len(result.events):,} events")  # fmt: skip


if __name__ == "__main__":
    main()
