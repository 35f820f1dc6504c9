"""What earlier runs left that a run builds on, all of it derived from or published with their outputs."""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa

from aggregator.config import Config
from aggregator.runs import published_runs

# The files of a run that the next one builds on, checked against run.json before use.
CHECKED = ("events.parquet", "listings.parquet", "changes.parquet", "history/source_health.parquet")
# Columns without which a table cannot carry history on (later columns may be missing from older runs).
KEY_COLUMNS = {
    "events.parquet": ("event_id", "first_seen_at", "removed_at"),
    "listings.parquet": ("listing_id", "source_id", "event_id"),
    "changes.parquet": ("event_id", "change"),
    "history/source_health.parquet": ("run_at", "source_id", "status"),
}

# Inside a run's folder: what its sources need next run (incremental cursors), published with the data.
PUBLISHED_STATE = Path("state") / "sources"


def state_dir(out_dir: Path) -> Path:
    """The sources' working state (incremental reads, HTTP cache), inside the output folder.

    A working copy: cursors are published with each run (``publish_source_state``) and brought
    back from the latest published run at the start of the next (``seed_source_state``); the HTTP
    cache is only a cache. A new machine pointed at the same outputs carries on without it.
    """
    return out_dir / ".state" / "sources"


def health_path(out_dir: Path) -> Path:
    """The source health history: one row per source and run."""
    return out_dir / "history" / "source_health.parquet"


def _cursor_files(root: Path) -> list[Path]:
    """The files of a sources' state folder that the next run needs (the HTTP caches are not)."""
    if not root.is_dir():
        return []
    return sorted(p for p in root.glob("*/*") if p.is_file() and not p.name.startswith("http-cache"))


def publish_source_state(out_dir: Path, folder: Path) -> list[Path]:
    """Copy the sources' cursors from the working state into the run's ``folder``; returns the copies."""
    copied = []
    for path in _cursor_files(state_dir(out_dir)):
        target = folder / PUBLISHED_STATE / path.relative_to(state_dir(out_dir))
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
        copied.append(target)
    return copied


def seed_source_state(out_dir: Path, folder: Path | None) -> list[Path]:
    """Bring the cursors of the run ``folder`` builds on into the working state, replacing older copies.

    The published cursor matches the published data; one a later unpublished run advanced is
    replaced by it (an incremental read then asks a little more, never less). Returns the copies.
    """
    if folder is None:
        return []
    published = folder / PUBLISHED_STATE
    copied = []
    for path in _cursor_files(published):
        target = state_dir(out_dir) / path.relative_to(published)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
        copied.append(target)
    return copied


class HistoryUnreadableError(RuntimeError):
    """Earlier runs exist but none can be read: publishing now would reset the history."""


class _UnreadableError(Exception):
    """One earlier run cannot be used (the message says why)."""


@dataclass
class Previous:
    """What earlier runs left that this run builds on (read from the output folder by ``read_state``).

    Attributes:
        folder: The published run it was read from (None on a first run).
        warnings: What went wrong on the way (a newer run that could not be read).
    """

    events: pd.DataFrame | None = None
    listings: pd.DataFrame | None = None
    health: pd.DataFrame | None = None
    changes: pd.DataFrame | None = None
    last_good: dict[str, pd.DataFrame] = field(default_factory=dict)
    folder: Path | None = None
    warnings: list[str] = field(default_factory=list)


def last_good(listings: pd.DataFrame | None, config: Config) -> dict[str, pd.DataFrame]:
    """Each enabled source's last good listings: its rows of the latest published listings.

    Fresh rows if it was fresh then, the rows kept for it if it was already stale: either way the
    last data it gave that passed. Derived from the published table, so that it travels with it.
    """
    if listings is None or not len(listings):
        return {}
    enabled = {s.id for s in config.enabled_sources}
    rows = listings[listings["source_id"].isin(enabled)]
    return {str(k): frame.reset_index(drop=True) for k, frame in rows.groupby("source_id", sort=False)}


