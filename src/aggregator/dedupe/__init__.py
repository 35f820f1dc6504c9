"""Cross-source deduplication: blocking, pair scoring, guarded clusters, golden records, stable ids.

See docs/deduplication.md for the rules and their thresholds, and bench/dedupe_bench.py for the
measured accuracy and speed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from aggregator.dedupe.blocks import MapBlocks, match_in_blocks
from aggregator.dedupe.candidates import candidate_pairs
from aggregator.dedupe.golden import build_events
from aggregator.dedupe.ids import assign_event_ids
from aggregator.dedupe.keys import add_keys
from aggregator.schema import EVENTS, LISTINGS, MATCHES
from aggregator.settings import DedupeSettings
from aggregator.validation import conform

__all__ = ["DedupeSettings", "Deduplicated", "dedupe"]


@dataclass(frozen=True)
class Deduplicated:
    """Listings with their ``event_id``, one row per event, and the explained pairs."""

    listings: pd.DataFrame
    events: pd.DataFrame
    matches: pd.DataFrame
    candidates: int = 0
    crowded_blocks: int = 0  # (place block, day) groups compared on title keys only (``max_block_listings``)


def _matches(keyed: pd.DataFrame, scored: pd.DataFrame, settings: DedupeSettings) -> pd.DataFrame:
    keep = scored[(scored["decision"] != "rejected") | (scored["title_score"] >= settings.title_near_miss)]
    left, right = keep["left"].to_numpy(), keep["right"].to_numpy()

    def taken(column: str, rows: np.ndarray) -> pd.Series:
        # Taken as the column's own (Arrow) strings: no Python string per pair, none to convert back.
        return pd.Series(keyed[column].array.take(rows), index=keep.index)

    out = keep.assign(
        left_listing_id=taken("listing_id", left),
        right_listing_id=taken("listing_id", right),
        left_source_id=taken("source_id", left),
        right_source_id=taken("source_id", right),
    )
    return conform(out, MATCHES)


def dedupe(
    listings: pd.DataFrame,
    priorities: Mapping[str, int],
    run_at: pd.Timestamp,
    previous_events: pd.DataFrame | None = None,
    previous_listings: pd.DataFrame | None = None,
    settings: DedupeSettings | None = None,
    parts: int = 1,
    map_blocks: MapBlocks | None = None,
) -> Deduplicated:
    """Find the listings that describe the same event and merge them.

    Args:
        listings: Normalised listings.
        priorities: Source id -> priority from sources.yaml (survivorship).
        run_at: Time of this run (``first_seen_at``/``last_seen_at``).
        previous_events: Last run's events (to keep ``first_seen_at``).
        previous_listings: Last run's listings (their ``event_id``: ids stay stable across runs).
        settings: Thresholds; defaults documented in ``DedupeSettings``.
        parts: Partitions of whole components of candidate pairs that are scored and clustered
            separately (``match_in_blocks``), by ``map_blocks`` (e.g. on Dask workers).
        map_blocks: ``map``-like function that runs them (default: the builtin, here).
    """
    settings = settings or DedupeSettings()
    if listings.empty:
        return Deduplicated(conform(listings, LISTINGS), EVENTS.empty_frame(), MATCHES.empty_frame())
    # Listings kept from earlier runs (last good data, fixtures) may predate a column of the schema.
    missing = {c.name: None for c in LISTINGS.columns if c.name not in listings}
    keyed = add_keys(listings.assign(**missing).reset_index(drop=True))
    pairs, crowded_blocks = candidate_pairs(keyed, settings)
    labels, scored = match_in_blocks(keyed, pairs, settings, parts, map_blocks)
    keyed["event_id"] = assign_event_ids(keyed["listing_id"], pd.Series(labels, index=keyed.index), previous_listings)
    events = build_events(keyed, keyed["_title"], priorities, run_at, previous_events)
    return Deduplicated(conform(keyed, LISTINGS), events, _matches(keyed, scored, settings), len(pairs), crowded_blocks)
