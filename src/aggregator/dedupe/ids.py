"""Stable event ids: the same real event keeps its id from one nightly run to the next."""

from __future__ import annotations

import hashlib
from functools import partial

import numpy as np
import pandas as pd


def new_id_from_key(key: str) -> str:
    """``ev-`` and 16 hex digits of the SHA-1 of ``key``."""
    return "ev-" + hashlib.sha1(key.encode("utf-8")).hexdigest()[:16]


def free_id(key: str, taken: set[str]) -> str:
    """``new_id_from_key(key)``, unless an old id kept this run is that: then that of ``key|2``, ``key|3``, etc.

    An old event is named after its smallest listing: when it splits and the larger part keeps its
    id, the part holding that listing would otherwise be given the same id again, and the two parts
    would stay one event. ``|`` never occurs in a listing id, so these names are never another's.
    """
    name, n = new_id_from_key(key), 1
    while name in taken:
        n += 1
        name = new_id_from_key(f"{key}|{n}")
    return name


def assign_event_ids(listing_ids: pd.Series, labels: pd.Series, previous: pd.DataFrame | None) -> pd.Series:
    """An ``event_id`` per listing: the id its cluster's listings had last run, else a new one.

    Args:
        listing_ids: ``listing_id`` of each listing.
        labels: Cluster label of each listing (same index).
        previous: Last run's ``listing_id`` -> ``event_id`` mapping (``listings.parquet`` columns), or None.

    When a cluster's listings carried several ids (two events found to be one), the id held by most
    of them wins, ties going to the smallest id; when two clusters claim the same old id (one event
    split in two), the larger cluster keeps it (then the one more of whose listings held it, then
    the one whose representative comes first) and the other gets a new id, named after its smallest
    listing id (``free_id``: never an old id kept this run). A source joining a cluster, or a
    corrected title (the listing keeps its id when the source gives a uid), keeps the id.
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
    # New ids for the clusters no old id went to: each is named after its smallest listing id
    # (unique), hashed once per cluster. Clusters of one listing (most of them) need no grouping.
    codes, clusters = pd.factorize(frame["label"])
    ids = frame["listing_id"].to_numpy(dtype=object)
    members = np.bincount(codes, minlength=len(clusters))
    smallest = np.empty(len(clusters), dtype=object)
    alone = members[codes] == 1
    smallest[codes[alone]] = ids[alone]
    if not alone.all():
        # Arrow strings: pandas takes minima of Python objects one comparison at a time (10 s here).
        grouped = pd.Series(ids[~alone], dtype="str").groupby(codes[~alone]).min()
        smallest[grouped.index.to_numpy()] = grouped.to_numpy()
    name = partial(free_id, taken=taken) if taken else new_id_from_key
    named = np.array(
        [chosen.get(label) or name(key) for label, key in zip(clusters.tolist(), smallest.tolist(), strict=True)],
        dtype=object,
    )
    return pd.Series(named[codes], index=frame.index, dtype="str")
