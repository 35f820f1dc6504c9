"""What earlier runs left that a run builds on, all of it derived from or published with their outputs."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from aggregator.config import Config
from aggregator.publish import read_previous

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


def seed_source_state(out_dir: Path) -> list[Path]:
    """Bring the latest published run's cursors into the working state, replacing older copies.

    The published cursor matches the published data; one a later unpublished run advanced is
    replaced by it (an incremental read then asks a little more, never less). Returns the copies.
    """
    published = out_dir / "latest" / PUBLISHED_STATE
    copied = []
    for path in _cursor_files(published):
        target = state_dir(out_dir) / path.relative_to(published)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
        copied.append(target)
    return copied


@dataclass
class Previous:
    """What earlier runs left that this run builds on (read from the output folder by ``read_state``)."""

    events: pd.DataFrame | None = None
    listings: pd.DataFrame | None = None
    health: pd.DataFrame | None = None
    last_good: dict[str, pd.DataFrame] = field(default_factory=dict)


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


def read_state(out_dir: Path, config: Config) -> Previous:
    """Read what earlier runs published in ``out_dir`` (missing or unreadable files count as absent)."""
    listings = read_previous(out_dir / "listings.parquet")
    return Previous(
        events=read_previous(out_dir / "events.parquet"),
        listings=listings,
        health=read_previous(health_path(out_dir)),
        last_good=last_good(listings, config),
    )
