"""Every benchmark script runs, on a tiny workload: `make bench` must not break unnoticed."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"

# Each script's tiny arguments and what its output must hold. A script that stops printing its
# figures, or fails on a change of the library's interfaces, fails here (geo_bench.py did, for
# several sessions, when ``geo.resolve`` began to return its votes).
SMALL: dict[str, tuple[list[str], list[str]]] = {
    "geo_bench.py": (["2000"], [r"geo\.resolve: 2,000 listings in [\d.]+ s", r"commune\s+\d+"]),
    "dedupe_bench.py": (["600", "--fixed-density"], [r"pairs P=[\d.]+ R=[\d.]+", r"clusters P=[\d.]+"]),
    "fetch_bench.py": (["--sources", "10"], [r"ratio pipeline / plain loop: cold [\d.]+x"]),
    "parsers_bench.py": (
        ["--csv-rows", "2000", "--feed-items", "200"],
        [r"CSV 2,000 rows .* adapter [\d.]+ s", r"RSS 200 items .* adapter [\d.]+ s"],
    ),
    "stages_bench.py": (["2000"], [r"records: normalise [\d.]+ s, dedupe [\d.]+ s, [\d,]+ events"]),
    "core_bench.py": (["2000"], [r"raw records -> [\d,]+ listings, [\d,]+ events", r"total [\d.]+ s"]),
    "ical_bench.py": (
        ["2000"],
        [r"fast path [\d.]+ s \([\d,]+ events/s", r"end to end [\d.]+ s \(exit 0: 2,000 listings"],
    ),
    "datatourisme_bench.py": (["2000"], [r"adapter [\d.]+ s", r"end to end [\d.]+ s \(exit 0: 2,000 listings"]),
    "prefect_overhead.py": (
        ["--repeat", "1"],
        [r"temporary server\): [\d.]+ s -> overhead", r"running prefect server"],
    ),
    # Without --docs: a test never rewrites docs/benchmarks.md.
    "targets.py": (["--scale", "0.001", "--repeat", "1"], [r"(?m)^\| measure \| target \|"]),
}
HELPERS = {"dedupe_workload.py", "end_to_end.py"}  # imported by the scripts, not run


def _make_bench_scripts() -> list[str]:
    """The scripts the Makefile's ``bench`` recipe runs."""
    recipe = re.search(r"(?m)^bench:.*\n((?:\t.*\n)+)", (ROOT / "Makefile").read_text(encoding="utf-8"))
    assert recipe, "no bench recipe in the Makefile"
    return re.findall(r"bench/(\w+\.py)", recipe.group(1))


def test_every_benchmark_script_has_a_tiny_run_here() -> None:
    scripts = {p.name for p in BENCH.glob("*.py")} - HELPERS
    assert scripts == set(SMALL)
    assert set(_make_bench_scripts()) <= set(SMALL)
    assert "targets.py" in _make_bench_scripts()


FLOWS = {"prefect_overhead.py", "targets.py"}  # they run the Prefect flow, with servers of their own


@pytest.mark.slow
@pytest.mark.parametrize(
    "script", [pytest.param(s, marks=pytest.mark.prefect) if s in FLOWS else s for s in sorted(SMALL)]
)
def test_benchmark_script_runs_and_prints_its_figures(script: str) -> None:
    args, expected = SMALL[script]
    proc = subprocess.run(
        [sys.executable, str(BENCH / script), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    for pattern in expected:
        assert re.search(pattern, proc.stdout), f"{pattern!r} not in the output of {script}:\n{proc.stdout[-3000:]}"
    if script == "targets.py":  # one row per target, each with its verdict
        rows = [line for line in proc.stdout.splitlines() if re.match(r"\| .* \| (\*\*met\*\*|missed) \|$", line)]
        assert len(rows) == 7, proc.stdout[-3000:]
