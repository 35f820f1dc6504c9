"""The published summary tables (``stats/*``): columns, types and meaning, like ``schema.py``'s tables."""

from __future__ import annotations

import pyarrow as pa

from aggregator.schema import ATTENDANCE_MODES, EVENT_TYPES, GEO_PRECISIONS, SOURCE_STATUSES, Column, Table

_S, _I, _F = pa.string(), pa.int64(), pa.float64()
REGION_CODE = r"[0-9]{2}"
DEPARTEMENT_CODE = r"0[1-9]|1[0-9]|2[1-9AB]|[3-8][0-9]|9[0-5]|97[1-6]"


def _count(name: str, what: str) -> Column:
    return Column(name, _I, False, what)


EVENTS_COUNT = _count("events", "Events counted (removed events left out).")
MODE_COUNTS = tuple(_count(m, f"Of which attendance mode {m}.") for m in ATTENDANCE_MODES)

BY_REGION = Table(
    "by_region",
    "Events per region: all 18 regions, overseas included, zeros included, in INSEE code order.",
    (
        Column("region_code", _S, False, "INSEE code of the region (COG 2025).", pattern=REGION_CODE),
        Column("region_name", _S, False, "Official name of the region."),
        EVENTS_COUNT,
        *MODE_COUNTS,
    ),
)
BY_DEPARTEMENT = Table(
    "by_departement",
    "Events per département: all 101, zeros included.",
    (
        Column("departement_code", _S, False, "INSEE code of the département.", pattern=DEPARTEMENT_CODE),
        Column("departement_name", _S, False, "Official name of the département."),
        Column("region_code", _S, False, "INSEE code of its region.", pattern=REGION_CODE),
        EVENTS_COUNT,
    ),
)
BY_EVENT_TYPE = Table(
    "by_event_type",
    "Events per type of the documented taxonomy, zeros included.",
    (Column("event_type", _S, False, "Type of event.", allowed=EVENT_TYPES), EVENTS_COUNT),
)
BY_ATTENDANCE_MODE = Table(
    "by_attendance_mode",
    "Events per attendance mode, zeros included.",
    (Column("attendance_mode", _S, False, "How people attend.", allowed=ATTENDANCE_MODES), EVENTS_COUNT),
)
BY_DAY = Table(
    "by_day",
    "Events starting each day (local date of the event's place), for days that have any.",
    (Column("date", pa.date32(), False, "Local start date."), EVENTS_COUNT),
)
BY_SOURCE = Table(
    "by_source",
    "Per configured source: its health tonight and what it contributes.",
    (
        Column("source_id", _S, False, "Id of the source in sources.yaml."),
        Column("kind", _S, False, "Kind of the source's adapter."),
        Column("status", _S, False, "ok, failed or broken (see source_health).", allowed=SOURCE_STATUSES),
        _count("listings", "Listings of the source in the published listings (stale ones included)."),
        _count("events", "Events the source contributes to."),
        _count("events_only_here", "Events no other source lists."),
        _count("rejects", "Rows of the source that could not be normalised."),
    ),
)
GEO_QUALITY = Table(
    "geo_quality",
    "How well places are resolved: one row per source (its listings), then all listings, then all events.",
    (
        Column("scope", _S, False, "A source id, all_listings or all_events."),
        _count("rows", "Rows in the scope."),
        _count("resolved_region", "Rows placed in a region."),
        Column("share_resolved", _F, False, "resolved_region / rows, 0 to 1 (0 for an empty scope)."),
        *(_count(p, f"Rows whose place was decided by: {p}.") for p in GEO_PRECISIONS),
    ),
)
BY_ORGANIZER = Table(
    "by_organizer",
    "Events per organiser as the sources name them (blank organisers left out), most first.",
    (Column("organizer", _S, False, "Organiser as written by the sources."), EVENTS_COUNT),
)
BY_EDITION = Table(
    "by_edition",
    "Events per edition (local year of the start) and region, with the previous edition's count; each edition "
    "has the 18 regions and a row for events placed in no region, so that its rows sum to its total.",
    (
        _count("edition", "The edition: the local year of the events' start."),
        Column(
            "region_code",
            _S,
            True,
            "INSEE code of the region; null for events placed in no region.",
            pattern=REGION_CODE,
        ),
        Column("region_name", _S, False, "Name of the region, or '(sans région)'."),
        Column("events", _I, False, "Events of the edition there (removed after their start included)."),
        Column("previous_events", _I, True, "Events of the previous edition there; null when not followed."),
        Column("change", _I, True, "events - previous_events; null when not followed."),
    ),
)

STATS_TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        BY_REGION,
        BY_DEPARTEMENT,
        BY_EVENT_TYPE,
        BY_ATTENDANCE_MODE,
        BY_DAY,
        BY_SOURCE,
        GEO_QUALITY,
        BY_ORGANIZER,
        BY_EDITION,
    )
}
