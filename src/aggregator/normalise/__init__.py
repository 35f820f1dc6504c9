"""Turn raw records from every source into schema-conformant listings, plus rejects with reasons."""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import partial
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd

from aggregator.frames import map_distinct, take_columns
from aggregator.normalise import classify, communes, geo, majorities, places
from aggregator.normalise.datecols import read_dates
from aggregator.normalise.datelists import explode_lists
from aggregator.normalise.given import values_as_text
from aggregator.normalise.lengths import cap_lengths, cut_warnings, join_notes
from aggregator.normalise.text import MAX_LENGTHS, clean_column, clean_text, clean_url, fold_column, join_words
from aggregator.reasons import reason
from aggregator.records import RAW_FIELDS, raw_json
from aggregator.schema import LISTINGS, REJECTS
from aggregator.settings import SourceConfig
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


@dataclass(frozen=True)
class Part:
    """One partition normalised (``normalise_chunk``), with what ``normalise`` needs to put partitions together.

    ``listing_rows`` and ``reject_rows`` give the raw row (its index label) each listing and reject
    came from; ``votes`` the partition's votes for the source majorities (``majorities.count_votes``);
    ``pending`` the raw rows (``raw_row``, ``source_id``) step 6b settled with those majorities;
    ``cuts`` the values cut to their maximum length (``lengths.cap_lengths``).
    """

    listings: pd.DataFrame
    rejects: pd.DataFrame
    warnings: list[str]
    votes: pd.DataFrame
    pending: pd.DataFrame
    cuts: pd.DataFrame
    listing_rows: np.ndarray
    reject_rows: np.ndarray


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
    # Row by row: each partition hashes its own rows, in its worker (``_distinct_ids`` then runs over all).
    keys = frame["source_uid"].astype("object")
    no_uid = keys.isna()
    if no_uid.any():
        without = frame[no_uid]
        keys = keys.where(~no_uid, without["title"].astype(str) + "|" + without["start_at"].map(pd.Timestamp.isoformat))
    keys = frame["source_id"] + "|" + keys
    return pd.Series(
        ["li-" + hashlib.sha1(key.encode()).hexdigest()[:16] for key in keys.tolist()], index=frame.index, dtype=object
    )


def _distinct_ids(ids: pd.Series) -> pd.Series:
    """The same item twice in one source (two pages, repeated uid) keeps distinct listing ids."""
    repeated = ids.duplicated(keep=False)
    if repeated.any():
        ids = ids.copy()
        rank = ids[repeated].groupby(ids[repeated]).cumcount()
        ids[rank.index] = ids[rank.index].where(rank == 0, ids[rank.index] + "-" + (rank + 1).astype(str))
    return ids


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


MapChunks = Callable[[Callable[[pd.DataFrame], Part], list[pd.DataFrame]], Iterable[Part]]


def normalise(
    raw: pd.DataFrame,
    sources: Mapping[str, SourceConfig],
    reference: date | None = None,
    chunks: int = 1,
    map_chunks: MapChunks | None = None,
) -> Normalised:
    """Normalise raw records from every source.

    Args:
        raw: One row per record, with ``source_id``, ``source_kind``, ``fetched_at``, ``raw`` and
            any of ``RAW_FIELDS`` (strings); ``reject_reason`` marks records the adapter could not read.
        sources: Source settings by id (time zone and territory defaults).
        reference: Date used to infer missing years in French prose dates, unless a source sets
            ``reference_date`` (default: today).
        chunks: Partitions of the rows, normalised independently (``normalise_chunk``).
        map_chunks: ``map``-like function that runs them, e.g. a process pool's ``map``
            (default: the builtin, in this process).

    Returns:
        Listings conforming to the ``listings`` table (``event_id`` still empty) and rejects, the
        same whatever ``chunks``: the rows a partition settled by its own source majorities (step 6b
        of geography) are normalised again, here, with the majorities of all the rows, where the two differ.
    """
    if not isinstance(raw.index, pd.RangeIndex) or raw.index.start != 0 or raw.index.step != 1:
        raw = raw.reset_index(drop=True)  # each row's label is its position: the order partitions restore
    work = partial(normalise_chunk, sources=dict(sources), reference=reference or date.today())
    parts = list((map_chunks or map)(work, split_rows(raw, chunks)))
    again, votes = majorities.rows_to_settle_again([p.votes for p in parts], [p.pending for p in parts])
    return combine(parts, work(raw.iloc[again], votes=votes) if len(again) else None, again)


def split_rows(raw: pd.DataFrame, chunks: int) -> list[pd.DataFrame]:
    """``raw`` cut into ``chunks`` consecutive partitions of (nearly) equal size, none empty."""
    n = max(1, min(chunks, len(raw)))
    bounds = np.linspace(0, len(raw), n + 1).astype(int)
    return [raw.iloc[a:b] for a, b in itertools.pairwise(bounds)]


