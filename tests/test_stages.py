"""Normalise, dedupe, stats and totals as pure functions on small DataFrames."""

import json
from datetime import date

import pandas as pd
import pytest
from conftest import raw_frame
from hypothesis import given, settings
from hypothesis import strategies as st

from aggregator.config import parse_config
from aggregator.dedupe import dedupe
from aggregator.normalise import normalise
from aggregator.schema import EVENTS, LISTINGS, REJECTS
from aggregator.stats import all_tables, by_day
from aggregator.totals import build_totals, number, percent, render_markdown, rounded_total
from aggregator.validation import validate

FETCHED = pd.Timestamp("2026-11-25T02:00:00Z")
RUN_AT = pd.Timestamp("2026-11-25T02:05:00Z")


def _sources(**extra):
    data = {"sources": [
        {"id": "nat", "kind": "ical", "url": "a", "priority": 80},
        {"id": "reg", "kind": "ical", "url": "b", "priority": 40, "region": "Nouvelle-Aquitaine"},
        {"id": "dom", "kind": "ical", "url": "c", "departement": "974"},
    ]}  # fmt: skip
    config = parse_config(data, __import__("pathlib").Path("sources.yaml"), {})
    return {s.id: s for s in config.sources}


def _raw(rows):
    return raw_frame(rows, fetched_at=FETCHED.isoformat())


def test_normalise_types_places_and_rejects():
    raw = _raw([
        {"source_id": "nat", "uid": "1", "title": " <b>Atelier</b>&nbsp;: design ", "start": "2026-11-03T14:00",
         "postal_code": "33000", "city": "Bordeaux", "url": "https://x.fr/e?utm_source=a"},
        {"source_id": "nat", "uid": "2", "title": "Sans date", "start": None},
        {"source_id": "nat", "uid": "3", "title": "Date illisible", "start": "bientôt"},
        {"source_id": "nat", "uid": "4", "title": None, "start": "2026-11-03"},
        {"source_id": "reg", "uid": "5", "title": "Webinaire régional", "start": "2026-11-04T10:00"},
        {"source_id": "dom", "uid": "6", "title": "Conférence à Saint-Denis", "start": "2026-11-05T14:00",
         "postal_code": "97400"},
        {"source_id": "nat", "uid": "7", "title": "Exposition", "start": "2026-11-16", "end": "2026-11-18",
         "postal_code": "2000"},
        {"source_id": "nat", "uid": "8", "title": "Broken", "reject_reason": "the VEVENT could not be read: one of its properties is malformed (ValueError)"},
    ])  # fmt: skip
    result = normalise(raw, _sources())
    validate(result.listings, LISTINGS)
    validate(result.rejects, REJECTS)
    reasons = dict(zip(result.rejects["source_uid"], result.rejects["reason"], strict=True))
    assert reasons["2"] == "the event has no start date: the start field is empty or missing"
    assert reasons["3"] == "the start date cannot be read: no date in 'bientôt'"
    assert reasons["4"] == "the event has no title: the title field is empty or missing"
    assert reasons["8"] == "the VEVENT could not be read: one of its properties is malformed (ValueError)"
    assert json.loads(result.rejects.set_index("source_uid").loc["3", "raw"])["start"] == "bientôt"
    rows = result.listings.set_index("source_uid")
    assert len(rows) + len(result.rejects) == len(raw)  # nothing lost
    first = rows.loc["1"]
    assert first["title"] == "Atelier : design"
    assert first["start_at"] == pd.Timestamp("2026-11-03T13:00Z")
    assert (first["departement_code"], first["region_name"], first["geo_precision"]) == (
        "33",
        "Nouvelle-Aquitaine",
        "postal_code",
    )
    assert first["url"] == "https://x.fr/e"
    assert first["event_type"] == "atelier"
    online = rows.loc["5"]
    assert (online["attendance_mode"], online["region_code"], online["geo_precision"]) == (
        "online",
        "75",
        "source_default",
    )
    reunion = rows.loc["6"]
    assert (reunion["timezone"], reunion["start_at"]) == (
        "Indian/Reunion",
        pd.Timestamp("2026-11-05T10:00Z"),
    )
    expo = rows.loc["7"]
    assert expo["all_day"]
    assert expo["start_at"] == pd.Timestamp("2026-11-15T23:00Z")
    assert expo["end_at"] == pd.Timestamp("2026-11-18T23:00Z")  # exclusive end after the last day
    assert expo["postal_code"] == "02000"  # leading zero restored
    assert str(result.listings["start_at"].dtype) == "datetime64[us, UTC]"


