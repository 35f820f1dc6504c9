"""The one definition of every published table: column names, Arrow types, nullability, meaning."""

from __future__ import annotations

import pyarrow as pa

from aggregator.tables import SCHEMA_VERSION, Column, Table, column

__all__ = ["SCHEMA_VERSION", "Column", "Table"]  # the table types, for the modules that read this one

ATTENDANCE_MODES = ("in_person", "online", "hybrid", "unknown")
EVENT_STATUSES = ("scheduled", "cancelled", "postponed", "rescheduled", "moved_online")
EVENT_TYPES = (
    "atelier",
    "conference",
    "table_ronde",
    "webinaire",
    "formation",
    "exposition",
    "visite",
    "demonstration",
    "hackathon",
    "debat_citoyen",
    "autre",
)
GEO_PRECISIONS = (
    "commune",
    "postal_code",
    "city_over_postal_code",
    "city_name",
    "city_name_majority",
    "departement",
    "region",
    "coordinates",
    "source_default",
    "none",
)

UTC_TIMESTAMP = pa.timestamp("us", tz="UTC")
STRING_LIST = pa.list_(pa.string())


_S = pa.string()

# Fields that describe an event; shared by `listings` (as one source said it) and `events` (merged).
EVENT_FIELDS: tuple[Column, ...] = (
    column("title", _S, False, "Title, plain text, whitespace collapsed, Unicode NFC."),
    column("description", _S, True, "Description as plain text (HTML removed, entities decoded)."),
    column(
        "start_at",
        UTC_TIMESTAMP,
        False,
        "Start instant in UTC. For all-day events: local midnight.",
    ),
    column(
        "end_at",
        UTC_TIMESTAMP,
        True,
        "End instant in UTC (exclusive). For all-day events: local midnight after the last day.",
    ),
    column("timezone", _S, False, "IANA time zone of the event's place, used to read local times."),
    column("all_day", pa.bool_(), False, "True when the source gave dates without times."),
    column(
        "attendance_mode",
        _S,
        False,
        "How people attend: in_person, online, hybrid or unknown.",
        allowed=ATTENDANCE_MODES,
    ),
    column(
        "event_type",
        _S,
        False,
        "Kind of event, from the documented French taxonomy.",
        allowed=EVENT_TYPES,
    ),
    column(
        "status",
        _S,
        False,
        "scheduled, cancelled, postponed, rescheduled or moved_online.",
        allowed=EVENT_STATUSES,
    ),
    column("venue_name", _S, True, "Name of the place (building, room, third place)."),
    column("street_address", _S, True, "Street address of the place."),
    column("postal_code", _S, True, "French postal code, five digits, as a string.", pattern=r"\d{5}"),
    column("city", _S, True, "City name as the source wrote it, cleaned."),
    column(
        "commune_insee",
        _S,
        True,
        "INSEE code of the commune (COG), e.g. '33063', '2A004'; Paris, Lyon and Marseille as 75056, "
        "69123 and 13055 whatever the evidence (their arrondissement in arrondissement_insee).",
        pattern=r"[0-9][0-9AB][0-9]{3}",
    ),
    column(
        "arrondissement_insee",
        _S,
        True,
        "INSEE code of the municipal arrondissement of Paris, Lyon or Marseille (75101-75120, 69381-69389, "
        "13201-13216), when the evidence tells it.",
        pattern=r"751[0-2][0-9]|6938[1-9]|132[0-1][0-9]",
    ),
    column(
        "departement_code",
        _S,
        True,
        "INSEE code of the département: '01', '2A', '974'.",
        pattern=r"0[1-9]|1[0-9]|2[1-9AB]|[3-8][0-9]|9[0-5]|97[1-6]",
    ),
    column("departement_name", _S, True, "Official name of the département (COG 2025)."),
    column(
        "region_code",
        _S,
        True,
        "INSEE code of the region (COG 2025), e.g. '75'.",
        pattern=r"[0-9]{2}",
    ),
    column(
        "region_name",
        _S,
        True,
        "Official name of the region (COG 2025), e.g. 'Nouvelle-Aquitaine'.",
    ),
    column(
        "geo_precision",
        _S,
        False,
        "Which evidence decided the place: " + ", ".join(GEO_PRECISIONS) + ".",
        allowed=GEO_PRECISIONS,
    ),
    column("latitude", pa.float64(), True, "Latitude in decimal degrees (WGS 84)."),
    column("longitude", pa.float64(), True, "Longitude in decimal degrees (WGS 84)."),
    column("organizer", _S, True, "Organising body or person."),
    column("url", _S, True, "Absolute URL of the event's page."),
    column("registration_url", _S, True, "Absolute URL where people register."),
    column("online_url", _S, True, "Absolute URL to join online, when the event is online or hybrid."),
)

