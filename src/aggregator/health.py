"""Source health: is a source that answered actually working? Zero items or a sharp drop say no."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pandas as pd

from aggregator.collection import SourceResult
from aggregator.config import Config
from aggregator.reasons import key_of
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


def reject_mix(rejects: pd.DataFrame, source_id: str) -> dict[str, int]:
    """How many of a source's rejects each reason has (``reasons.TEMPLATES`` keys), most frequent first."""
    reasons = rejects.loc[rejects["source_id"] == source_id, "reason"] if len(rejects) else pd.Series([], dtype=object)
    counts = reasons.map(key_of).value_counts()
    return {str(k): int(v) for k, v in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))}


def reject_alarm(records: int, listings: int, mix: dict[str, int], share: float) -> str | None:
    """Why a source whose records were mostly rejected looks broken, or None.

    A renamed field upstream makes every record fail normalisation without any fetch error: all
    records rejected is always an alarm, more than ``share`` of them is one.

    Args:
        records: Records the source gave.
        listings: Listings normalised from them.
        mix: Its rejects per reason (``reject_mix``).
        share: Fraction (0-1] of rejected records above which the source is broken.
    """
    rejected = sum(mix.values())
    if not records or not rejected:
        return None
    main = next(iter(mix), "other")
    if listings == 0:
        return f"all {records} records rejected, no listing published (mostly {main}: {mix.get(main, 0)})"
    if rejected / records > share:
        return f"{rejected} of {records} records rejected, more than {share:.0%} (mostly {main}: {mix.get(main, 0)})"
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
    reject_mix: dict[str, int] = field(default_factory=dict)


def assess_sources(
    results: list[SourceResult],
    listings: pd.DataFrame,
    rejects: pd.DataFrame,
    config: Config,
    run_at: pd.Timestamp,
    previous: Previous,
) -> tuple[dict[str, SourceHealth], pd.DataFrame]:
    """Each source's health in this run, and the last good listings standing in for the stale ones.

    Judged on what normalisation kept, not on what was fetched. A source is ``failed`` when it
    could not be collected; ``broken`` when it answered with zero items, far fewer than its recent
    median (``run.health_drop``, ``run.health_window``), or records mostly rejected
    (``run.health_reject_share``; all of them, always). Either way its listings of this run are
    left out and its last good listings kept, flagged with ``stale_since``, so that none of its
    events is marked removed.

    Args:
        results: This run's collected sources.
        listings: The listings normalised from them (every source's).
        rejects: The rows normalisation rejected (every source's).
        config: The run's configuration.
        run_at: Start of the run.
        previous: What earlier runs left (health history, last good listings).
    """
    verdicts: dict[str, SourceHealth] = {}
    stale_frames = []
    per_source = listings["source_id"].value_counts() if len(listings) else pd.Series(dtype="int64")
    for result in results:
        status, why = result.status, None
        mix = reject_mix(rejects, result.source_id)
        if status == "ok":
            why = alarm(len(result.records), previous.health, result.source_id, config.run.health_drop,
                        config.run.health_window)  # fmt: skip
            why = why or reject_alarm(
                len(result.records), int(per_source.get(result.source_id, 0)), mix, config.run.health_reject_share
            )
            status = "broken" if why else "ok"
        verdict = SourceHealth(result.source_id, status, alarm=why, reject_mix=mix)
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
                "reject_mix": json.dumps(verdict.reject_mix) if verdict.reject_mix else None,
                "error": r.error,
                "stale_since": verdict.stale_since,
            }
        )
    return conform(pd.DataFrame(rows, columns=SOURCE_HEALTH.names), SOURCE_HEALTH)