@pytest.mark.slow
@settings(max_examples=30, deadline=None)
@given(st.lists(st.fixed_dictionaries({
    "title": st.one_of(st.none(), st.text(max_size=30)),
    "start": st.one_of(st.none(), st.text(max_size=25), st.sampled_from(["2026-11-03", "2026-11-03T10:00"])),
    "postal_code": st.one_of(st.none(), st.text(max_size=6), st.sampled_from(["33000", "20200", "97400"])),
    "departement": st.one_of(st.none(), st.text(max_size=20)),
    "latitude": st.one_of(st.none(), st.text(max_size=8)),
}), max_size=8))  # fmt: skip
def test_normalise_never_loses_or_crashes_on_arbitrary_rows(rows):
    raw = _raw([{"source_id": "nat", "uid": str(i), **r} for i, r in enumerate(rows)])
    result = normalise(raw, _sources())
    assert len(result.listings) + len(result.rejects) == len(rows)
    validate(result.listings, LISTINGS)
    validate(result.rejects, REJECTS)
    # Cut into partitions normalised separately (as on Dask workers), the rows give the same tables.
    parts = normalise(raw, _sources(), chunks=3)
    pd.testing.assert_frame_equal(parts.listings, result.listings)
    pd.testing.assert_frame_equal(parts.rejects, result.rejects)


def test_an_item_repeated_across_partitions_keeps_distinct_listing_ids():
    # Hashed in each partition's worker, told apart over all the rows: as when normalised whole.
    rows = [{"source_id": "nat", "uid": uid, "title": "Atelier", "start": "2026-11-03T10:00"} for uid in "aabaa"]
    raw = _raw(rows)
    whole = normalise(raw, _sources()).listings["listing_id"].tolist()
    assert normalise(raw, _sources(), chunks=5).listings["listing_id"].tolist() == whole
    assert len(set(whole)) == 5 and whole[1] == whole[0] + "-2" and whole[4] == whole[0] + "-4"


def _listings(rows):
    return normalise(_raw(rows), _sources()).listings


def test_dedupe_merges_spellings_keeps_occurrences_and_prefers_priority():
    listings = _listings([
        {"source_id": "reg", "uid": "r1", "title": "ATELIER – design des services", "start": "2026-11-03T14:00",
         "city": "Bordeaux", "postal_code": "33000", "description": "Version régionale"},
        {"source_id": "nat", "uid": "n1", "title": "Atelier : Design des services", "start": "2026-11-03T14:00",
         "city": "Bordeaux", "url": "https://nat.fr/1"},
        {"source_id": "nat", "uid": "n2", "title": "Atelier : Design des services", "start": "2026-11-17T14:00",
         "city": "Bordeaux"},
        {"source_id": "nat", "uid": "n3", "title": "Atelier : Design des services", "start": "2026-11-03T14:00",
         "city": "Pau"},
    ])  # fmt: skip
    result = dedupe(listings, {"nat": 80, "reg": 40}, RUN_AT)
    out_listings, events = result.listings, result.events
    validate(events, EVENTS)
    assert len(events) == 3
    merged = events[events["n_sources"] == 2].iloc[0]
    assert merged["title"] == "Atelier : Design des services"  # priority 80 wins
    assert merged["description"] == "Version régionale"  # gap filled from the other source
    assert (merged["postal_code"], merged["region_code"]) == (
        "33000",
        "75",
    )  # the placed listing's place
    assert list(merged["source_ids"]) == ["nat", "reg"]
    assert list(merged["source_urls"]) == ["https://nat.fr/1"]
    ids = out_listings.set_index("source_uid")["event_id"]
    assert ids["r1"] == ids["n1"] != ids["n2"] != ids["n3"]
    # Stable ids: the same input gives the same ids, and first_seen_at survives from the previous run.
    later = RUN_AT + pd.Timedelta(days=1)
    again = dedupe(
        listings, {"nat": 80, "reg": 40}, later, previous_events=events, previous_listings=out_listings
    ).events
    assert sorted(again["event_id"]) == sorted(events["event_id"])
    assert (again["first_seen_at"] == RUN_AT).all()
    assert (again["last_seen_at"] == later).all()


