"""Stable event ids: the same real event keeps its id from one nightly run to the next."""

from __future__ import annotations

import hashlib
from functools import partial

import numpy as np
import pandas as pd
import pyarrow.compute as pc

from aggregator.frames import arrow_strings, string_ranks


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
    # Clusters numbered in the order of their labels (a label is its representative's position).
    codes, clusters = pd.factorize(np.asarray(labels), sort=True)
    members = np.bincount(codes, minlength=len(clusters))
    keeping, kept = _old_ids_kept(listing_ids, codes, members, previous)
    named = np.full(len(clusters), "", dtype=object)
    named[keeping] = kept
    taken = set(kept.tolist())
    # New ids for the clusters no old id went to: each is named after its smallest listing id
    # (unique), hashed once per cluster. Clusters of one listing (most of them) need no grouping.
    unnamed = named == ""
    rows = unnamed[codes]
    ids = np.asarray(listing_ids, dtype=object)
    smallest = np.empty(len(clusters), dtype=object)
    alone = rows & (members[codes] == 1)
    smallest[codes[alone]] = ids[alone]
    grouped_rows = rows & ~alone
    if grouped_rows.any():
        # Arrow strings: pandas takes minima of Python objects one comparison at a time (10 s here).
        grouped = pd.Series(ids[grouped_rows], dtype="str").groupby(codes[grouped_rows]).min()
        smallest[grouped.index.to_numpy()] = grouped.to_numpy()
    name = partial(free_id, taken=taken) if taken else new_id_from_key
    todo = np.flatnonzero(unnamed)
    named[todo] = [name(key) for key in smallest[todo].tolist()]
    return pd.Series(pd.array(named, dtype="str").take(codes), index=listing_ids.index)


def _old_ids_kept(
    listing_ids: pd.Series, codes: np.ndarray, members: np.ndarray, previous: pd.DataFrame | None
) -> tuple[np.ndarray, np.ndarray]:
    """The clusters that keep an old id, and the old id each keeps.

    Each cluster's claims (old id, listings that held it) are met strongest first: larger clusters,
    then more listings, then the smaller old id, then the cluster whose representative comes first
    (``codes`` follow the labels' order); a claim wins when neither its cluster nor its id is taken.
    A claim that no other claim competes with (its cluster's only one, on an id no other cluster
    held) wins whatever the order: only the others are met one by one.
    """
    if previous is None or not len(previous):
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=object)
    # A listing's row last run: its first, as Arrow's lookup finds it; a row without an event id holds none.
    found = (
        pc.index_in(arrow_strings(listing_ids), value_set=arrow_strings(previous["listing_id"]))
        .fill_null(-1)
        .to_numpy()
    )
    all_codes, olds = pd.factorize(previous["event_id"].astype("str"))
    held = found >= 0
    held[held] = all_codes[found[held]] >= 0
    old_codes = all_codes[found[held]]
    rank = string_ranks(olds)  # each old id's place in sorted order
    claims, votes = np.unique(codes[held].astype(np.int64) * max(len(olds), 1) + old_codes, return_counts=True)
    cluster, claimed = claims // max(len(olds), 1), claims % max(len(olds), 1)
    order = np.lexsort((cluster, rank[claimed], -votes, -members[cluster]))
    cluster, claimed = cluster[order], claimed[order]
    alone = (np.bincount(cluster, minlength=len(members))[cluster] == 1) & (
        np.bincount(claimed, minlength=len(olds))[claimed] == 1
    )
    chosen = dict(zip(cluster[alone].tolist(), claimed[alone].tolist(), strict=True))
    taken = set(chosen.values())
    for label, old_id in zip(cluster[~alone].tolist(), claimed[~alone].tolist(), strict=True):
        if label not in chosen and old_id not in taken:
            chosen[label] = old_id
            taken.add(old_id)
    names = np.array([str(v) for v in olds.tolist()], dtype=object)
    return np.fromiter(chosen.keys(), np.int64, len(chosen)), names[np.fromiter(chosen.values(), np.int64, len(chosen))]
