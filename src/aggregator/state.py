"""What earlier runs left in the output folder that a run builds on: paths, last good data, history."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from aggregator.config import Config
from aggregator.publish import read_previous


def state_dir(out_dir: Path) -> Path:
    """Where sources keep state between runs (incremental reads), inside the output folder."""
    return out_dir / ".state" / "sources"


def last_good_path(out_dir: Path, source_id: str) -> Path:
    """Where a source's last good listings are kept, to stand in for it when it fails."""
    return state_dir(out_dir) / source_id / "last_good.parquet"


def health_path(out_dir: Path) -> Path:
    """The source health history: one row per source and run."""
    return out_dir / "history" / "source_health.parquet"


@dataclass
class Previous:
    """What earlier runs left that this run builds on (read from the output folder by ``read_state``)."""

    events: pd.DataFrame | None = None
    listings: pd.DataFrame | None = None
    health: pd.DataFrame | None = None
    last_good: dict[str, pd.DataFrame] = field(default_factory=dict)


def read_state(out_dir: Path, config: Config) -> Previous:
    """Read what earlier runs left in ``out_dir`` (missing or unreadable files count as absent)."""
    last_good = {}
    for source in config.enabled_sources:
        frame = read_previous(last_good_path(out_dir, source.id))
        if frame is not None:
            last_good[source.id] = frame
    return Previous(
        events=read_previous(out_dir / "events.parquet"),
        listings=read_previous(out_dir / "listings.parquet"),
        health=read_previous(health_path(out_dir)),
        last_good=last_good,
    )