def test_place_fields_come_together_from_one_listing():
    listings = _listings([
        {"source_id": "nat", "uid": "n", "title": "Webinaire", "start": "2026-11-04T10:00"},
        {"source_id": "reg", "uid": "r", "title": "webinaire", "start": "2026-11-04T10:00"},
    ])  # fmt: skip
    events = dedupe(listings, {"nat": 80, "reg": 40}, RUN_AT).events
    (event,) = events.itertuples()
    assert (event.region_code, event.geo_precision) == ("75", "source_default")


def test_stats_cover_every_region_and_value_and_totals_read_in_french():
    listings = _listings([
        {"source_id": "nat", "uid": "1", "title": "Atelier A", "start": "2026-11-03T23:30", "postal_code": "33000"},
        {"source_id": "nat", "uid": "2", "title": "Webinaire B", "start": "2026-11-04T10:00"},
        {"source_id": "dom", "uid": "3", "title": "Conférence C", "start": "2026-11-04T23:30", "postal_code": "97400"},
    ])  # fmt: skip
    merged = dedupe(listings, {}, RUN_AT)
    listings, events = merged.listings, merged.events
    rejects = REJECTS.empty_frame()
    sources = pd.DataFrame({"source_id": ["nat", "dom"], "kind": ["ical", "ical"], "status": ["ok", "ok"]})
    tables = all_tables(listings, events, rejects, sources)
    region = tables["by_region"].set_index("region_code")
    assert len(region) == 18
    assert region.loc["75", "events"] == 1 and region.loc["04", "events"] == 1 and region.loc["11", "events"] == 0
    assert len(tables["by_departement"]) == 101
    assert tables["by_event_type"]["events"].sum() == 3
    assert set(tables["by_attendance_mode"]["attendance_mode"]) == {
        "in_person",
        "online",
        "hybrid",
        "unknown",
    }
    # Local days: 23:30 in Paris is still the 3rd; 23:30 in Réunion is the 4th.
    assert by_day(events).set_index("date")["events"].to_dict() == {
        date(2026, 11, 3): 1,
        date(2026, 11, 4): 2,
    }
    assert tables["by_source"].set_index("source_id").loc["nat", "listings"] == 2
    totals = build_totals(events, listings, rejects, tables["by_region"], tables["by_departement"], RUN_AT)
    assert totals["events"] == 3 and totals["attendance"]["online"] == 1
    assert totals["data_as_of_fr"] == "25 novembre 2026 à 3\u00a0h\u00a005"
    text = render_markdown(totals)
    assert "1 événement en Nouvelle-Aquitaine." in text
    assert "1 événement à La Réunion." in text
    assert "Aucun événement en Guyane." in text and "0 événement" not in text
    assert "Données au 25 novembre 2026 à 3\u00a0h\u00a005" in text


@pytest.mark.parametrize(("value", "text"), [(12345, "12\u202f345"), (2.5, "2,5"), (7, "7")])
def test_french_numbers(value, text):
    assert number(value) == text


def test_french_percent_and_rounded_totals():
    assert percent(0.125) == "12,5\u202f%"
    assert rounded_total(362) == "Plus de 350 événements"
    assert rounded_total(400) == "400 événements"
    assert rounded_total(1) == "1 événement"
    assert rounded_total(1234) == "Plus de 1\u202f200 événements"


def test_geo_quality_reports_share_resolved_per_source_and_overall():
    listings = _listings([
        {"source_id": "nat", "uid": "1", "title": "A", "start": "2026-11-03T10:00", "postal_code": "33000"},
        {"source_id": "nat", "uid": "2", "title": "B", "start": "2026-11-03T10:00"},
        {"source_id": "reg", "uid": "3", "title": "C", "start": "2026-11-03T10:00"},
    ])  # fmt: skip
    merged = dedupe(listings, {}, RUN_AT)
    listings, events = merged.listings, merged.events
    quality = all_tables(
        listings, events, REJECTS.empty_frame(), pd.DataFrame(columns=["source_id", "kind", "status"])
    )["geo_quality"].set_index("scope")
    assert quality.loc["nat", "share_resolved"] == 0.5
    assert (quality.loc["nat", "postal_code"], quality.loc["nat", "none"]) == (1, 1)
    assert quality.loc["reg", "source_default"] == 1
    assert quality.loc["all_listings", "resolved_region"] == 2
    assert quality.loc["all_events", "rows"] == 3