LISTINGS = Table(
    "listings",
    "Every normalised row as one source published it, with the event it was merged into.",
    (
        column(
            "listing_id",
            _S,
            False,
            "Stable id of this listing: hash of source id and the source's own id.",
        ),
        column("source_id", _S, False, "Id of the source in sources.yaml."),
        column("source_kind", _S, False, "Kind of the source's adapter (html, ical, json, ...)."),
        column("source_uid", _S, True, "The source's own identifier for the item, when it has one."),
        column("event_id", _S, False, "Id of the deduplicated event this listing belongs to."),
        *EVENT_FIELDS,
        column("page_url", _S, True, "URL of the page or file the listing was read from."),
        column("fetched_at", UTC_TIMESTAMP, False, "When the source was fetched (UTC)."),
        column(
            "parse_warning",
            _S,
            True,
            "Null when the source's fields were read whole. Otherwise what was not, and what was kept "
            "instead (e.g. a date whose joined times could not be read: the date alone, all day), "
            "and text fields cut to their maximum length ('title cut from 10485760 to 300 characters').",
        ),
        column(
            "stale_since",
            UTC_TIMESTAMP,
            True,
            "Null when fetched in this run. Otherwise the source failed or looked broken and this is "
            "its last good data, kept: the time of the first run in a row that could not refresh it.",
        ),
    ),
)

SOURCE_STATUSES = ("ok", "failed", "broken")

SOURCE_HEALTH = Table(
    "source_health",
    "One row per source and run: what the source gave, how it was fetched, and whether it looked broken.",
    (
        column("run_id", _S, False, "Id of the run (as in run.json)."),
        column("run_at", UTC_TIMESTAMP, False, "When the run started (UTC)."),
        column("source_id", _S, False, "Id of the source in sources.yaml."),
        column(
            "status",
            _S,
            False,
            "ok; failed (could not be fetched or parsed); broken (fetched, but zero items, a sharp drop or "
            "records mostly rejected).",
            allowed=SOURCE_STATUSES,
        ),
        column("items_fetched", pa.int64(), False, "Items the source gave this run (rejected ones included)."),
        column(
            "items_published", pa.int64(), False, "Listings of the source in this run's outputs (stale ones included)."
        ),
        column("rejects", pa.int64(), False, "Items of the source that could not be normalised."),
        column("stale_listings", pa.int64(), False, "Listings published from the source's last good data."),
        column("http_status", pa.int64(), True, "Status of the source's last HTTP response (null for local files)."),
        column("requests", pa.int64(), False, "HTTP requests sent (robots.txt included)."),
        column("cache_hits", pa.int64(), False, "Responses answered by the HTTP cache after a 304."),
        column("bytes", pa.int64(), False, "Bytes of the pages read."),
        column("duration_s", pa.float64(), False, "Time spent fetching and parsing, in seconds."),
        column("alarm", _S, True, "Why the source looks broken (zero items, sharp drop, records mostly rejected)."),
        column(
            "reject_mix",
            _S,
            True,
            "The source's rejects per reason, as a JSON object most frequent first, e.g. "
            '{"bad_start": 40, "no_title": 2} (keys: aggregator.reasons.TEMPLATES); null without rejects.',
        ),
        column("error", _S, True, "Why the source failed, when it did (secrets redacted)."),
        column("stale_since", UTC_TIMESTAMP, True, "Since when the source's published data is not fresh."),
    ),
)

