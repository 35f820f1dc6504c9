"""What the file benchmarks share: `aggregator run --engine local` on one source, in a fresh process."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path


def aggregator_run(folder: Path, source_yaml: str) -> str:
    """Run the CLI on ``folder/sources.yaml`` (``source_yaml``); return "<seconds> s (exit …: counts)".

    Prints the run's stderr when it failed.
    """
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
    return (
        f"{seconds:.1f} s (exit {proc.returncode}: {counts.get('listings', 0):,} listings, "
        f"{counts.get('events', 0):,} events, {counts.get('rejects', 0):,} rejects)"
    )
