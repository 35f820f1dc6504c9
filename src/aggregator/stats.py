"""Summary tables: events per region, département, type, attendance mode, day, source, organiser and edition."""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Sequence
from typing import cast

import numpy as np
import pandas as pd

from aggregator import reference
from aggregator.normalise.dates import local_times
from aggregator.schema import ATTENDANCE_MODES, EVENT_TYPES, GEO_PRECISIONS

MODE_COLUMNS = list(ATTENDANCE_MODES)


def _mode_counts(events: pd.DataFrame, key: str) -> pd.DataFrame:
    counts = pd.crosstab(events[key], events["attendance_mode"]) if len(events) else pd.DataFrame()
    return counts.reindex(columns=MODE_COLUMNS, fill_value=0)


def by_region(events: pd.DataFrame) -> pd.DataFrame:
    """All 18 regions, zeros included: events in total and per attendance mode."""
    regions = reference.regions()[["region_code", "region_name"]].copy()
    counts = _mode_counts(events, "region_code")
    out = regions.join(counts, on="region_code").fillna({m: 0 for m in MODE_COLUMNS})
    out[MODE_COLUMNS] = out[MODE_COLUMNS].astype("int64")
    out.insert(2, "events", out[MODE_COLUMNS].sum(axis=1).astype("int64"))
    return out.reset_index(drop=True)


def by_departement(events: pd.DataFrame) -> pd.DataFrame:
    """All 101 départements, zeros included, with their region."""
    deps = reference.departements()[["departement_code", "departement_name", "region_code"]].copy()
    counts = events["departement_code"].value_counts()
    deps["events"] = deps["departement_code"].map(counts).fillna(0).astype("int64")
    return deps.reset_index(drop=True)


def _closed_counts(series: pd.Series, values: tuple[str, ...], name: str) -> pd.DataFrame:
    counts = series.value_counts().reindex(list(values), fill_value=0)
    return pd.DataFrame({name: list(values), "events": counts.to_numpy().astype("int64")})


def by_event_type(events: pd.DataFrame) -> pd.DataFrame:
    """Every type of the taxonomy, zeros included."""
    return _closed_counts(events["event_type"], EVENT_TYPES, "event_type")


def by_attendance_mode(events: pd.DataFrame) -> pd.DataFrame:
    """in_person, online, hybrid and unknown, zeros included."""
    return _closed_counts(events["attendance_mode"], ATTENDANCE_MODES, "attendance_mode")


def local_dates(events: pd.DataFrame) -> pd.Series:
    """The start date of each event in its own time zone (an 23:30 UTC start in Paris is the next day)."""
    return cast(pd.Series, local_times(events["start_at"], events["timezone"]).dt.date)


def by_day(events: pd.DataFrame) -> pd.DataFrame:
    """Events starting each local day, for days that have any."""
    if events.empty:
        return pd.DataFrame({"date": pd.Series([], dtype="object"), "events": pd.Series([], dtype="int64")})
    # Counted on numpy days, then the few distinct ones made dates (a date object per event costs more).
    days = local_times(events["start_at"], events["timezone"]).to_numpy().astype("datetime64[D]")
    distinct, counts = np.unique(days[~np.isnat(days)], return_counts=True)
    return pd.DataFrame({"date": distinct.astype(object).tolist(), "events": counts.astype("int64")})


def by_source(
    listings: pd.DataFrame, events: pd.DataFrame, rejects: pd.DataFrame, sources: pd.DataFrame
) -> pd.DataFrame:
    """Per source: status, listings, events it contributes to, events only it lists, rejects.

    Args:
        listings: Published listings.
        events: Published events.
        rejects: Rejected rows.
        sources: One row per configured source: ``source_id``, ``kind``, ``status``.
    """
    out = sources[["source_id", "kind", "status"]].copy()
    out["listings"] = out["source_id"].map(listings["source_id"].value_counts()).fillna(0).astype("int64")
    lists: list[Sequence[str]] = [v if v is not None else [] for v in events["source_ids"].tolist()]
    contributes = Counter(itertools.chain.from_iterable(lists))
    out["events"] = out["source_id"].map(contributes).fillna(0).astype("int64")
    alone = events["n_sources"].to_numpy() == 1
    only = Counter(v[0] for v, one in zip(lists, alone, strict=True) if one and len(v))
    out["events_only_here"] = out["source_id"].map(only).fillna(0).astype("int64")
    out["rejects"] = out["source_id"].map(rejects["source_id"].value_counts()).fillna(0).astype("int64")
    return out.reset_index(drop=True)