def test_former_region_names_are_reported_as_warnings():
    result = normalise(
        _raw([{"source_id": "nat", "uid": "1", "title": "A", "start": "2026-11-03T10:00", "region": "Limousin"}]),
        _sources(),
    )
    assert result.listings.loc[0, "region_code"] == "75"
    assert result.warnings == ["former region name 'Limousin' read as Nouvelle-Aquitaine (regions merged in 2016)"]


def _as_raw(listings: pd.DataFrame) -> pd.DataFrame:
    """Normalised listings written back as a source would give them (the round trip of idempotency)."""
    rows = []
    for row in listings.itertuples(index=False):
        local_start = row.start_at.tz_convert(row.timezone)
        if row.all_day:
            start = local_start.date().isoformat()
            end = (row.end_at.tz_convert(row.timezone) - pd.Timedelta(days=1)).date().isoformat()
        else:
            start = row.start_at.isoformat()
            end = row.end_at.isoformat() if pd.notna(row.end_at) else None
        rows.append({
            "source_id": row.source_id, "uid": row.source_uid, "title": row.title, "description": row.description,
            "start": start, "end": end if pd.notna(row.end_at) else None, "timezone": row.timezone,
            "venue_name": row.venue_name, "street_address": row.street_address, "postal_code": row.postal_code,
            "city": row.city, "commune_insee": row.commune_insee, "departement": row.departement_code,
            "region": row.region_code, "organizer": row.organizer, "url": row.url,
            "event_type": row.event_type, "attendance_mode": row.attendance_mode, "status": row.status,
        })  # fmt: skip
    return _raw([{k: (None if v is None or (isinstance(v, float) and pd.isna(v)) else v) for k, v in r.items()}
                 for r in rows])  # fmt: skip


IDEMPOTENT = [
    "source_uid", "title", "description", "start_at", "end_at", "all_day", "timezone", "attendance_mode",
    "event_type", "status", "venue_name", "street_address", "postal_code", "city", "commune_insee",
    "departement_code", "region_code", "organizer", "url",
]  # fmt: skip


@pytest.mark.slow
@settings(max_examples=25, deadline=None)
@given(st.lists(st.fixed_dictionaries({
    "source_id": st.sampled_from(["nat", "reg", "dom"]),
    "title": st.one_of(st.text(min_size=1, max_size=30), st.sampled_from(
        ["Atelier ANNULÉ : design", "<b>Webinaire</b> &amp; data", "Conférence en ligne", "Hackathon  reporté"])),
    "start": st.sampled_from(["2026-11-03", "2026-11-03T10:00", "2026-11-03T23:30+01:00", "du 3 au 5 novembre 2026",
                              "2026-03-29T02:30"]),
    "postal_code": st.one_of(st.none(), st.sampled_from(["33000", "20200", "97400", "75011", "1000", "13780"])),
    "city": st.one_of(st.none(), st.sampled_from(["Bordeaux", "St-Denis", "Paris 11e", "Évry", "xyz"])),
    "url": st.one_of(st.none(), st.sampled_from(["https://x.fr/e?utm_source=a", "javascript:alert(1)", "ftp://x"])),
}), min_size=1, max_size=6))  # fmt: skip
def test_normalising_normalised_listings_changes_nothing(rows):
    raw = _raw([{"uid": str(i), **r} for i, r in enumerate(rows)])
    once = normalise(raw, _sources()).listings
    twice = normalise(_as_raw(once), _sources()).listings
    assert len(twice) == len(once)
    left = once[IDEMPOTENT].sort_values("source_uid").reset_index(drop=True)
    right = twice[IDEMPOTENT].sort_values("source_uid").reset_index(drop=True)
    pd.testing.assert_frame_equal(left, right)