def combine(parts: list[Part], redone: Part | None = None, again: np.ndarray | None = None) -> Normalised:
    """Partitions normalised separately, as one: repeated listing ids are told apart here, over all the rows.

    Args:
        parts: ``normalise_chunk`` results, in the order of the rows.
        redone: The raw rows ``again`` normalised once more (with the majorities of all the rows):
            what it made of them replaces what the partitions did, in the order of the raw rows.
        again: The raw rows (index labels) ``redone`` holds.

    Returns:
        The listings and rejects of every partition, and their distinct warnings.
    """
    if not parts:
        return Normalised(conform(LISTINGS.empty_frame(), LISTINGS), conform(REJECTS.empty_frame(), REJECTS), [])
    listings = pd.concat(
        [p.listings for p in parts] + ([redone.listings] if redone is not None else []), ignore_index=True
    )
    rejects = pd.concat(
        [p.rejects for p in parts] + ([redone.rejects] if redone is not None else []), ignore_index=True
    )
    cuts = [p.cuts for p in parts]
    if redone is not None and again is not None:
        listings = _replaced(listings, [p.listing_rows for p in parts], redone.listing_rows, again)
        rejects = _replaced(rejects, [p.reject_rows for p in parts], redone.reject_rows, again)
        cuts = [c[~c["raw_row"].isin(again)] for c in cuts] + [redone.cuts]
    listings["listing_id"] = _distinct_ids(listings["listing_id"]) if len(listings) else pd.Series(dtype="object")
    cuts = [c for c in cuts if len(c)]
    warnings = {w for p in parts for w in p.warnings} | set(redone.warnings if redone is not None else [])
    warnings |= set(cut_warnings(pd.concat(cuts)) if cuts else [])
    return Normalised(conform(listings, LISTINGS), conform(rejects, REJECTS), sorted(warnings))


def _replaced(frame: pd.DataFrame, rows: list[np.ndarray], redone_rows: np.ndarray, again: np.ndarray) -> pd.DataFrame:
    """``frame`` (the partitions' rows, then the redone ones) without the partitions' rows of ``again``, in raw order.

    One take of the rows kept, in the stable order of the raw rows they came from, on two threads
    (``take_columns``): a million listings are copied once, not once per partition and again to sort.
    """
    first = np.concatenate(rows)
    kept = np.flatnonzero(~np.isin(first, again))
    origin = np.concatenate([first[kept], redone_rows])
    order = np.concatenate([kept, len(first) + np.arange(len(redone_rows))])[np.argsort(origin, kind="stable")]
    columns = {name: frame[name] for name in frame.columns}
    return pd.DataFrame(take_columns(columns, dict.fromkeys(columns, order)))


