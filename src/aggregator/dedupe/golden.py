"""Golden records: one row per event, each field chosen by documented survivorship rules."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

import numpy as np
import pandas as pd
import pyarrow.compute as pc

from aggregator.frames import arrow_strings, string_ranks, take_columns
from aggregator.schema import EVENT_FIELDS, EVENTS
from aggregator.validation import conform

PLACE_FIELDS = (
    "venue_name", "street_address", "postal_code", "city", "commune_insee", "arrondissement_insee",
    "departement_code", "departement_name", "region_code", "region_name", "geo_precision", "latitude", "longitude",
)  # fmt: skip
# Strongest geographic evidence first.
PRECISION_ORDER = (
    "commune", "postal_code", "city_over_postal_code", "city_name", "coordinates", "city_name_majority",
    "departement", "region", "source_default", "none",
)  # fmt: skip
PRECISION_RANK = {name: rank for rank, name in enumerate(PRECISION_ORDER)}


def lists_by_group(
    groups: np.ndarray, values: pd.Series, n_groups: int, rows: np.ndarray | None = None
) -> tuple[list[list[str]], np.ndarray]:
    """For each group ``0..n_groups-1``, its distinct non-empty ``values`` in their current order, and their count.

    ``groups`` holds the group of each row, rows already in the wanted order and grouped together.
    Built from integer codes and list slices rather than a pandas operation per group. The lists
    come in the order of the groups ``rows`` (default: all of them, in order); the counts by group.
    """
    codes, uniques = pd.factorize(values)
    strings = np.asarray(uniques, dtype=object)
    empty = np.array([not isinstance(v, str) or not v for v in strings.tolist()], dtype=bool)
    present = (codes >= 0) & ~np.append(empty, True)[codes]
    key = pd.Series(groups.astype(np.int64) * np.int64(len(strings) + 1) + codes)
    keep = present & ~key.duplicated().to_numpy()
    flat = strings[codes[keep]].tolist()
    counts = np.bincount(groups[keep], minlength=n_groups)
    ends = np.cumsum(counts)
    starts = ends - counts
    if rows is not None:
        starts, ends = starts[rows], ends[rows]
    return [flat[start:end] for start, end in zip(starts.tolist(), ends.tolist(), strict=True)], counts


def series_ids(events: pd.DataFrame, title_keys: pd.Series) -> pd.Series:
    """``se-`` + hash of the event's title key and place: occurrences of one workshop share it."""
    place = events["departement_code"].fillna(events["region_code"]).fillna("")
    place = place.where(events["attendance_mode"] != "online", "online")
    keys = title_keys.reindex(events.index).fillna("") + "|" + place
    codes, uniques = pd.factorize(keys)
    hashed = np.array(["se-" + hashlib.sha1(k.encode("utf-8")).hexdigest()[:16] for k in uniques], dtype=object)
    return pd.Series(hashed[codes], index=events.index, dtype="object")


def _utc_micros(values: pd.Series) -> np.ndarray:
    """UTC timestamps as int64 microseconds (sortable with numpy; NaT as the smallest integer)."""
    naive = pd.to_datetime(values, utc=True).dt.tz_localize(None).to_numpy()
    return np.asarray(naive.astype("datetime64[us]").astype(np.int64), dtype=np.int64)


def _first_valid(values: pd.Series, order: np.ndarray, groups: np.ndarray, default: np.ndarray) -> np.ndarray:
    """Per group, the position of its first row (in ``order``) whose value is not null, else ``default``."""
    valid = np.flatnonzero(values.notna().to_numpy()[order])
    chosen = default.copy()
    in_group = groups[valid]
    first = np.ones(len(valid), dtype=bool)
    first[1:] = in_group[1:] != in_group[:-1]
    chosen[in_group[first]] = order[valid[first]]
    return chosen


