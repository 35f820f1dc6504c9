"""Pair scoring and clustering split into partitions of whole components, to run on workers."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import partial

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from aggregator.dedupe.matching import cluster, score_pairs
from aggregator.settings import DedupeSettings

# (listings of a partition, their candidate pairs) -> (cluster labels, scored pairs), positions local.
Block = tuple[pd.DataFrame, pd.DataFrame]
Matched = tuple[np.ndarray, pd.DataFrame]
MapBlocks = Callable[[Callable[[Block], Matched], list[Block]], Iterable[Matched]]


def match_block(block: Block, settings: DedupeSettings) -> Matched:
    """Score the candidate pairs of one partition and cluster its listings (``score_pairs`` + ``cluster``).

    Args:
        block: Keyed listings (``add_keys``) and their candidate pairs, as row positions in them.
        settings: Dedup thresholds.

    Returns:
        A representative position per listing, and the scored pairs with their decisions.
    """
    keyed, pairs = block
    return cluster(keyed, score_pairs(keyed, pairs, settings), settings)


def split_blocks(keyed: pd.DataFrame, pairs: pd.DataFrame, parts: int) -> tuple[list[Block], list[np.ndarray]]:
    """Cut the listings that have candidate pairs into ``parts`` partitions of whole components.

    A candidate pair never joins two components of the candidate graph, so each partition can be
    scored and clustered alone and give what the whole would. Listings without any pair are
    left out: they are clusters of their own.

    Returns:
        The partitions (listings and pairs, positions renumbered) and, for each, the original
        positions of its listings.
    """
    n = len(keyed)
    left, right = pairs["left"].to_numpy(), pairs["right"].to_numpy()
    graph = coo_matrix((np.ones(len(left), dtype=np.int8), (left, right)), shape=(n, n))
    _, component = connected_components(graph, directed=False)
    paired = np.zeros(n, dtype=bool)
    paired[left] = paired[right] = True
    # Components numbered in order of their first listing: spread round-robin, sizes even out.
    _, dense = np.unique(component[paired], return_inverse=True)
    part = np.full(n, -1, dtype=np.int64)
    part[paired] = dense % parts
    blocks, positions = [], []
    for p in range(parts):
        rows = np.flatnonzero(part == p)
        if not len(rows):
            continue
        local = np.full(n, -1, dtype=np.int64)
        local[rows] = np.arange(len(rows))
        mine = part[left] == p
        sub_pairs = pd.DataFrame({"left": local[left[mine]], "right": local[right[mine]]}, index=pairs.index[mine])
        blocks.append((keyed.iloc[rows].reset_index(drop=True), sub_pairs))
        positions.append(rows)
    return blocks, positions


def match_in_blocks(
    keyed: pd.DataFrame,
    pairs: pd.DataFrame,
    settings: DedupeSettings,
    parts: int = 1,
    map_blocks: MapBlocks | None = None,
) -> Matched:
    """``score_pairs`` then ``cluster`` over all listings, in ``parts`` partitions run by ``map_blocks``.

    Args:
        keyed: All keyed listings.
        pairs: All candidate pairs (row positions in ``keyed``).
        settings: Dedup thresholds.
        parts: Partitions (1: everything at once, in this process).
        map_blocks: ``map``-like function that runs ``match_block`` on the partitions (default: the builtin).

    Returns:
        Cluster labels (a representative position per listing) and the scored pairs, in the order of
        ``pairs``: the same as ``cluster(keyed, score_pairs(keyed, pairs, settings), settings)``.
    """
    if parts <= 1 or pairs.empty:
        return match_block((keyed, pairs), settings)
    blocks, positions = split_blocks(keyed, pairs, parts)
    labels = np.arange(len(keyed), dtype="int64")
    scored_parts = []
    results = (map_blocks or map)(partial(match_block, settings=settings), blocks)
    for rows, (local_labels, scored) in zip(positions, results, strict=True):
        labels[rows] = rows[local_labels]
        # Back to positions in ``keyed``; the pairs' own index (kept by ``score_pairs``) lets the
        # parts interleave into the order of ``pairs``.
        scored = scored.assign(left=rows[scored["left"].to_numpy()], right=rows[scored["right"].to_numpy()])
        scored_parts.append(scored)
    return labels, pd.concat(scored_parts).sort_index()
