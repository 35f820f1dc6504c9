"""Benchmark: every speed target of the project, its figure, the floor measured in the same run, the ratio.

Run: ``.venv/bin/python bench/targets.py`` (about twenty minutes: every workload three times, since
this VM's speed moves between runs; ``--repeat 1`` for one; ``make bench`` runs it with ``--docs``,
which rewrites the "Targets" section of docs/benchmarks.md with the table, the machine, the
versions and the machine's speed gauge). Figures are medians, with their range. Floors: reading
the input file (parsers), pyarrow alone writing the run's listings to zstd Parquet (runs end to
end), the library alone on the same sources (the Prefect flow).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
from dataclasses import dataclass
from datetime import date
from importlib.metadata import version
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import core_bench
import datatourisme_bench
import ical_bench
import prefect_overhead
from end_to_end import medians

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "benchmarks.md"
BEGIN, END = "<!-- targets:begin -->", "<!-- targets:end -->"


@dataclass
class Target:
    """One line of the table: what is measured, the target, the figure, its floor."""

    name: str
    target: str
    figure: str
    floor: str
    ratio: str
    met: bool

    def row(self) -> str:
        """The Markdown table row."""
        verdict = "**met**" if self.met else "missed"
        return f"| {self.name} | {self.target} | {self.figure} | {self.floor} | {self.ratio} | {verdict} |"


def runs_range(values: list[float], unit: str = "s", digits: int = 1) -> str:
    """``values`` as their count and range: "3 runs: 19.8–27.6 s"."""
    return f"{len(values)} runs: {min(values):,.{digits}f}–{max(values):,.{digits}f}{' ' + unit if unit else ''}"


def spread(values: list[float], unit: str = "s", digits: int = 1) -> str:
    """``values`` as their range in brackets, for the table: " (3 runs: 19.8–27.6 s)"; nothing for one run."""
    return f" ({runs_range(values, unit, digits)})" if len(values) > 1 else ""


def measure(repeat: int, scale: float = 1.0) -> tuple[list[Target], float]:
    """Run every target's workload ``repeat`` times; return the table's rows (medians) and the speed gauge.

    The gauge is icalendar's own parser, in events/s (median): a figure of the machine, not of the
    project, to read the others by (this VM's speed moves by half from one hour to the next).
    ``scale`` shrinks the workloads for a quick check of the script (the targets are for 1.0).
    """
    rows: list[Target] = []
    ical = ical_bench.run(int(100_000 * scale), repeat)
    rows.append(Target(
        f"iCalendar parsing, {ical['events']:,.0f} events (fast path)", "≥ 20,000 events/s",
        f"{ical['parse_rate']:,.0f} events/s{spread(ical['parse_rate_runs'], 'events/s', 0)}",
        f"read {ical['read_s']:.2f} s", f"{ical['parse_s'] / ical['read_s']:,.0f}×", ical["parse_rate"] >= 20_000,
    ))  # fmt: skip
    rows.append(Target(
        f"iCalendar end to end, {ical['events']:,.0f} events (`aggregator run`)", "< 20 s",
        f"{ical['end_to_end_s']:.1f} s{spread(ical['end_to_end_s_runs'])}", f"pyarrow write {ical['write_floor_s']:.2f} s",
        f"{ical['end_to_end_s'] / ical['write_floor_s']:,.0f}×", ical["end_to_end_s"] < 20 and ical["exit_code"] in (0, 3),
    ))  # fmt: skip
    dt = datatourisme_bench.run(int(200_000 * scale), repeat)
    rows.append(Target(
        f"DATAtourisme end to end, {dt['events']:,.0f} event objects", "< 60 s",
        f"{dt['end_to_end_s']:.1f} s{spread(dt['end_to_end_s_runs'])} (adapter {dt['parse_s']:.1f} s)",
        f"read + json.loads {dt['json_s']:.1f} s; pyarrow write {dt['write_floor_s']:.2f} s",
        f"{dt['end_to_end_s'] / dt['json_s']:,.1f}× the JSON floor",
        dt["end_to_end_s"] < 60 and dt["exit_code"] in (0, 3),
    ))  # fmt: skip
    core = medians([_core(int(600_000 * scale)) for _ in range(repeat)])
    ratio = core["total_s"] / core["floor_s"]
    rows.append(Target(
        f"core end to end, {core['records']:,.0f} records (`bench/core_bench.py`)", "< 30 s and < 28× the floor",
        f"{core['total_s']:.1f} s{spread(core['total_s_runs'])} (build {core['build_s']:.1f} s, "
        f"publish {core['publish_s']:.1f} s)",
        f"pyarrow write {core['floor_s']:.2f} s", f"{ratio:,.0f}×", core["total_s"] < 30 and ratio < 28,
    ))  # fmt: skip
    rows.append(Target(
        "core peak memory, whole process tree", "< 4 GiB",
        f"{core['peak_tree_gib']:.2f} GiB{spread(core['peak_tree_gib_runs'], 'GiB', 2)}",
        f"main process {core['peak_main_gib']:.2f} GiB", "—", core["peak_tree_gib"] < 4,
    ))  # fmt: skip
    flow = prefect_overhead.measure(repeat)
    for label, key in (
        ("a running `prefect server`", "running_server"),
        ("no server (temporary)", "temporary_server"),
    ):
        overhead = flow[f"{key}_s"] - flow["library_s"]
        rows.append(Target(
            f"Prefect flow on the samples, {label}: time over the library", "< 5 s",
            f"{overhead:.1f} s (flow {flow[f'{key}_s']:.1f} s; {runs_range(flow[f'{key}_runs'])})",
            f"library {flow['library_s']:.1f} s{spread(flow['library_runs'])}",
            f"{flow[f'{key}_s'] / flow['library_s']:.1f}×", overhead < 5,
        ))  # fmt: skip
    return rows, ical["library_rate"]


def _core(events: int) -> dict[str, Any]:
    """``core_bench.run`` in a fresh process, so that its peak RSS is its own.

    A process's peak is over its whole life: run here, after the DATAtourisme floor (409 MB of JSON
    decoded whole), the core's peak read 3.86-3.90 GiB whatever the core itself used. In a child,
    ``core_bench`` reads its own program's peak (``VmHWM``): ``ru_maxrss`` would still be this
    process's, which a child keeps across fork and exec.
    """
    script = Path(core_bench.__file__)
    proc = subprocess.run(
        [sys.executable, str(script), str(events), "--processes", "2", "--json"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    print(proc.stdout.strip().splitlines()[0])
    figures: dict[str, float] = json.loads(proc.stdout.strip().splitlines()[-1])
    return figures


def machine() -> str:
    """The machine and the versions, in one paragraph."""
    cpu = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
         if line.startswith("model name")), platform.processor() or "unknown CPU",
    ) if Path("/proc/cpuinfo").exists() else platform.processor()  # fmt: skip
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                            check=False).stdout.strip() or "unknown"  # fmt: skip
    packages = ", ".join(f"{name} {version(name)}" for name in ("pandas", "pyarrow", "prefect", "icalendar"))
    return (
        f"{date.today().isoformat()}, commit {commit}: {cpu}, {os.cpu_count()} cores, {memory:.0f} GiB; "
        f"{platform.system()} {platform.release()}; Python {platform.python_version()}, {packages}."
    )


def table(rows: list[Target]) -> str:
    """The Markdown table of ``rows``."""
    head = "| measure | target | figure | floor (same run) | figure / floor | |\n|---|---|---|---|---|---|"
    return "\n".join([head, *(r.row() for r in rows)])


def write_docs(text: str) -> None:
    """Replace the text between the targets markers of docs/benchmarks.md."""
    doc = DOCS.read_text(encoding="utf-8")
    start, end = doc.index(BEGIN) + len(BEGIN), doc.index(END)
    DOCS.write_text(doc[:start] + "\n" + text + "\n" + doc[end:], encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3, help="runs of every workload (medians, with their range)")
    parser.add_argument("--docs", action="store_true", help="write the table into docs/benchmarks.md")
    parser.add_argument("--scale", type=float, default=1.0, help="workload sizes x this (quick check; targets: 1)")
    args = parser.parse_args()
    rows, gauge = measure(args.repeat, args.scale)
    text = (
        f"Measured by `make bench` ({machine()}) Medians of {args.repeat} runs, with their range. The machine's "
        f"speed gauge, icalendar's own parser: {gauge:,.0f} events/s (1,622-1,897 in runs 8 to 11 of "
        f"2026-12-02, this VM's usual speed).\n\n{table(rows)}"
    )
    print("\n" + text)
    if args.docs:
        write_docs(text)
        print(f"\nwritten to {DOCS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