def normalise_chunk(
    raw: pd.DataFrame, sources: Mapping[str, SourceConfig], reference: date, votes: pd.DataFrame | None = None
) -> Part:
    """Normalise one partition of the raw records; ``combine`` tells repeated ``listing_id`` apart.

    Every step is row by row (with per-distinct-value caches), so partitions can be normalised
    in separate processes or on separate machines, but one: the source majorities of geography
    (step 6b), counted over the partition unless ``votes`` gives them.

    Args:
        raw: Some rows of ``normalise``'s ``raw``.
        sources: Source settings by id.
        reference: Date used to infer missing years in French prose dates.
        votes: The source majorities counted over all the rows (``geo.resolve``'s ``votes``).

    Returns:
        Listings (``event_id`` not set) and rejects, with the raw rows they came from.
    """
    frame = raw.copy()
    for name in ("source_id", "source_kind", "fetched_at", *RAW_FIELDS, "raw", "reject_reason"):
        if name not in frame:
            frame[name] = None
        if name == "fetched_at" and frame[name].dtype.kind == "M":
            continue  # a time column stays one: as Timestamp objects, 1.4 s a million rows, and back
        frame[name] = frame[name].astype("object").where(frame[name].notna(), None)
    frame = values_as_text(frame)
    frame["raw_row"] = raw.index.to_numpy()
    # A start that lists several dates ("14, 15 et 21 mai à 20h30") becomes one row per date.
    frame = explode_lists(frame, {k: s.reference_date or reference for k, s in sources.items()}, reference)
    origin = frame["raw_row"]
    rejects: list[pd.DataFrame] = []

    bad = frame["reject_reason"].notna()
    rejects.append(_reject_frame(frame[bad], frame.loc[bad, "reject_reason"]))
    frame = frame[~bad]

    given = {name: frame[name] for name in MAX_LENGTHS}  # as sent: a value cut says how long it was
    for name in TEXT_FIELDS:
        frame[name] = clean_column(frame[name], MAX_RAW_LENGTH)
    frame, cut_notes, cuts = cap_lengths(frame, given)
    for name in ("url", "registration_url", "online_url"):
        frame[name] = map_distinct(frame[name], clean_url)
    frame["postal_code"] = map_distinct(frame["postal_code"], _postal)

    missing = frame["title"].isna()
    rejects.append(_reject_frame(frame[missing], pd.Series(reason("no_title"), index=frame.index[missing])))
    frame = frame[~missing]

    # Places written as one text ("Salle Cap Caval - Penmarch"): venue, street, postal code and city.
    frame = places.fill_from_text(frame, communes.is_city_name)
    source_codes, source_ids = pd.factorize(frame["source_id"], use_na_sentinel=True)

    def by_source(setting: Callable[[SourceConfig], object]) -> pd.Series:
        # A setting of each row's source (None: a source without settings), read once per source.
        values = [setting(sources[k]) if k in sources else None for k in source_ids.tolist()]
        return pd.Series(np.array([*values, None], dtype=object)[source_codes], index=frame.index, dtype=object)

    frame["default_departement"] = by_source(lambda s: s.departement)
    frame["default_region"] = by_source(lambda s: s.region)
    place, geo_warnings, counted = geo.resolve(frame, votes)
    pending = frame.loc[place["by_majority"].to_numpy(), ["raw_row", "source_id"]].reset_index(drop=True)
    # Time zone: the département's (overseas), else what the source said, else the source's setting.
    source_tz = by_source(lambda s: s.timezone)
    frame["timezone"] = place["timezone_geo"].where(
        place["timezone_geo"].notna() & (place["timezone_geo"] != "Europe/Paris"),
        frame["timezone"].fillna(source_tz),
    )
    frame["timezone"] = map_distinct(frame["timezone"].fillna("Europe/Paris"), _valid_zone).fillna(source_tz)

    references = by_source(lambda s: s.reference_date).fillna(reference)
    dates = read_dates(frame, references)
    failed = dates["error"].notna()
    rejects.append(_reject_frame(frame[failed], dates.loc[failed, "error"]))
    frame, dates, place = frame[~failed], dates[~failed], place[~failed]

    # Each text column folded once (per distinct value), then shared by the classifiers.
    title, keywords = fold_column(frame["title"]), fold_column(frame["keywords"])
    about = join_words(title, keywords)
    description = fold_column(frame["description"].str.slice(0, 500))
    venue = fold_column(frame["venue_name"])
    text = join_words(title, keywords, description, venue)
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
            "attendance_mode": classify.attendance_modes(frame["attendance_mode"], text, venue),
            "event_type": classify.event_types(frame["event_type"], about),
            "status": classify.statuses(frame["status"], title),
            "venue_name": frame["venue_name"],
            "street_address": frame["street_address"],
            "postal_code": frame["postal_code"],
            "city": frame["city"],
            "commune_insee": place["commune_insee"],
            "arrondissement_insee": place["arrondissement_insee"],
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
            "latitude": map_distinct(frame["latitude"], lambda v: _coordinate(v, 90.0)).astype("float64"),
            "longitude": map_distinct(frame["longitude"], lambda v: _coordinate(v, 180.0)).astype("float64"),
            "organizer": frame["organizer"],
            "url": frame["url"],
            "registration_url": frame["registration_url"],
            "online_url": frame["online_url"],
            "page_url": frame["page_url"],
            "fetched_at": frame["fetched_at"],
            "parse_warning": join_notes(dates["warning"], cut_notes.reindex(frame.index)),
        },
        index=frame.index,
    )
    listings["event_id"] = ""
    listing_rows = frame["raw_row"].to_numpy()
    listings = conform(listings, LISTINGS)
    listings["listing_id"] = _listing_ids(listings) if len(listings) else pd.Series(dtype="object")
    # In the order of the raw rows, whichever stage rejected them: partitions then concatenate alike.
    reject_frame = (
        pd.concat([r for r in rejects if len(r)]).sort_index(kind="stable")
        if any(len(r) for r in rejects)
        else REJECTS.empty_frame()
    )
    reject_rows = origin.loc[reject_frame.index].to_numpy()
    return Part(
        listings, conform(reject_frame, REJECTS), geo_warnings, counted, pending, cuts, listing_rows, reject_rows
    )


def warm_up() -> None:
    """Load what normalisation reads lazily (reference tables, patterns) by normalising one record.

    A worker process runs it as it starts, while the run is still reading its sources.
    """
    place = "Salle 1, 2 rue de Rivoli, 75001 Paris"  # a free-text place: split, then every geography join
    records = [
        {"source_id": "warm-up", "source_kind": "ical", "title": "Atelier", "start": "2026-11-26T10:00",
         "venue_name": place, "street_address": place, "description": "Le 26 novembre à 10h"},
        {"source_id": "warm-up", "source_kind": "csv", "title": "Visite", "start": "2026-11-26", "city": "Lyon",
         "departement": "Rhône", "latitude": "45.76", "longitude": "4.83"},
    ]  # fmt: skip
    normalise_chunk(pd.DataFrame(records), {}, date(2026, 11, 26))


# Raw text beyond this is cut before cleaning: cleaning costs time in the length of the text.
MAX_RAW_LENGTH = 200_000
