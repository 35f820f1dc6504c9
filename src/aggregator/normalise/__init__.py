"""Turn raw records from every source into schema-conformant listings, plus rejects with reasons."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd

from aggregator.config import SourceConfig
from aggregator.frames import map_distinct
from aggregator.normalise import classify, geo
from aggregator.normalise.dates import DateParseError, next_day, parse_local, to_utc
from aggregator.normalise.prose import find_french, parse_french
from aggregator.normalise.text import clean_text, clean_url
from aggregator.schema import LISTINGS, REJECTS
from aggregator.sources.base import RAW_FIELDS, raw_json
from aggregator.validation import conform

TEXT_FIELDS = (
    "uid", "title", "description", "when", "venue_name", "street_address", "city", "organizer",
    "event_type", "attendance_mode", "status", "keywords", "departement", "region", "commune_insee",
)  # fmt: skip


@dataclass(frozen=True)
class Normalised:
    """Output of normalisation: conformant listings (without ``event_id`` yet) and rejects."""

    listings: pd.DataFrame
    rejects: pd.DataFrame
    warnings: list[str] = field(default_factory=list)


def _postal(value: object) -> str | None:
    text = clean_text(value)
    if not text:
        return None
    digits = "".join(ch for ch in text if ch.isdigit())
    if len(digits) == 4 and text.strip().isdigit():
        digits = "0" + digits  # spreadsheets drop the leading zero of 01xxx-09xxx
    return digits if len(digits) == 5 else None


def _coordinate(value: object, limit: float) -> float | None:
    try:
        number = float(str(value).replace(",", "."))
    except (TypeError, ValueError):
        return None
    return number if -limit <= number <= limit and number == number else None


def _valid_zone(value: str) -> str | None:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return value


def _listing_ids(frame: pd.DataFrame) -> pd.Series:
    # A listing with the source's own uid keeps its id when its title or date changes, so that
    # history can see an event retitled or rescheduled; without a uid, title and start identify it.
    fallback = frame["title"].astype(str) + "|" + frame["start_at"].map(lambda ts: ts.isoformat())
    keys = frame["source_id"] + "|" + frame["source_uid"].astype("object").where(frame["source_uid"].notna(), fallback)
    ids = keys.map(lambda key: "li-" + hashlib.sha1(key.encode()).hexdigest()[:16])
    # The same item twice in one source (two pages, repeated uid) keeps distinct listing ids.
    rank = ids.groupby(ids).cumcount()
    return ids.where(rank == 0, ids + "-" + (rank + 1).astype(str))


def _reject_frame(rows: pd.DataFrame, reasons: pd.Series) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "source_id": rows["source_id"],
            "source_uid": rows["uid"],
            "reason": reasons,
            "raw": rows["raw"].where(
                rows["raw"].notna(),
                rows[list(RAW_FIELDS)].apply(lambda r: raw_json(r.dropna().to_dict()), axis=1) if len(rows) else None,
            ),
            "page_url": rows["page_url"],
            "fetched_at": rows["fetched_at"],
        }
    )


Read = tuple[datetime | None, datetime | None, bool, str | None]


def _read_span(text: str, tz: str, reference: date, search: bool = False) -> Read:
    """(start UTC, end UTC, all_day, error) from ISO/numeric dates, else French prose.

    With ``search``, the date is looked for inside free text (``when``) instead.
    """
    try:
        try:
            local = parse_local(text)
            start, end, all_day = local.value, None, local.all_day
        except DateParseError:
            span = find_french(text, reference) if search else parse_french(text, reference)
            start, end, all_day = span.start, span.end, span.all_day
        if all_day:
            return to_utc(start, tz), to_utc(next_day(end or start), tz), True, None
        return to_utc(start, tz), to_utc(end, tz) if end is not None else None, False, None
    except DateParseError as exc:
        return None, None, False, str(exc)
    except (OverflowError, ValueError) as exc:
        return None, None, False, f"date out of range {text!r}: {exc}"


def _dates(frame: pd.DataFrame, references: pd.Series) -> pd.DataFrame:
    """Parse start and end in each row's zone; returns start_at, end_at, all_day, error."""
    cache: dict[tuple[str, str, date, bool], Read] = {}

    def read(text: object, tz: str, reference: date, search: bool = False) -> Read:
        if not isinstance(text, str) or not text.strip():
            return None, None, False, None
        key = (text, tz, reference, search)
        if key not in cache:
            cache[key] = _read_span(text, tz, reference, search)
        return cache[key]

    starts, ends, all_day, errors = [], [], [], []
    rows = zip(frame["start"], frame["when"], frame["end"], frame["timezone"], references, strict=True)
    for start_text, when_text, end_text, tz, reference in rows:
        has_start = isinstance(start_text, str) and bool(start_text.strip())
        start, end, is_all_day, error = read(start_text if has_start else when_text, tz, reference, not has_start)
        if start is None and error is None:
            error = "missing start"
        elif error is not None:
            error = f"unparsable start: {error}"
        explicit_end = read(end_text, tz, reference)
        if explicit_end[0] is not None:
            # An all-day end names its last day: the event runs until the midnight after it.
            end = explicit_end[1] if explicit_end[2] else explicit_end[0]
        if start is not None and end is not None and end < start:
            end = None  # an end before the start is a typo; the start is the reliable part
        starts.append(start)
        ends.append(end)
        all_day.append(is_all_day)
        errors.append(error)
    return pd.DataFrame(
        {
            "start_at": pd.to_datetime(pd.Series(starts, index=frame.index, dtype="object"), utc=True),
            "end_at": pd.to_datetime(pd.Series(ends, index=frame.index, dtype="object"), utc=True),
            "all_day": pd.Series(all_day, index=frame.index, dtype=bool),
            "error": pd.Series(errors, index=frame.index, dtype="object"),
        }
    )


