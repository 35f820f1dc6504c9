"""Source health: is a source that answered actually working? Zero items or a sharp drop say no."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from aggregator.collection import SourceResult
from aggregator.config import Config
from aggregator.schema import LISTINGS, SOURCE_HEALTH
from aggregator.state import Previous
from aggregator.validation import conform


def alarm(items: int, history: pd.DataFrame | None, source_id: str, drop: float, window: int) -> str | None:
    """Why ``items`` fetched from a source look like a broken source, or None when they look normal.

    A scraper whose page layout changed returns zero items without any error: zero is always an
    alarm. Otherwise the count is compared with the median of the source's last ``window`` good
    runs in ``history`` (the ``source_health`` table); falling more than ``drop`` below it is one.

    Args:
        items: Items the source gave in this run.
        history: Earlier ``source_health`` rows (all sources), or None on a first run.
        source_id: The source.
        drop: Fraction (0-1) of the median below which the count is an alarm.
        window: How many recent good runs make the median.
    """
    if items == 0:
        return "returned zero items"
    if history is None or history.empty:
        return None
    good = history[(history["source_id"] == source_id) & (history["status"] == "ok")]
    recent = good.sort_values("run_at").tail(window)["items_fetched"]
    if recent.empty:
        return None
    median = float(recent.median())
    if items < (1 - drop) * median:
        fall = 1 - items / median
        return (
            f"returned {items} items, {fall:.0%} below its median of {median:g} over the last {len(recent)} good runs"
        )
    return None


def stale_since(history: pd.DataFrame | None, source_id: str, run_at: pd.Timestamp) -> pd.Timestamp:
    """Since when a source that cannot be refreshed now has not been: the first run of its current bad streak."""
    if history is None or history.empty:
        return run_at
    rows = history[history["source_id"] == source_id].sort_values("run_at")
    good = rows[rows["status"] == "ok"]
    bad = rows[rows["run_at"] > good["run_at"].max()] if len(good) else rows
    return pd.Timestamp(bad["run_at"].min()) if len(bad) else run_at


@dataclass
class SourceHealth:
    """One source's verdict in this run: fresh, or stale (failed or broken) with what was kept."""

    source_id: str
    status: str  # "ok", "failed" or "broken"
    alarm: str | None = None
    stale_since: pd.Timestamp | None = None
    stale_listings: int = 0


def assess_sources(
    results: list[SourceResult], config: Config, run_at: pd.Timestamp, previous: Previous
) -> tuple[dict[str, SourceHealth], pd.DataFrame]:
    """Each source's health in this run, and the last good listings standing in for the stale ones.

    A source is ``failed`` when it could not be collected, ``broken`` when it answered with zero
    items or far fewer than its recent median (``run.health_drop``, ``run.health_window``): either
    way its last good listings are kept, flagged with ``stale_since``.
    """
    verdicts: dict[str, SourceHealth] = {}
    stale_frames = []
    for result in results:
        status, why = result.status, None
        if status == "ok":
            why = alarm(len(result.records), previous.health, result.source_id, config.run.health_drop,
                        config.run.health_window)  # fmt: skip
            status = "broken" if why else "ok"
        verdict = SourceHealth(result.source_id, status, alarm=why)
        if status != "ok":
            verdict.stale_since = stale_since(previous.health, result.source_id, run_at)
            kept = previous.last_good.get(result.source_id)
            if kept is not None and len(kept):
                stale_frames.append(kept.assign(stale_since=verdict.stale_since))
                verdict.stale_listings = len(kept)
        verdicts[result.source_id] = verdict
    stale = pd.concat(stale_frames, ignore_index=True) if stale_frames else LISTINGS.empty_frame()
    return verdicts, stale


def health_rows(
    results: list[SourceResult],
    verdicts: dict[str, SourceHealth],
    listings: pd.DataFrame,
    rejects: pd.DataFrame,
    run_id: str,
    run_at: pd.Timestamp,
) -> pd.DataFrame:
    """This run's rows of the ``source_health`` history."""
    published = listings["source_id"].value_counts()
    rejected = rejects["source_id"].value_counts()
    rows = []
    for r in results:
        verdict = verdicts[r.source_id]
        rows.append(
            {
                "run_id": run_id,
                "run_at": run_at,
                "source_id": r.source_id,
                "status": verdict.status,
                "items_fetched": len(r.records),
                "items_published": int(published.get(r.source_id, 0)),
                "rejects": int(rejected.get(r.source_id, 0)),
                "stale_listings": verdict.stale_listings,
                "http_status": r.http_status,
                "requests": r.requests,
                "cache_hits": r.cache_hits,
                "bytes": r.bytes,
                "duration_s": float(r.duration_s),
                "alarm": verdict.alarm,
                "error": r.error,
                "stale_since": verdict.stale_since,
            }
        )
    return conform(pd.DataFrame(rows, columns=SOURCE_HEALTH.names), SOURCE_HEALTH)
