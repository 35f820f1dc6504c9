"""The one definition of every published table: column names, Arrow types, nullability, meaning."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import pandas as pd
import pyarrow as pa

SCHEMA_VERSION = "1.3"

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


@dataclass(frozen=True)
class Column:
    """One column of a published table.

    Attributes:
        name: Column name, stable across releases.
        type: Arrow type written to Parquet.
        nullable: Whether missing values are allowed.
        description: Meaning of the column, copied to the Parquet field metadata and the data dictionary.
        allowed: Closed set of values, when the column is an enumeration.
        pattern: Regular expression every non-null value must match in full.
    """

    name: str
    type: pa.DataType
    nullable: bool
    description: str
    allowed: tuple[str, ...] | None = None
    pattern: str | None = None

    @property
    def pandas_dtype(self) -> str:
        """The pandas dtype this column has in memory and after ``pd.read_parquet``."""
        if pa.types.is_timestamp(self.type):
            return "datetime64[us, UTC]"
        if pa.types.is_string(self.type):
            return "str"
        if pa.types.is_boolean(self.type):
            return "bool" if not self.nullable else "boolean"
        if pa.types.is_integer(self.type):
            return "int64" if not self.nullable else "Int64"
        if pa.types.is_floating(self.type):
            return "float64"
        return "object"  # lists of strings, dates (``datetime.date``)

    @property
    def is_list(self) -> bool:
        """Whether values are lists (of strings)."""
        return bool(pa.types.is_list(self.type))


@dataclass(frozen=True)
class Table:
    """A published table: a name, a purpose and ordered columns."""

    name: str
    description: str
    columns: tuple[Column, ...] = field(default_factory=tuple)

    @property
    def names(self) -> list[str]:
        """Column names in order."""
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        """Return the column called ``name``."""
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)

    def arrow_schema(self) -> pa.Schema:
        """The Arrow schema used to write this table, with descriptions as field metadata."""
        fields = [
            pa.field(c.name, c.type, nullable=c.nullable, metadata={"description": c.description}) for c in self.columns
        ]
        return pa.schema(
            fields,
            metadata={"table": self.name, "schema_version": SCHEMA_VERSION},
        )

    def empty_frame(self) -> pd.DataFrame:
        """An empty DataFrame with this table's columns and dtypes."""
        return pd.DataFrame({c.name: pd.Series([], dtype=c.pandas_dtype) for c in self.columns})


def _c(
    name: str,
    type_: pa.DataType,
    nullable: bool,
    description: str,
    *,
    allowed: Iterable[str] | None = None,
    pattern: str | None = None,
) -> Column:
    return Column(name, type_, nullable, description, tuple(allowed) if allowed else None, pattern)


_S = pa.string()

# Fields that describe an event; shared by `listings` (as one source said it) and `events` (merged).
EVENT_FIELDS: tuple[Column, ...] = (
    _c("title", _S, False, "Title, plain text, whitespace collapsed, Unicode NFC."),
    _c("description", _S, True, "Description as plain text (HTML removed, entities decoded)."),
    _c(
        "start_at",
        UTC_TIMESTAMP,
        False,
        "Start instant in UTC. For all-day events: local midnight.",
    ),
    _c(
        "end_at",
        UTC_TIMESTAMP,
        True,
        "End instant in UTC (exclusive). For all-day events: local midnight after the last day.",
    ),
    _c("timezone", _S, False, "IANA time zone of the event's place, used to read local times."),
    _c("all_day", pa.bool_(), False, "True when the source gave dates without times."),
    _c(
        "attendance_mode",
        _S,
        False,
        "How people attend: in_person, online, hybrid or unknown.",
        allowed=ATTENDANCE_MODES,
    ),
    _c(
        "event_type",
        _S,
        False,
        "Kind of event, from the documented French taxonomy.",
        allowed=EVENT_TYPES,
    ),
    _c(
        "status",
        _S,
        False,
        "scheduled, cancelled, postponed, rescheduled or moved_online.",
        allowed=EVENT_STATUSES,
    ),
    _c("venue_name", _S, True, "Name of the place (building, room, third place)."),
    _c("street_address", _S, True, "Street address of the place."),
    _c("postal_code", _S, True, "French postal code, five digits, as a string.", pattern=r"\d{5}"),
    _c("city", _S, True, "City name as the source wrote it, cleaned."),
    _c(
        "commune_insee",
        _S,
        True,
        "INSEE code of the commune (COG), e.g. '33063', '2A004'; Paris, Lyon and Marseille as 75056, "
        "69123 and 13055 whatever the evidence (their arrondissement in arrondissement_insee).",
        pattern=r"[0-9][0-9AB][0-9]{3}",
    ),
    _c(
        "arrondissement_insee",
        _S,
        True,
        "INSEE code of the municipal arrondissement of Paris, Lyon or Marseille (75101-75120, 69381-69389, "
        "13201-13216), when the evidence tells it.",
        pattern=r"751[0-2][0-9]|6938[1-9]|132[0-1][0-9]",
    ),
    _c(
        "departement_code",
        _S,
        True,
        "INSEE code of the département: '01', '2A', '974'.",
        pattern=r"0[1-9]|1[0-9]|2[1-9AB]|[3-8][0-9]|9[0-5]|97[1-6]",
    ),
    _c("departement_name", _S, True, "Official name of the département (COG 2025)."),
    _c(
        "region_code",
        _S,
        True,
        "INSEE code of the region (COG 2025), e.g. '75'.",
        pattern=r"[0-9]{2}",
    ),
    _c(
        "region_name",
        _S,
        True,
        "Official name of the region (COG 2025), e.g. 'Nouvelle-Aquitaine'.",
    ),
    _c(
        "geo_precision",
        _S,
        False,
        "Which evidence decided the place: " + ", ".join(GEO_PRECISIONS) + ".",
        allowed=GEO_PRECISIONS,
    ),
    _c("latitude", pa.float64(), True, "Latitude in decimal degrees (WGS 84)."),
    _c("longitude", pa.float64(), True, "Longitude in decimal degrees (WGS 84)."),
    _c("organizer", _S, True, "Organising body or person."),
    _c("url", _S, True, "Absolute URL of the event's page."),
    _c("registration_url", _S, True, "Absolute URL where people register."),
    _c("online_url", _S, True, "Absolute URL to join online, when the event is online or hybrid."),
)

