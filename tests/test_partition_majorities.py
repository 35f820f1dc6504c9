"""Normalisation gives the same tables however its rows are cut into partitions, source majorities included."""

import pandas as pd
import pytest
from conftest import raw_frame
from hypothesis import given, settings
from hypothesis import strategies as st

from aggregator.config import parse_config
from aggregator.normalise import normalise
from aggregator.normalise.majorities import add_votes, count_votes, top_areas

FETCHED = pd.Timestamp("2026-11-25T02:00:00Z")


def _sources():
    data = {"sources": [
        {"id": "a", "kind": "ical", "url": "a"},
        {"id": "b", "kind": "ical", "url": "b"},
        {"id": "c", "kind": "ical", "url": "c", "region": "Île-de-France"},
    ]}  # fmt: skip
    config = parse_config(data, __import__("pathlib").Path("sources.yaml"), {})
    return {s.id: s for s in config.sources}


def _raw(rows):
    return raw_frame(rows, fetched_at=FETCHED.isoformat())


def _assert_same(whole, parts):
    pd.testing.assert_frame_equal(parts.listings, whole.listings)
    pd.testing.assert_frame_equal(parts.rejects, whole.rejects)
    assert parts.warnings == whole.warnings


def test_a_partition_mostly_elsewhere_does_not_settle_a_shared_name_its_own_way():
    # Source a: three listings in La Réunion, in the first half; in the second half, one in Bobigny (93)
    # and a "Saint-Denis" alone. Over all its listings the source is mostly in La Réunion: Saint-Denis
    # is 97411, in La Réunion's time zone; the second half alone would have said 93, at Paris time.
    rows = [
        {"uid": "1", "title": "Atelier", "start": "2026-11-03T10:00", "postal_code": "97400", "city": "Saint-Denis"},
        {"uid": "2", "title": "Atelier", "start": "2026-11-04T10:00", "postal_code": "97400", "city": "Saint-Denis"},
        {"uid": "3", "title": "Atelier", "start": "2026-11-05T10:00", "postal_code": "97420", "city": "Le Port"},
        {"uid": "4", "title": "Forum", "start": "2026-11-06T10:00", "postal_code": "93000", "city": "Bobigny"},
        {"uid": "5", "title": "Hackathon", "start": "7 et 8 novembre 2026 à 10h", "city": "Saint-Denis"},
        {"uid": "6", "title": "Visite", "start": "2026-11-09T10:00", "city": "Saint-Denis"},
    ]  # fmt: skip
    raw = _raw([{"source_id": "a", **r} for r in rows])
    whole = normalise(raw, _sources())
    halves = normalise(raw, _sources(), chunks=2)
    _assert_same(whole, halves)
    settled = whole.listings[whole.listings["source_uid"].str.startswith(("5", "6"))]
    assert len(settled) == 3  # uid 5 lists two dates
    assert settled["commune_insee"].tolist() == ["97411"] * 3
    assert settled["geo_precision"].tolist() == ["city_name_majority"] * 3
    assert settled["timezone"].tolist() == ["Indian/Reunion"] * 3
    assert settled["start_at"].iloc[-1] == pd.Timestamp("2026-11-09T06:00Z")


def test_values_cut_are_counted_over_all_partitions():
    rows = [{"source_id": "a", "uid": str(i), "title": "T" * 400, "start": "2026-11-03"} for i in range(5)]
    raw = _raw(rows)
    whole = normalise(raw, _sources())
    assert [w for w in whole.warnings if "title" in w] == [
        "source a: 5 title value(s) longer than 300 characters cut (marked …)"
    ]
    _assert_same(whole, normalise(raw, _sources(), chunks=3))


def test_votes_add_up_and_a_tie_goes_to_the_smallest_code():
    sources = pd.Series(["a", "a", "a", "b"])
    first = count_votes({"departement": pd.Series(["29", "77", None, "33"])}, sources, pd.Series([1, 1, 5, 2]))
    second = count_votes({"departement": pd.Series(["77", "29", "29", None])}, sources, pd.Series([2, 1, 1, 4]))
    total = add_votes([first, second])
    assert total.to_dict("records") == [
        {"source_id": "a", "level": "departement", "area": "29", "listings": 3},
        {"source_id": "a", "level": "departement", "area": "77", "listings": 3},
        {"source_id": "b", "level": "departement", "area": "33", "listings": 2},
    ]
    top = top_areas(total)
    assert top.loc["a", "departement"] == "29" and top.loc["b", "departement"] == "33"
    assert top["region"].isna().all()


# Pools that make step 6b matter: names several communes bear (Saint-Denis 93 / 974, Saint-Martin-
# des-Champs 29 / 77 / …, Saint-Ouen 93 / 80 / …), and places that vote for one side or the other.
CITIES = [None, "Saint-Denis", "Saint-Martin-des-Champs", "Saint-Ouen", "Brest", "Meaux", "Bobigny",
          "Le Port", "Amiens", "Venise", "Nulle-Part"]  # fmt: skip
POSTAL = [None, "97400", "29200", "77100", "80000", "93000", "2000"]
STARTS = ["2026-11-03T10:00", "2026-11-04", "2026-03-29T02:30", "bientôt", None,
          "7 et 8 novembre 2026 à 10h", "14, 15 et 21 mai à 20h30", "2026-11-07T10:00 et 2026-11-08T10:00"]  # fmt: skip

row = st.fixed_dictionaries(
    {
        "source_id": st.sampled_from(["a", "b", "c"]),
        "title": st.one_of(st.sampled_from(["Atelier", "Forum", None, "Long " * 80]), st.text(max_size=12)),
        "start": st.sampled_from(STARTS),
        "city": st.sampled_from(CITIES),
        "postal_code": st.sampled_from(POSTAL),
    }
)


@pytest.mark.slow
@settings(max_examples=25, deadline=None)  # about 1 s each: every partition costs about 0.2 s
@given(st.lists(row, min_size=1, max_size=24), st.integers(min_value=2, max_value=4))
def test_any_partitioning_gives_the_tables_of_one_partition(rows, chunks):
    raw = _raw([{"uid": str(i), **r} for i, r in enumerate(rows)])
    _assert_same(normalise(raw, _sources()), normalise(raw, _sources(), chunks=chunks))
