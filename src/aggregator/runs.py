"""Run folders: each run publishes into its own folder; a ``latest`` link switches to it in one step.

Layout of the output folder (local)::

    runs/<UTC time>-<run id>/   everything one run published (tables, stats/, totals, report, history/, run.json)
    latest -> runs/...          the last run that published: switched only once all of it is written
    last-run -> runs/...        the last run, published or not (its run.json says why not)
    LATEST                      the folder ``latest`` points to, as text (for tools that do not follow links)
    events.parquet -> latest/events.parquet, stats -> latest/stats, ...   stable paths for readers
    run.json -> last-run/run.json

A reader of ``events.parquet`` and ``listings.parquet`` thus never sees half a run, and the last
``keep`` published runs stay on disk to compare with or restore.
"""

from __future__ import annotations

import os
import re
import shutil
import uuid
from pathlib import Path

import pandas as pd

from aggregator.publish import write_text

# What readers find at the top of the output folder, through ``latest``.
PUBLISHED = (
    "events.parquet", "listings.parquet", "rejects.parquet", "matches.parquet", "changes.parquet", "stats",
    "totals.json", "totals.md", "report.html", "history", "events.csv", "events.xlsx", "events.geojson",
    "events.jsonld", "calendars", "maps", "datapackage.json",
)  # fmt: skip


# A run folder's name (``run_dir``); names written before microseconds were added (no fraction) too.
RUN_FOLDER_NAME = re.compile(r"\d{8}T\d{6}(\.\d{6})?Z-[0-9a-f]{12}")


def runs_root(out_dir: Path) -> Path:
    """The folder holding one folder per run."""
    return out_dir / "runs"


def run_dir(out_dir: Path, started_at: pd.Timestamp, run_id: str) -> Path:
    """The folder of one run: its UTC start time then its id, so that names sort by time.

    The time keeps its microseconds: two runs started within one second (a re-run, a test) would
    otherwise sort by their random ids, and pruning or the previous run for history could pick the
    wrong one.
    """
    return runs_root(out_dir) / f"{started_at.tz_convert('UTC'):%Y%m%dT%H%M%S.%fZ}-{run_id}"


def _swap_link(link: Path, target: Path) -> None:
    """Point ``link`` at ``target`` (relative), replacing what was there in one rename."""
    relative = os.path.relpath(target, link.parent)
    if link.exists() and not link.is_symlink():  # a file or folder of the flat layout of earlier versions
        shutil.rmtree(link) if link.is_dir() else link.unlink()
    tmp = link.with_name(f".{link.name}.{uuid.uuid4().hex[:8]}.tmp")
    os.symlink(relative, tmp)
    os.replace(tmp, link)


def promote(out_dir: Path, folder: Path, published: bool, keep: int) -> None:
    """Make ``folder`` the last run, and the latest published one when ``published``; prune old runs.

    Args:
        out_dir: The output folder.
        folder: This run's folder (``run_dir``), complete: run.json written last.
        published: Whether the run published a data set (else only ``last-run`` moves).
        keep: How many published runs to keep, the latest included.
    """
    _swap_link(out_dir / "last-run", folder)
    if published:
        _swap_link(out_dir / "latest", folder)
        write_text(folder.name + "\n", out_dir / "LATEST")
    for name in PUBLISHED:
        link = out_dir / name
        if not (out_dir / "latest" / name).exists():  # e.g. events.xlsx, not written for a huge run
            if link.is_symlink():
                link.unlink()
            continue
        if not (link.is_symlink() and os.readlink(link) == os.path.join("latest", name)):
            _swap_link(link, out_dir / "latest" / name)
    if not (out_dir / "run.json").is_symlink():
        _swap_link(out_dir / "run.json", out_dir / "last-run" / "run.json")
    prune(out_dir, keep)


def published_runs(out_dir: Path) -> list[Path]:
    """Run folders that published a data set, oldest first."""
    root = runs_root(out_dir)
    folders = sorted(p for p in root.iterdir() if p.is_dir()) if root.exists() else []
    return [p for p in folders if (p / "events.parquet").exists() and (p / "run.json").exists()]


def prune(out_dir: Path, keep: int) -> list[Path]:
    """Delete run folders beyond the ``keep`` latest published ones (and unfinished ones); returns them."""
    root = runs_root(out_dir)
    if not root.exists():
        return []
    kept = set(published_runs(out_dir)[-keep:])
    for link in ("latest", "last-run"):
        if (out_dir / link).is_symlink():
            kept.add((out_dir / link).resolve())
    removed = [p for p in sorted(root.iterdir()) if p.is_dir() and p.resolve() not in {k.resolve() for k in kept}]
    for path in removed:
        shutil.rmtree(path, ignore_errors=True)
    return removed