EVENTS = Table(
    "events",
    "One row per real event, merged from every listing that describes it.",
    (
        column(
            "event_id",
            _S,
            False,
            "Stable id of the event, kept across nightly runs.",
            pattern=r"ev-[0-9a-f]{16}",
        ),
        *EVENT_FIELDS,
        column(
            "source_ids",
            STRING_LIST,
            False,
            "Ids of the sources that list this event, by priority.",
        ),
        column(
            "source_urls",
            STRING_LIST,
            False,
            "Event URLs given by those sources (may be fewer than sources).",
        ),
        column("n_sources", pa.int64(), False, "Number of distinct sources listing this event."),
        column("n_listings", pa.int64(), False, "Number of listings merged into this event."),
        column(
            "series_id",
            _S,
            False,
            "Id shared by the occurrences of one recurring event (same title and place, other dates).",
            pattern=r"se-[0-9a-f]{16}",
        ),
        column(
            "first_seen_at",
            UTC_TIMESTAMP,
            False,
            "Run time (UTC) at which the event was first published.",
        ),
        column(
            "last_seen_at",
            UTC_TIMESTAMP,
            False,
            "Run time (UTC) of the latest run that saw the event.",
        ),
        column(
            "removed_at",
            UTC_TIMESTAMP,
            True,
            "Null while some source lists the event. Otherwise the run time (UTC) at which it disappeared "
            "from every source: the row is kept, not deleted, and left out of statistics and totals.",
        ),
    ),
)

CHANGE_KINDS = ("added", "removed", "rescheduled", "retitled", "cancelled", "restored")

CHANGES = Table(
    "changes",
    "What changed in the events from one run to the next, one row per event and change, all runs kept.",
    (
        column("run_id", _S, False, "Id of the run that saw the change (as in run.json)."),
        column("run_at", UTC_TIMESTAMP, False, "When that run started (UTC)."),
        column("event_id", _S, False, "The event."),
        column(
            "change",
            _S,
            False,
            "added (new, or back after removal: restored), removed (no source lists it any more), "
            "rescheduled (start changed), retitled (title changed), cancelled (status became cancelled).",
            allowed=CHANGE_KINDS,
        ),
        column("title", _S, False, "The event's title after the change (before it, for a removal)."),
        column(
            "before", _S, True, "Previous value (ISO start for rescheduled, title for retitled, status for cancelled)."
        ),
        column("after", _S, True, "New value, in the same form."),
    ),
)

REJECTS = Table(
    "rejects",
    "Rows that could not be normalised, kept with their source and reason instead of being dropped.",
    (
        column("source_id", _S, False, "Id of the source in sources.yaml."),
        column("source_uid", _S, True, "The source's own identifier for the item, when it has one."),
        column(
            "reason",
            _S,
            False,
            "Why the row was rejected, as a sentence, e.g. 'the event has no title: the title field is empty "
            "or missing' (every reason: aggregator.reasons.TEMPLATES).",
        ),
        column("raw", _S, False, "The row's raw values as JSON, exactly as the adapter read them."),
        column("page_url", _S, True, "URL of the page or file the row was read from."),
        column("fetched_at", UTC_TIMESTAMP, False, "When the source was fetched (UTC)."),
    ),
)

MATCHES = Table(
    "matches",
    "Every accepted, refused and near-miss pair of listings, with its score components and deciding rule.",
    (
        column("left_listing_id", _S, False, "One listing of the pair."),
        column("right_listing_id", _S, False, "The other listing of the pair."),
        column("left_source_id", _S, False, "Source of the left listing."),
        column("right_source_id", _S, False, "Source of the right listing."),
        column(
            "title_score", pa.float64(), False, "Title similarity, 0-100 (rapidfuzz ratio on sorted folded tokens)."
        ),
        column("venue_score", pa.float64(), True, "Venue similarity, 0-100, when both give a venue."),
        column("organizer_score", pa.float64(), True, "Organiser similarity, 0-100, when both give one."),
        column("time_delta_min", pa.float64(), False, "Minutes between the two starts."),
        column("same_time", pa.bool_(), False, "Both timed and starting within the tolerance."),
        column("timezone_shift", pa.bool_(), False, "Starts 1 or 2 hours apart across sources: a time-zone error."),
        column("same_day", pa.bool_(), False, "Same local day."),
        column("same_postal", pa.bool_(), False, "Same postal code."),
        column("same_city", pa.bool_(), False, "Same city (folded)."),
        column("same_url", pa.bool_(), False, "Same event URL."),
        column("same_source", pa.bool_(), False, "Both listings come from one source."),
        column("score", pa.float64(), False, "Title score plus bonuses for URL, postal code, city and time."),
        column(
            "decision",
            _S,
            False,
            "accepted, refused (by the cluster guard) or rejected.",
            allowed=("accepted", "refused", "rejected"),
        ),
        column("rule", _S, False, "The rule that decided (see docs/deduplication.md)."),
    ),
)

TABLES: dict[str, Table] = {t.name: t for t in (EVENTS, LISTINGS, REJECTS, MATCHES, CHANGES, SOURCE_HEALTH)}
