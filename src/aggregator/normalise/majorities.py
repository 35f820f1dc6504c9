"""Source majorities (geography step 6b) counted over all partitions, whatever the partitioning."""

from __future__ import annotations

import numpy as np
import pandas as pd

# One row per source and area: how many of the source's listings geography placed there before step 6b.
VOTE_COLUMNS = ("source_id", "level", "area", "listings")
LEVELS = ("departement", "region")


def count_votes(areas: dict[str, pd.Series], sources: pd.Series, weights: pd.Series) -> pd.DataFrame:
    """Listings per source and area, for each level (``departement``, ``region``) of ``areas``.

    Args:
        areas: Per level, each row's area (None where unknown).
        sources: Each row's source id.
        weights: How many listings each row stands for.

    Returns:
        A frame of ``VOTE_COLUMNS``, sorted, without zero counts.
    """
    frames = []
    for level, area in areas.items():
        known = area.notna()
        if known.any():
            votes = pd.DataFrame({"source_id": sources[known], "area": area[known], "listings": weights[known]})
            frames.append(votes.groupby(["source_id", "area"], sort=True)["listings"].sum().reset_index())
            frames[-1].insert(1, "level", level)
    return add_votes(frames)


def add_votes(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Votes of several partitions added up (``count_votes``' form)."""
    frames = [f for f in frames if len(f)]
    if not frames:
        return pd.DataFrame(
            {name: pd.Series(dtype="int64" if name == "listings" else "object") for name in VOTE_COLUMNS}
        )
    total = pd.concat(frames, ignore_index=True).groupby(["source_id", "level", "area"], sort=True)["listings"].sum()
    return total.astype("int64").reset_index()[list(VOTE_COLUMNS)]


def top_areas(votes: pd.DataFrame) -> pd.DataFrame:
    """Per source (index), the area of each level (columns) most of its listings are in.

    A tie goes to the smallest code, so that the answer depends on the counts alone.
    """
    if not len(votes):
        return pd.DataFrame(columns=list(LEVELS), dtype="object")
    ranked = votes.sort_values(["source_id", "level", "listings", "area"], ascending=[True, True, False, True])
    top = ranked.drop_duplicates(["source_id", "level"]).pivot(index="source_id", columns="level", values="area")
    return top.reindex(columns=list(LEVELS)).astype("object")


def rows_to_settle_again(votes: list[pd.DataFrame], pending: list[pd.DataFrame]) -> tuple[np.ndarray, pd.DataFrame]:
    """Which raw rows a partition settled by its own majorities where all the rows' majorities differ.

    Args:
        votes: Each partition's votes.
        pending: Each partition's rows that reached step 6b: ``raw_row`` and ``source_id``.

    Returns:
        Those rows' ``raw_row`` (sorted, distinct), and the votes of all partitions added up.
    """
    total = add_votes(votes)
    if len(votes) < 2:
        return np.array([], dtype=np.int64), total
    overall = top_areas(total)
    again: list[np.ndarray] = []
    for part_votes, rows in zip(votes, pending, strict=True):
        if not len(rows):
            continue
        own = top_areas(part_votes)
        sources = pd.Index(rows["source_id"].unique())
        mine = own.reindex(sources).fillna("")
        theirs = overall.reindex(sources).fillna("")
        differ = sources[(mine != theirs).any(axis=1).to_numpy()]
        again.append(rows.loc[rows["source_id"].isin(differ), "raw_row"].to_numpy(dtype=np.int64))
    return (np.unique(np.concatenate(again)) if again else np.array([], dtype=np.int64)), total
