"""Source health: is a source that answered actually working? Zero items or a sharp drop say no."""

from __future__ import annotations

import pandas as pd


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
