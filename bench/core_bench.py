"""Benchmark: the core stages end to end on synthetic raw records (normalise, geography, dedup, publish).

Run: ``.venv/bin/python bench/core_bench.py 60000 600000`` (numbers of true events; about 1.67 listings
each). Prints per stage wall time, rows per second and peak RSS, and, as the floor, the time pyarrow
alone takes to write the same listings to zstd Parquet; record the figures in docs/benchmarks.md.
``--second-night`` then times the build of a second night on it (5 % of the records gone, last
night's tables as history), as every night after the first is built.
The workload is ``dedupe_workload.generate`` (independent of the test fixtures) turned back into the
raw records adapters give: local date strings, postal codes, cities, venues, titles with noise.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path

import pandas as pd
import psutil
import pyarrow as pa
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent))

from dedupe_workload import bench_config, raw_records

from aggregator.build import build_outputs
from aggregator.collection import SourceResult
from aggregator.drawing import draw_elsewhere, start_helper
from aggregator.outputs import write_outputs
from aggregator.schema import LISTINGS
from aggregator.state import Previous, last_good
from aggregator.workers import Workers


class TreeMemory(threading.Thread):
    """Samples the RSS of this process and all its descendants (the normalisation workers)."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.stop = threading.Event()
        self.peak = 0

    def run(self) -> None:
        """Sample every 0.1 s until ``stop`` is set."""
        me = psutil.Process()
        while not self.stop.wait(0.1):
            total = me.memory_info().rss
            for child in me.children(recursive=True):
                with contextlib.suppress(psutil.Error):
                    total += child.memory_info().rss
            self.peak = max(self.peak, total)


def peak_rss_gib() -> float:
    """This process's peak RSS since it started its program, in GiB.

    Linux: ``VmHWM``, the high-water mark of this program's memory. Not ``ru_maxrss``, which a
    child keeps from its parent across fork and exec: started by ``targets.py`` after the
    DATAtourisme floor, this program read the parent's 3.9 GiB (runs 8 to 15 of the targets).
    """
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024**2
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def run(n_events: int, processes: int) -> dict[str, float]:
    """Measure the workload of ``n_events`` true events; print a line and return the figures."""
    raw = raw_records(n_events)
    config = bench_config()
    run_at = pd.Timestamp("2026-11-26T02:00Z")
    results = [
        SourceResult(str(s), "json", f"https://{s}.example.org", "ok", frame.reset_index(drop=True), run_at)
        for s, frame in raw.groupby("source_id")
    ]
    sampler = TreeMemory()
    sampler.start()
    started = time.perf_counter()
    # As `aggregator run` does: normalisation partitions over worker processes (their start is timed),
    # the figures drawn in the helper process (started with the run) while the tables are written.
    if processes > 1:
        start_helper()
    outputs = build_outputs(results, config, run_at, Previous(), "bench", map_chunks=Workers(processes))
    built = time.perf_counter()
    if processes > 1:
        outputs.figures = draw_elsewhere(outputs.stats)
    with tempfile.TemporaryDirectory() as tmp:
        write_outputs(outputs, Path(tmp), Path(tmp) / "runs" / "bench")
        published = time.perf_counter()
        table = pa.Table.from_pandas(outputs.listings, schema=LISTINGS.arrow_schema(), preserve_index=False)
        floor_start = time.perf_counter()
        pq.write_table(table, Path(tmp) / "floor.parquet", compression="zstd")
        floor = time.perf_counter() - floor_start
    sampler.stop.set()
    sampler.join()
    peak = peak_rss_gib()
    # Sampling every 0.1 s can miss a short peak: the tree's peak is at least the main process's.
    tree = max(sampler.peak / 1024**3, peak)
    total = published - started
    n = len(raw)
    print(
        f"{n:>9,} raw records -> {len(outputs.listings):,} listings, {len(outputs.events):,} events, "
        f"{len(outputs.rejects):,} rejects | build (normalise, geography, dedup, stats) "
        f"{built - started:.1f} s, publish (figures drawn meanwhile) {published - built:.1f} s, total {total:.1f} s "
        f"({n / total:,.0f} records/s) | peak RSS {peak:.2f} GiB (whole tree, sampled: {tree:.2f} GiB) | "
        f"pyarrow alone writes the listings in "
        f"{floor:.2f} s (total / floor = {total / floor:.0f}x)"
    )
    return {"records": n, "listings": len(outputs.listings), "events": len(outputs.events), "build_s": built - started,
            "publish_s": published - built, "total_s": total, "floor_s": floor, "peak_main_gib": peak,
            "peak_tree_gib": tree}  # fmt: skip


def second_night(n_events: int, processes: int) -> dict[str, float]:
    """Build a first night, then time the build of a second one with the first as its history."""
    raw = raw_records(n_events)
    config = bench_config()
    first_at, second_at = pd.Timestamp("2026-11-26T02:00Z"), pd.Timestamp("2026-11-27T02:00Z")

    def results(frame: pd.DataFrame, at: pd.Timestamp) -> list[SourceResult]:
        return [
            SourceResult(str(s), "json", f"https://{s}.example.org", "ok", rows.reset_index(drop=True), at)
            for s, rows in frame.groupby("source_id")
        ]

    first = build_outputs(results(raw, first_at), config, first_at, Previous(), "first", map_chunks=Workers(processes))
    previous = Previous(
        first.events, first.listings, first.health_rows, first.changes, last_good(first.listings, config)
    )
    tonight = raw.sample(frac=0.95, random_state=11).sort_index()
    started = time.perf_counter()
    second = build_outputs(results(tonight, second_at), config, second_at, previous, "second",
                           map_chunks=Workers(processes))  # fmt: skip
    built = time.perf_counter() - started
    kinds = second.changes.loc[second.changes["run_id"] == "second", "change"].value_counts().to_dict()
    print(f"second night: {len(tonight):,} raw records, last night's {len(first.events):,} events as history -> "
          f"{len(second.events):,} events (changes {kinds}) | build {built:.1f} s")  # fmt: skip
    return {"records": len(tonight), "events": len(second.events), "build_s": built}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("sizes", nargs="*", type=int, default=[60_000])
    parser.add_argument("--processes", type=int, default=2, help="normalisation processes (run.processes)")
    parser.add_argument("--json", action="store_true", help="also print each size's figures as one JSON line")
    parser.add_argument("--second-night", action="store_true", help="then time a second night's build on it")
    args = parser.parse_args()
    for size in args.sizes:
        figures = run(size, args.processes) if not args.second_night else second_night(size, args.processes)
        if args.json:
            print(json.dumps(figures))


if __name__ == "__main__":
    main()