def build_events(
    listings: pd.DataFrame,
    title_keys: pd.Series,
    priorities: Mapping[str, int],
    run_at: pd.Timestamp,
    previous_events: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One event per ``event_id``.

    Survivorship: listings are ranked by the source's ``priority`` (higher first), then by
    completeness (more filled fields), then fresh listings before stale ones (a failed source's last
    good data) and among stale ones the most recently fetched, then by listing id; each field takes
    the first non-null value in that order. Place fields travel together, from the listing
    with the most precise place (ties in the same order).

    Done on row positions: one sort of all listings, then one ``take`` per column, so a million
    listings cost seconds (no group-wise pandas operations on string columns).
    """
    fields = [c.name for c in EVENT_FIELDS]
    listings = listings.reset_index(drop=True)
    groups, event_ids = pd.factorize(listings["event_id"])
    n_events = len(event_ids)
    sizes = np.bincount(groups, minlength=n_events)
    source_codes, sources = pd.factorize(listings["source_id"])
    priority = np.array([priorities.get(str(s), 0) for s in sources], dtype=float)[source_codes]
    filled = listings[fields].notna().sum(axis=1).to_numpy()
    # Fresh listings tie on recency: the milliseconds between two sources' fetches in one run must
    # not pick the survivor (it would change with the engine's scheduling, night after night).
    fetched = _utc_micros(listings["fetched_at"])
    if "stale_since" in listings.columns:
        fetched = np.where(listings["stale_since"].isna().to_numpy(), np.iinfo(np.int64).max, fetched)
    # The listing-id tie-break matters only inside merged events: the sort of strings is kept to those.
    merged = sizes[groups] > 1
    tie = np.zeros(len(listings), dtype=np.int64)
    tie[merged] = string_ranks(listings.loc[merged, "listing_id"])
    order = np.lexsort((tie, -fetched, -filled, -priority, groups))
    sorted_groups = groups[order]
    best = order[np.searchsorted(sorted_groups, np.arange(n_events))]

    positions = {name: _first_valid(listings[name], order, sorted_groups, best) for name in fields}
    # Place fields together, from the most precise place; the survivorship order breaks ties.
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    precision_codes, precisions = pd.factorize(listings["geo_precision"])
    ranks = np.array([PRECISION_RANK.get(str(p), len(PRECISION_RANK)) for p in precisions] + [len(PRECISION_RANK)])
    place_order = np.lexsort((rank, ranks[precision_codes], groups))
    placed = place_order[np.searchsorted(groups[place_order], np.arange(n_events))]
    positions.update(dict.fromkeys(PLACE_FIELDS, placed))
    # Events come out by start, then id: the order is applied to the positions, so that every
    # column is taken once (a sort of the finished frame would take every column again).
    starts = _utc_micros(listings["start_at"])[positions["start_at"]]
    final = np.lexsort((string_ranks(event_ids), starts))
    columns: dict[str, object] = {"event_id": pd.Series(event_ids.take(final))}
    columns.update(take_columns({name: listings[name] for name in fields}, positions, final))
    events = pd.DataFrame(columns)
    source_ids, n_sources = lists_by_group(sorted_groups, listings["source_id"].take(order), n_events, final)
    source_urls, _ = lists_by_group(sorted_groups, listings["url"].take(order), n_events, final)
    events["source_ids"] = pd.Series(source_ids, dtype="object")
    events["source_urls"] = pd.Series(source_urls, dtype="object")
    events["n_sources"] = n_sources[final]
    events["n_listings"] = sizes[final]
    title_keys = title_keys.reset_index(drop=True).take(best[final]).reset_index(drop=True)
    events["series_id"] = series_ids(events, title_keys)
    events["first_seen_at"] = run_at
    if previous_events is not None and len(previous_events):
        # Each event's first row last run, found by Arrow's hash lookup (a label lookup costs more).
        found = pc.index_in(arrow_strings(events["event_id"]), value_set=arrow_strings(previous_events["event_id"]))
        seen = previous_events["first_seen_at"].array.take(found.fill_null(-1).to_numpy(), allow_fill=True)
        events["first_seen_at"] = pd.Series(seen, index=events.index).fillna(run_at)
    events["last_seen_at"] = run_at
    return conform(events, EVENTS)