def sha256(path: Path) -> str:
    """The SHA-256 of a file, read in blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def file_manifest(folder: Path) -> dict[str, dict[str, object]]:
    """Rows and SHA-256 of the files of a run that the next run builds on (recorded in run.json)."""
    import pyarrow.parquet as pq

    manifest: dict[str, dict[str, object]] = {}
    for name in CHECKED:
        path = folder / name
        if path.is_file():
            manifest[name] = {"rows": pq.ParquetFile(path).metadata.num_rows, "sha256": sha256(path)}
    return manifest


def _candidates(out_dir: Path) -> list[Path]:
    """Published runs, the one ``latest`` names first, then the others newest first."""
    runs = list(reversed(published_runs(out_dir)))
    latest = out_dir / "latest"
    if latest.is_symlink() and latest.resolve() in [r.resolve() for r in runs]:
        first = latest.resolve()
        runs = [first, *(r for r in runs if r.resolve() != first)]
    return runs


def _read_run(folder: Path, config: Config) -> Previous:
    """The state a published run left, every file checked against its run.json, or ``_UnreadableError``."""
    try:
        report = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise _UnreadableError(f"its run.json cannot be read ({type(exc).__name__})") from None
    files = report.get("files") or {}
    for name, expected in files.items():
        path = folder / name
        if not path.is_file():
            raise _UnreadableError(f"{name} is missing")
        if expected.get("sha256") and sha256(path) != expected["sha256"]:
            raise _UnreadableError(f"{name} does not match the checksum recorded when it was published")
    frames: dict[str, pd.DataFrame | None] = {}
    for name in CHECKED:
        path = folder / name
        if not path.is_file():
            if name in ("events.parquet", "listings.parquet"):
                raise _UnreadableError(f"{name} is missing")
            frames[name] = None  # written by later versions only
            continue
        try:
            frames[name] = pd.read_parquet(path)
        except (OSError, pa.ArrowException) as exc:
            raise _UnreadableError(f"{name} cannot be read ({type(exc).__name__})") from None
        lacking = [c for c in KEY_COLUMNS[name] if c not in frames[name].columns]  # type: ignore[union-attr]
        if lacking:
            raise _UnreadableError(f"{name} lacks the column {lacking[0]!r}")
        rows = (files.get(name) or {}).get("rows")
        if rows is not None and len(frames[name]) != rows:  # type: ignore[arg-type]
            raise _UnreadableError(f"{name} has {len(frames[name])} rows, {rows} when published")  # type: ignore[arg-type]
    return Previous(
        events=frames["events.parquet"],
        listings=frames["listings.parquet"],
        health=frames["history/source_health.parquet"],
        changes=frames["changes.parquet"],
        last_good=last_good(frames["listings.parquet"], config),
        folder=folder,
    )


def read_state(out_dir: Path, config: Config, reset_history: bool = False) -> Previous:
    """What the newest readable published run in ``out_dir`` left, checked before use.

    The run ``latest`` names comes first; when it cannot be read (a truncated file, a checksum
    that does not match), the newest readable one of ``runs/`` is used instead, with a warning.

    Raises:
        HistoryUnreadableError: When runs were published but none can be read: going on would reset
            every event's ``first_seen_at`` and forget removed ones. ``reset_history`` starts over
            instead, with a warning.
    """
    problems: list[str] = []
    for folder in _candidates(out_dir):
        try:
            previous = _read_run(folder, config)
        except _UnreadableError as exc:
            problems.append(f"{folder.name}: {exc}")
            continue
        if problems:
            previous.warnings.append(
                f"history: the latest published run cannot be read ({'; '.join(problems)}); "
                f"this run builds on {folder.name} instead"
            )
        return previous
    if problems and not reset_history:
        raise HistoryUnreadableError(
            f"no earlier run in {out_dir} can be read ({'; '.join(problems)}); nothing was published. "
            "Restore one of them, or run again with --reset-history to start a new history"
        )
    warnings = [f"history: started over (--reset-history); unreadable runs: {'; '.join(problems)}"] if problems else []
    return Previous(warnings=warnings)
