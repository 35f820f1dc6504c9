"""Golden records: one row per event, each field chosen by documented survivorship rules."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

import numpy as np
import pandas as pd

from aggregator.schema import EVENT_FIELDS, EVENTS
from aggregator.validation import conform

PLACE_FIELDS = (
    "venue_name", "street_address", "postal_code", "city", "commune_insee", "departement_code",
    "departement_name", "region_code", "region_name", "geo_precision", "latitude", "longitude",
)  # fmt: skip
# Strongest geographic evidence first.
PRECISION_RANK = {
    name: rank
    for rank, name in enumerate(
        ("commune", "postal_code", "city_name", "coordinates", "departement", "region", "source_default", "none")
    )
}


def lists_by_group(groups: pd.Series, values: pd.Series, index: pd.Index) -> pd.Series:
    """For each group in ``index``, its distinct non-null ``values`` in their current order.

    Done with one stable sort and ``np.split`` rather than a Python call per group: the events of a
    million listings are built in seconds.
    """
    frame = pd.DataFrame({"g": groups.to_numpy(), "v": values.to_numpy()}).dropna()
    frame = frame[frame["v"].astype(str) != ""].drop_duplicates()
    frame = frame.sort_values("g", kind="stable")
    keys, starts = np.unique(frame["g"].to_numpy(), return_index=True)
    chunks = np.split(frame["v"].to_numpy(), starts[1:]) if len(frame) else []
    found = pd.Series([list(c) for c in chunks], index=keys, dtype="object").reindex(index)
    missing = np.flatnonzero(found.isna().to_numpy())
    if len(missing):
        found.iloc[missing] = pd.Series([[] for _ in missing], index=found.index[missing], dtype="object")
    return found


def series_ids(events: pd.DataFrame, title_keys: pd.Series) -> pd.Series:
    """``se-`` + hash of the event's title key and place: occurrences of one workshop share it."""
    place = events["departement_code"].fillna(events["region_code"]).fillna("")
    place = place.where(events["attendance_mode"] != "online", "online")
    keys = title_keys.reindex(events.index).fillna("") + "|" + place
    codes, uniques = pd.factorize(keys)
    hashed = np.array(["se-" + hashlib.sha1(k.encode("utf-8")).hexdigest()[:16] for k in uniques], dtype=object)
    return pd.Series(hashed[codes], index=events.index, dtype="object")


def build_events(
    listings: pd.DataFrame,
    title_keys: pd.Series,
    priorities: Mapping[str, int],
    run_at: pd.Timestamp,
    previous_events: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One event per ``event_id``.

    Survivorship: listings are ranked by the source's ``priority`` (higher first), then by
    completeness (more filled fields), then by most recent fetch; each field takes the first non-null
    value in that order. Place fields travel together, from the listing with the most precise place.
    """
    fields = [c.name for c in EVENT_FIELDS]
    # Most events have one listing: they are copied as they are; only the listings of merged events
    # are ranked and go through the (slower) group-wise survivorship.
    counts = listings["event_id"].value_counts()
    multi = listings["event_id"].map(counts).to_numpy() > 1
    single = listings[~multi].assign(_title_key=title_keys[~multi]).set_index("event_id")
    merged = (
        listings[multi]
        .assign(
            _priority=listings.loc[multi, "source_id"].map(priorities).fillna(0),
            _filled=listings.loc[multi, fields].notna().sum(axis=1),
            _title_key=title_keys[multi],
        )
        .sort_values(
            ["_priority", "_filled", "fetched_at", "listing_id"], ascending=[False, False, False, True], kind="stable"
        )
    )
    grouped = merged.groupby("event_id", sort=False)
    combined = grouped[fields].first()
    placed = merged.assign(_precision=merged["geo_precision"].map(PRECISION_RANK)).sort_values(
        "_precision", kind="stable"
    )
    place = placed.groupby("event_id", sort=False).head(1).set_index("event_id")[list(PLACE_FIELDS)]
    combined[list(PLACE_FIELDS)] = place.reindex(combined.index)
    combined["n_listings"] = grouped.size()
    combined["_title_key"] = grouped["_title_key"].first()
    alone = single[[*fields, "_title_key"]].assign(n_listings=1)
    alone["source_ids"] = pd.Series([[v] for v in single["source_id"].to_numpy()], index=alone.index, dtype="object")
    alone["source_urls"] = pd.Series(
        [[v] if isinstance(v, str) and v else [] for v in single["url"].to_numpy()], index=alone.index, dtype="object"
    )
    combined["source_ids"] = lists_by_group(merged["event_id"], merged["source_id"], combined.index)
    combined["source_urls"] = lists_by_group(merged["event_id"], merged["url"], combined.index)
    events = pd.concat([combined, alone]) if len(combined) else alone
    events["n_sources"] = events["source_ids"].map(len)
    events["series_id"] = series_ids(events, events.pop("_title_key"))
    events.index.name = "event_id"
    events = events.reset_index()
    events["first_seen_at"] = run_at
    if previous_events is not None and len(previous_events):
        seen = previous_events.drop_duplicates("event_id").set_index("event_id")["first_seen_at"]
        events["first_seen_at"] = events["event_id"].map(seen).fillna(run_at)
    events["last_seen_at"] = run_at
    events = events.sort_values(["start_at", "event_id"], kind="stable")
    return conform(events, EVENTS)
