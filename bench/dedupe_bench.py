"""Benchmark: deduplication accuracy (precision, recall, F1 over pairs and clusters) and scale.

Run: ``.venv/bin/python bench/dedupe_bench.py [n_events ...] [--difficulty 1.0] [--fixed-density]``. Prints, for each
size, listings, candidate pairs, wall time, peak RSS and the scores; record them in docs/benchmarks.md.
Write the small fixed copy used by the tests with ``--write-fixture``.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from dedupe_workload import generate

from aggregator.dedupe import dedupe
from aggregator.dedupe.evaluate import cluster_scores, pair_scores

FIXTURE = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "dedupe" / "labelled.parquet"


# Density of the 100,000-listing workload (60,000 events drawn over one year): held with --fixed-density.
EVENTS_PER_YEAR = 60_000


def run(n_events: int, difficulty: float, fixed_density: bool) -> None:
    span = max(365, round(365 * n_events / EVENTS_PER_YEAR)) if fixed_density else 365
    listings = generate(n_events, difficulty, span_days=span)
    truth = listings.pop("true_event")
    listings.pop("true_series")
    started = time.perf_counter()
    result = dedupe(listings, {"national": 80, "portal": 70, "regional": 60, "lab": 40, "partner": 30},
                    pd.Timestamp("2026-11-25T02:00Z"))  # fmt: skip
    elapsed = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024
    predicted = result.listings.set_index("listing_id").loc[listings["listing_id"], "event_id"]
    pairs, clusters = pair_scores(truth, predicted), cluster_scores(truth, predicted)
    print(
        f"{len(listings):>9,} listings ({n_events:,} events over {span} days, difficulty {difficulty}): "
        f"{elapsed:6.1f} s, "
        f"peak RSS {peak:.2f} GiB, {result.candidates:,} candidate pairs, {len(result.events):,} events found | pairs P={pairs.precision:.4f} "
        f"R={pairs.recall:.4f} F1={pairs.f1:.4f} | clusters P={clusters.precision:.4f} R={clusters.recall:.4f} "
        f"F1={clusters.f1:.4f} | matches kept {len(result.matches):,}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("sizes", nargs="*", type=int, default=[20_000])
    parser.add_argument("--difficulty", type=float, default=1.0)
    parser.add_argument("--write-fixture", action="store_true")
    parser.add_argument(
        "--fixed-density",
        action="store_true",
        help="spread events over more days as the size grows (the 100,000-listing density held fixed)",
    )
    args = parser.parse_args()
    if args.write_fixture:
        FIXTURE.parent.mkdir(parents=True, exist_ok=True)
        generate(1500, 1.0, seed=11).to_parquet(FIXTURE, index=False)
        print(f"wrote {FIXTURE}")
        return
    for size in args.sizes:
        run(size, args.difficulty, args.fixed_density)


if __name__ == "__main__":
    main()
