"""What the file benchmarks share: `aggregator run --engine local` on one source, in a fresh process."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq


@dataclass
class Run:
    """One ``aggregator run``: its wall time, exit code, counts and the pyarrow floor of its listings."""

    seconds: float
    exit_code: int
    counts: dict[str, int] = field(default_factory=dict)
    write_floor: float = 0.0  # pyarrow alone writing the run's listings table to zstd Parquet

    def __str__(self) -> str:
        return (
            f"{self.seconds:.1f} s (exit {self.exit_code}: {self.counts.get('listings', 0):,} listings, "
            f"{self.counts.get('events', 0):,} events, {self.counts.get('rejects', 0):,} rejects)"
        )


def aggregator_run(folder: Path, source_yaml: str) -> Run:
    """Run the CLI on ``folder/sources.yaml`` (``source_yaml``); prints the run's stderr when it failed."""
    (folder / "sources.yaml").write_text(source_yaml, encoding="utf-8")
    started = time.perf_counter()
    proc = subprocess.run(
        [str(Path(sys.executable).with_name("aggregator")), "run", "--engine", "local", "--quiet",
         "--sources", str(folder / "sources.yaml"), "--out", str(folder / "out")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    seconds = time.perf_counter() - started
    report = folder / "out" / "run.json"
    counts = json.loads(report.read_text(encoding="utf-8")).get("counts", {}) if report.exists() else {}
    if proc.returncode not in (0, 3):
        print(proc.stderr[-2000:], file=sys.stderr)
    floor = 0.0
    listings = folder / "out" / "listings.parquet"
    if listings.exists():
        table = pq.read_table(listings)
        started = time.perf_counter()
        pq.write_table(table, folder / "floor.parquet", compression="zstd")
        floor = time.perf_counter() - started
    return Run(seconds, proc.returncode, counts, floor)


def medians(runs: list[dict[str, float]]) -> dict[str, Any]:
    """The median of each figure over ``runs``, and each figure's runs as ``<name>_runs``.

    ``exit_code`` is the first one that is not a success (0, or 3: a source failed), else the largest.
    """
    out: dict[str, Any] = {}
    for name in runs[0]:
        values = [r[name] for r in runs]
        failed = [v for v in values if v not in (0, 3)]
        out[name] = (failed[0] if failed else max(values)) if name == "exit_code" else statistics.median(values)
        out[f"{name}_runs"] = values
    return out
