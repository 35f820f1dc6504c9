"""Merge listings that describe the same event into one golden record per event."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import cast

import pandas as pd

from aggregator.normalise.text import fold
from aggregator.schema import EVENT_FIELDS, EVENTS, LISTINGS
from aggregator.validation import conform

PLACE_FIELDS = (
    "venue_name", "street_address", "postal_code", "city", "commune_insee", "departement_code",
    "departement_name", "region_code", "region_name", "geo_precision", "latitude", "longitude",
)  # fmt: skip


# Strongest evidence first.
PRECISION_RANK = {
    name: rank
    for rank, name in enumerate(
        ("commune", "postal_code", "city_name", "coordinates", "departement", "region", "source_default", "none")
    )
}


def match_key(listings: pd.DataFrame) -> pd.Series:
    """Exact match key: folded title, start minute (UTC) and folded city.

    Folding ignores accents, case and punctuation, so "Atelier : Éco-conception" on one source and
    "atelier eco conception" on another share a key when they start at the same minute in the same city.
    """
    title = listings["title"].map(fold)
    start = listings["start_at"].dt.strftime("%Y-%m-%dT%H:%M")
    city = listings["city"].astype("object").map(fold)
    return cast(pd.Series, title + "|" + start + "|" + city)


def event_ids(keys: pd.Series) -> pd.Series:
    """Stable event id from a match key: ``ev-`` and 16 hex digits of its SHA-1."""
    return keys.map(lambda key: "ev-" + hashlib.sha1(key.encode("utf-8")).hexdigest()[:16])


def _ordered_unique(values: pd.Series) -> list[str]:
    return list(dict.fromkeys(v for v in values if isinstance(v, str)))


def dedupe(
    listings: pd.DataFrame,
    priorities: Mapping[str, int],
    run_at: pd.Timestamp,
    previous_events: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Assign ``event_id`` to listings and build one event per id.

    Survivorship: listings are ranked by the source's ``priority`` (higher first), then by
    completeness (more filled fields), then by most recent fetch; each field of the event takes the
    first non-null value in that order.

    Args:
        listings: Normalised listings (``event_id`` may be empty).
        priorities: Source id -> priority from sources.yaml.
        run_at: Time of this run, for ``first_seen_at`` / ``last_seen_at``.
        previous_events: The previous run's events, to keep ``first_seen_at``.

    Returns:
        ``(listings with event_id, events)``, both conformant to their tables.
    """
    listings = listings.copy()
    if listings.empty:
        return conform(listings, LISTINGS), EVENTS.empty_frame()
    listings["event_id"] = event_ids(match_key(listings))
    fields = [c.name for c in EVENT_FIELDS]
    ranked = listings.assign(
        _priority=listings["source_id"].map(priorities).fillna(0),
        _filled=listings[fields].notna().sum(axis=1),
    ).sort_values(
        ["_priority", "_filled", "fetched_at", "listing_id"],
        ascending=[False, False, False, True],
        kind="stable",
    )
    grouped = ranked.groupby("event_id", sort=False)
    events = grouped[fields].first()
    # Place fields travel together, from the listing with the most precise place (then by rank), so
    # that a city from one source never sits beside another source's region.
    placed = ranked.assign(_precision=ranked["geo_precision"].map(PRECISION_RANK)).sort_values(
        "_precision", kind="stable"
    )
    place = placed.groupby("event_id", sort=False).head(1).set_index("event_id")[list(PLACE_FIELDS)]
    events[list(PLACE_FIELDS)] = place.reindex(events.index)
    events["source_ids"] = grouped["source_id"].agg(_ordered_unique)
    events["source_urls"] = grouped["url"].agg(_ordered_unique)
    events["n_sources"] = events["source_ids"].map(len)
    events["n_listings"] = grouped.size()
    events = events.reset_index()
    events["first_seen_at"] = run_at
    if previous_events is not None and len(previous_events):
        seen = previous_events.set_index("event_id")["first_seen_at"]
        seen = seen[~seen.index.duplicated()]
        events["first_seen_at"] = events["event_id"].map(seen).fillna(run_at)
    events["last_seen_at"] = run_at
    events = events.sort_values(["start_at", "event_id"], kind="stable")
    return conform(listings, LISTINGS), conform(events, EVENTS)
