"""Stable event ids: the same real event keeps its id from one nightly run to the next."""

from __future__ import annotations

import hashlib

import pandas as pd


def new_id_from_key(key: str) -> str:
    """``ev-`` and 16 hex digits of the SHA-1 of ``key``."""
    return "ev-" + hashlib.sha1(key.encode("utf-8")).hexdigest()[:16]


def assign_event_ids(listing_ids: pd.Series, labels: pd.Series, previous: pd.DataFrame | None) -> pd.Series:
    """An ``event_id`` per listing: the id its cluster's listings had last run, else a new one.

    Args:
        listing_ids: ``listing_id`` of each listing.
        labels: Cluster label of each listing (same index).
        previous: Last run's ``listing_id`` -> ``event_id`` mapping (``listings.parquet`` columns), or None.

    When a cluster's listings carried several ids (two events found to be one), the id held by most
    of them wins, ties going to the smallest id; when two clusters claim the same old id (one event
    split in two), the larger cluster keeps it and the other gets a new id. A source joining a cluster,
    or a corrected title (the listing keeps its id when the source gives a uid), keeps the id.
    """
    old = pd.Series(dtype="object")
    if previous is not None and len(previous):
        old = previous.drop_duplicates("listing_id").set_index("listing_id")["event_id"]
    frame = pd.DataFrame({"listing_id": listing_ids, "label": labels})
    frame["old"] = frame["listing_id"].map(old)
    votes = frame.dropna(subset=["old"]).groupby(["label", "old"]).size().reset_index(name="n")
    votes = votes.sort_values(["n", "old"], ascending=[False, True])
    sizes = frame.groupby("label").size()
    votes["size"] = votes["label"].map(sizes)
    chosen: dict[object, str] = {}
    taken: set[str] = set()
    for label, old_id in zip(
        *votes.sort_values(["size", "n", "old"], ascending=[False, False, True])[["label", "old"]].T.to_numpy(),
        strict=True,
    ):
        if label not in chosen and old_id not in taken:
            chosen[label] = str(old_id)
            taken.add(str(old_id))
    # New ids for the clusters no old id went to: a hash of their sorted listing ids, built in one pass.
    fresh = frame[~frame["label"].isin(list(chosen))]
    # A new cluster is named after its smallest listing id: unique, and computed without a Python
    # call per group.
    keys = fresh.groupby("label", sort=False)["listing_id"].min()
    ids: dict[object, str] = dict(zip(keys.index, (new_id_from_key(k) for k in keys.to_numpy()), strict=True))
    ids.update(chosen)
    return frame["label"].map(ids)