LISTINGS = Table(
    "listings",
    "Every normalised row as one source published it, with the event it was merged into.",
    (
        _c(
            "listing_id",
            _S,
            False,
            "Stable id of this listing: hash of source id and the source's own id.",
        ),
        _c("source_id", _S, False, "Id of the source in sources.yaml."),
        _c("source_kind", _S, False, "Kind of the source's adapter (html, ical, json, ...)."),
        _c("source_uid", _S, True, "The source's own identifier for the item, when it has one."),
        _c("event_id", _S, False, "Id of the deduplicated event this listing belongs to."),
        *EVENT_FIELDS,
        _c("page_url", _S, True, "URL of the page or file the listing was read from."),
        _c("fetched_at", UTC_TIMESTAMP, False, "When the source was fetched (UTC)."),
        _c(
            "parse_warning",
            _S,
            True,
            "Null when the source's fields were read whole. Otherwise what was not, and what was kept "
            "instead (e.g. a date whose joined times could not be read: the date alone, all day), "
            "and text fields cut to their maximum length ('title cut from 10485760 to 300 characters').",
        ),
        _c(
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
        _c("run_id", _S, False, "Id of the run (as in run.json)."),
        _c("run_at", UTC_TIMESTAMP, False, "When the run started (UTC)."),
        _c("source_id", _S, False, "Id of the source in sources.yaml."),
        _c(
            "status",
            _S,
            False,
            "ok; failed (could not be fetched or parsed); broken (fetched, but zero items, a sharp drop or "
            "records mostly rejected).",
            allowed=SOURCE_STATUSES,
        ),
        _c("items_fetched", pa.int64(), False, "Items the source gave this run (rejected ones included)."),
        _c("items_published", pa.int64(), False, "Listings of the source in this run's outputs (stale ones included)."),
        _c("rejects", pa.int64(), False, "Items of the source that could not be normalised."),
        _c("stale_listings", pa.int64(), False, "Listings published from the source's last good data."),
        _c("http_status", pa.int64(), True, "Status of the source's last HTTP response (null for local files)."),
        _c("requests", pa.int64(), False, "HTTP requests sent (robots.txt included)."),
        _c("cache_hits", pa.int64(), False, "Responses answered by the HTTP cache after a 304."),
        _c("bytes", pa.int64(), False, "Bytes of the pages read."),
        _c("duration_s", pa.float64(), False, "Time spent fetching and parsing, in seconds."),
        _c("alarm", _S, True, "Why the source looks broken (zero items, sharp drop, records mostly rejected)."),
        _c(
            "reject_mix",
            _S,
            True,
            "The source's rejects per reason, as a JSON object most frequent first, e.g. "
            '{"bad_start": 40, "no_title": 2} (keys: aggregator.reasons.TEMPLATES); null without rejects.',
        ),
        _c("error", _S, True, "Why the source failed, when it did (secrets redacted)."),
        _c("stale_since", UTC_TIMESTAMP, True, "Since when the source's published data is not fresh."),
    ),
)

EVENTS = Table(
    "events",
    "One row per real event, merged from every listing that describes it.",
    (
        _c(
            "event_id",
            _S,
            False,
            "Stable id of the event, kept across nightly runs.",
            pattern=r"ev-[0-9a-f]{16}",
        ),
        *EVENT_FIELDS,
        _c(
            "source_ids",
            STRING_LIST,
            False,
            "Ids of the sources that list this event, by priority.",
        ),
        _c(
            "source_urls",
            STRING_LIST,
            False,
            "Event URLs given by those sources (may be fewer than sources).",
        ),
        _c("n_sources", pa.int64(), False, "Number of distinct sources listing this event."),
        _c("n_listings", pa.int64(), False, "Number of listings merged into this event."),
        _c(
            "series_id",
            _S,
            False,
            "Id shared by the occurrences of one recurring event (same title and place, other dates).",
            pattern=r"se-[0-9a-f]{16}",
        ),
        _c(
            "first_seen_at",
            UTC_TIMESTAMP,
            False,
            "Run time (UTC) at which the event was first published.",
        ),
        _c(
            "last_seen_at",
            UTC_TIMESTAMP,
            False,
            "Run time (UTC) of the latest run that saw the event.",
        ),
        _c(
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
        _c("run_id", _S, False, "Id of the run that saw the change (as in run.json)."),
        _c("run_at", UTC_TIMESTAMP, False, "When that run started (UTC)."),
        _c("event_id", _S, False, "The event."),
        _c(
            "change",
            _S,
            False,
            "added (new, or back after removal: restored), removed (no source lists it any more), "
            "rescheduled (start changed), retitled (title changed), cancelled (status became cancelled).",
            allowed=CHANGE_KINDS,
        ),
        _c("title", _S, False, "The event's title after the change (before it, for a removal)."),
        _c("before", _S, True, "Previous value (ISO start for rescheduled, title for retitled, status for cancelled)."),
        _c("after", _S, True, "New value, in the same form."),
    ),
)

REJECTS = Table(
    "rejects",
    "Rows that could not be normalised, kept with their source and reason instead of being dropped.",
    (
        _c("source_id", _S, False, "Id of the source in sources.yaml."),
        _c("source_uid", _S, True, "The source's own identifier for the item, when it has one."),
        _c(
            "reason",
            _S,
            False,
            "Why the row was rejected, as a sentence, e.g. 'the event has no title: the title field is empty "
            "or missing' (every reason: aggregator.reasons.TEMPLATES).",
        ),
        _c("raw", _S, False, "The row's raw values as JSON, exactly as the adapter read them."),
        _c("page_url", _S, True, "URL of the page or file the row was read from."),
        _c("fetched_at", UTC_TIMESTAMP, False, "When the source was fetched (UTC)."),
    ),
)

MATCHES = Table(
    "matches",
    "Every accepted, refused and near-miss pair of listings, with its score components and deciding rule.",
    (
        _c("left_listing_id", _S, False, "One listing of the pair."),
        _c("right_listing_id", _S, False, "The other listing of the pair."),
        _c("left_source_id", _S, False, "Source of the left listing."),
        _c("right_source_id", _S, False, "Source of the right listing."),
        _c("title_score", pa.float64(), False, "Title similarity, 0-100 (rapidfuzz ratio on sorted folded tokens)."),
        _c("venue_score", pa.float64(), True, "Venue similarity, 0-100, when both give a venue."),
        _c("organizer_score", pa.float64(), True, "Organiser similarity, 0-100, when both give one."),
        _c("time_delta_min", pa.float64(), False, "Minutes between the two starts."),
        _c("same_time", pa.bool_(), False, "Both timed and starting within the tolerance."),
        _c("timezone_shift", pa.bool_(), False, "Starts 1 or 2 hours apart across sources: a time-zone error."),
        _c("same_day", pa.bool_(), False, "Same local day."),
        _c("same_postal", pa.bool_(), False, "Same postal code."),
        _c("same_city", pa.bool_(), False, "Same city (folded)."),
        _c("same_url", pa.bool_(), False, "Same event URL."),
        _c("same_source", pa.bool_(), False, "Both listings come from one source."),
        _c("score", pa.float64(), False, "Title score plus bonuses for URL, postal code, city and time."),
        _c(
            "decision",
            _S,
            False,
            "accepted, refused (by the cluster guard) or rejected.",
            allowed=("accepted", "refused", "rejected"),
        ),
        _c("rule", _S, False, "The rule that decided (see docs/deduplication.md)."),
    ),
)

TABLES: dict[str, Table] = {t.name: t for t in (EVENTS, LISTINGS, REJECTS, MATCHES, CHANGES, SOURCE_HEALTH)}