def geo_quality(listings: pd.DataFrame, events: pd.DataFrame) -> pd.DataFrame:
    """How well places are resolved: per source (its listings), all listings, and all events.

    Columns: ``scope`` (a source id, ``all_listings`` or ``all_events``), ``rows``,
    ``resolved_region``, ``share_resolved`` (0-1), then one count column per ``geo_precision`` value.
    A drop in ``share_resolved`` or a rise of ``none`` shows a geography regression.
    """

    def summary(scope: str, frame: pd.DataFrame) -> dict[str, object]:
        counts = frame["geo_precision"].value_counts()
        resolved = int(frame["region_code"].notna().sum())
        row: dict[str, object] = {
            "scope": scope,
            "rows": len(frame),
            "resolved_region": resolved,
            "share_resolved": round(resolved / len(frame), 4) if len(frame) else 0.0,
        }
        row.update({p: int(counts.get(p, 0)) for p in GEO_PRECISIONS})
        return row

    read = listings[["source_id", "geo_precision", "region_code"]]  # groups copy only what they count
    rows = [summary(str(source), group) for source, group in read.groupby("source_id", sort=True)]
    rows += [summary("all_listings", listings), summary("all_events", events)]
    return pd.DataFrame(rows)


def by_organizer(events: pd.DataFrame) -> pd.DataFrame:
    """Events per organiser as the sources name them (blank organisers left out), most first."""
    named = events["organizer"].dropna().astype(str).str.strip()
    counts = named[named != ""].value_counts()
    out = pd.DataFrame({"organizer": counts.index.astype(str), "events": counts.to_numpy().astype("int64")})
    return out.sort_values(["events", "organizer"], ascending=[False, True], kind="stable").reset_index(drop=True)


def edition_of(events: pd.DataFrame) -> pd.Series:
    """The edition (year, each November is one) of each event: the local year of its start."""
    if not len(events):
        return pd.Series(dtype="int64")
    return cast(pd.Series, local_times(events["start_at"], events["timezone"]).dt.year.astype("int64"))


def edition_events(events: pd.DataFrame) -> pd.DataFrame:
    """The events that belong to an edition's record, removed ones included when they had happened.

    Sources drop events once they are over: an event removed after its start still counts for its
    edition; one removed before it started (withdrawn) does not.
    """
    if "removed_at" not in events.columns:
        return events
    kept = events["removed_at"].isna() | (events["removed_at"] > events["start_at"])
    return events[kept].reset_index(drop=True)


def by_edition(events: pd.DataFrame) -> pd.DataFrame:
    """Events per edition and region, with the previous edition's count and the change.

    Every edition has the 18 regions and a row for events placed in no region (``region_code``
    null), so that an edition's rows sum to its total.
    """
    history = edition_events(events)
    regions = reference.regions()[["region_code", "region_name"]]
    editions = sorted(set(edition_of(history).tolist()))
    if not editions:
        return pd.DataFrame(
            columns=["edition", "region_code", "region_name", "events", "previous_events", "change"]
        ).astype({"edition": "int64", "events": "int64", "previous_events": "Int64", "change": "Int64"})
    # Events placed in no region get a row of their own (region_code null), so an edition's rows sum to its total.
    unplaced = pd.DataFrame({"region_code": [""], "region_name": ["(sans région)"]})
    regions = pd.concat([regions, unplaced], ignore_index=True)
    placed = history.assign(edition=edition_of(history), region_code=history["region_code"].fillna(""))
    counts = placed.groupby(["edition", "region_code"]).size()
    grid = pd.MultiIndex.from_product([editions, regions["region_code"]], names=["edition", "region_code"])
    out = counts.reindex(grid, fill_value=0).rename("events").reset_index()
    out = out.merge(regions, on="region_code")[["edition", "region_code", "region_name", "events"]]
    previous = out.assign(edition=out["edition"] + 1).set_index(["edition", "region_code"])["events"]
    out["previous_events"] = pd.Series(
        [previous.get((e, r)) for e, r in zip(out["edition"], out["region_code"], strict=True)], dtype="Int64"
    )
    out["change"] = (out["events"] - out["previous_events"]).astype("Int64")
    return (
        out.astype({"edition": "int64", "events": "int64"})
        .sort_values(["edition", "region_code"])
        .reset_index(drop=True)
        .assign(region_code=lambda f: f["region_code"].replace("", None))
    )


def all_tables(
    listings: pd.DataFrame, events: pd.DataFrame, rejects: pd.DataFrame, sources: pd.DataFrame
) -> dict[str, pd.DataFrame]:
    """Every summary table, by file name."""
    return {
        "by_region": by_region(events),
        "by_departement": by_departement(events),
        "by_event_type": by_event_type(events),
        "by_attendance_mode": by_attendance_mode(events),
        "by_day": by_day(events),
        "by_source": by_source(listings, events, rejects, sources),
        "geo_quality": geo_quality(listings, events),
        "by_organizer": by_organizer(events),
    }