def normalise(raw: pd.DataFrame, sources: Mapping[str, SourceConfig], reference: date | None = None) -> Normalised:
    """Normalise raw records from every source.

    Args:
        raw: One row per record, with ``source_id``, ``source_kind``, ``fetched_at``, ``raw`` and
            any of ``RAW_FIELDS`` (strings); ``reject_reason`` marks records the adapter could not read.
        sources: Source settings by id (time zone and territory defaults).
        reference: Date used to infer missing years in French prose dates, unless a source sets
            ``reference_date`` (default: today).

    Returns:
        Listings conforming to the ``listings`` table (``event_id`` still empty) and rejects.
    """
    frame = raw.copy()
    for name in ("source_id", "source_kind", "fetched_at", *RAW_FIELDS, "raw", "reject_reason"):
        if name not in frame:
            frame[name] = None
        frame[name] = frame[name].astype("object").where(frame[name].notna(), None)
    rejects: list[pd.DataFrame] = []

    bad = frame["reject_reason"].notna()
    rejects.append(_reject_frame(frame[bad], frame.loc[bad, "reject_reason"]))
    frame = frame[~bad]

    for name in TEXT_FIELDS:
        frame[name] = map_distinct(frame[name], clean_text)
    for name in ("url", "registration_url", "online_url"):
        frame[name] = map_distinct(frame[name], clean_url)
    frame["postal_code"] = map_distinct(frame["postal_code"], _postal)

    missing = frame["title"].isna()
    rejects.append(_reject_frame(frame[missing], pd.Series("missing title", index=frame.index[missing])))
    frame = frame[~missing]

    source_of = frame["source_id"]
    frame["default_departement"] = source_of.map({k: s.departement for k, s in sources.items()})
    frame["default_region"] = source_of.map({k: s.region for k, s in sources.items()})
    place, geo_warnings = geo.resolve(frame)
    # Time zone: the département's (overseas), else what the source said, else the source's setting.
    source_tz = source_of.map({k: s.timezone for k, s in sources.items()})
    frame["timezone"] = place["timezone_geo"].where(
        place["timezone_geo"].notna() & (place["timezone_geo"] != "Europe/Paris"),
        frame["timezone"].fillna(source_tz),
    )
    frame["timezone"] = map_distinct(frame["timezone"].fillna("Europe/Paris"), _valid_zone).fillna(source_tz)

    run_day = reference or date.today()
    references = source_of.map({k: s.reference_date or run_day for k, s in sources.items()}).fillna(run_day)
    dates = _dates(frame, references)
    failed = dates["error"].notna()
    rejects.append(_reject_frame(frame[failed], dates.loc[failed, "error"]))
    frame, dates, place = frame[~failed], dates[~failed], place[~failed]

    text = (
        frame["title"].fillna("")
        + " "
        + frame["keywords"].fillna("")
        + " "
        + frame["description"].fillna("").str.slice(0, 500)
    )
    listings = pd.DataFrame(
        {
            "source_id": frame["source_id"],
            "source_kind": frame["source_kind"],
            "source_uid": frame["uid"],
            "title": frame["title"],
            "description": frame["description"],
            "start_at": dates["start_at"],
            "end_at": dates["end_at"],
            "timezone": frame["timezone"],
            "all_day": dates["all_day"],
            "attendance_mode": [
                classify.attendance_mode(s, t)
                for s, t in zip(
                    frame["attendance_mode"],
                    text + " " + frame["venue_name"].fillna(""),
                    strict=True,
                )
            ],
            "event_type": [
                classify.event_type(s, t)
                for s, t in zip(
                    frame["event_type"],
                    frame["title"] + " " + frame["keywords"].fillna(""),
                    strict=True,
                )
            ],
            "status": [classify.status(s, t) for s, t in zip(frame["status"], frame["title"], strict=True)],
            "venue_name": frame["venue_name"],
            "street_address": frame["street_address"],
            "postal_code": frame["postal_code"],
            "city": frame["city"],
            "commune_insee": place["commune_insee"],
            **{
                name: place[name]
                for name in (
                    "departement_code",
                    "departement_name",
                    "region_code",
                    "region_name",
                    "geo_precision",
                )
            },
            "latitude": frame["latitude"].map(lambda v: _coordinate(v, 90.0)).astype("float64"),
            "longitude": frame["longitude"].map(lambda v: _coordinate(v, 180.0)).astype("float64"),
            "organizer": frame["organizer"],
            "url": frame["url"],
            "registration_url": frame["registration_url"],
            "online_url": frame["online_url"],
            "page_url": frame["page_url"],
            "fetched_at": frame["fetched_at"],
        },
        index=frame.index,
    )
    listings["listing_id"] = _listing_ids(listings) if len(listings) else pd.Series(dtype="object")
    listings["event_id"] = ""
    reject_frame = (
        pd.concat([r for r in rejects if len(r)], ignore_index=True)
        if any(len(r) for r in rejects)
        else REJECTS.empty_frame()
    )
    return Normalised(conform(listings, LISTINGS), conform(reject_frame, REJECTS), geo_warnings)
