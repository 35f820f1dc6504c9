"""Geography placed once per distinct place: the same answers as row by row, majorities counted in listings."""

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from aggregator.normalise import geo

# Small pools, so that drawn rows repeat, and evidence of every strength (and of none) is drawn.
POOLS = {
    "commune_insee": [None, "33063", "75114", "2b033", "99999", "02311", "abc"],
    "postal_code": [None, "33000", "20137", "59552", "75014", "13001", "97400", "33076", "00000"],
    "city": [None, "Bordeaux", "Douai", "Saint-Denis", "Saint-Martin-des-Champs", "Brest", "Meaux", "Paris", ""],
    "departement": [None, "Gironde (33)", "93", "Nord", "Département de Paris"],
    "region": [None, "Bretagne", "Aquitaine", "IDF"],
    "coordinates": [(None, None), ("50.3623", "3.0967"), ("48.8566", "2.3522"), ("abc", "1"), ("-21.1", "55.5")],
}
SOURCES = {"a": (None, None), "b": ("29", None), "c": (None, "Île-de-France"), "d": (None, None)}  # id -> defaults

row = st.fixed_dictionaries(
    {name: st.sampled_from(values) for name, values in POOLS.items()} | {"source_id": st.sampled_from(sorted(SOURCES))}
)


def _frame(rows: list[dict[str, object]], index: list[int] | None = None) -> pd.DataFrame:
    frame = pd.DataFrame(rows, index=index).drop(columns="coordinates")
    frame["latitude"] = [r["coordinates"][0] for r in rows]  # type: ignore[index]
    frame["longitude"] = [r["coordinates"][1] for r in rows]  # type: ignore[index]
    frame["default_departement"] = frame["source_id"].map(lambda s: SOURCES[s][0])
    frame["default_region"] = frame["source_id"].map(lambda s: SOURCES[s][1])
    return frame


@settings(max_examples=150, deadline=None)
@given(st.lists(row, min_size=1, max_size=40), st.randoms(use_true_random=False))
def test_placing_distinct_rows_gives_what_placing_every_row_gives(rows, rng):
    index = rng.sample(range(10_000), len(rows))  # any index: the answer comes back on it
    frame = _frame(rows, index)
    placed, warnings, votes = geo.resolve(frame)
    row_by_row, row_warnings, row_votes = geo._place_rows(frame, np.ones(len(frame), dtype=np.int64))
    pd.testing.assert_frame_equal(placed, row_by_row)
    assert warnings == row_warnings
    pd.testing.assert_frame_equal(votes, row_votes)  # the majorities count listings either way


def test_a_source_majority_counts_listings_not_distinct_places():
    # Three listings in Brest (one distinct place) against two in Seine-et-Marne (two places): the
    # source is mostly in Finistère, where its Saint-Martin-des-Champs is 29254.
    cities = ["Brest", "Brest", "Brest", "Meaux", "Melun", "Saint-Martin-des-Champs"]
    frame = pd.DataFrame({"city": cities, "source_id": "a"})
    placed, _, _ = geo.resolve(frame)
    assert (placed.loc[5, "commune_insee"], placed.loc[5, "geo_precision"]) == ("29254", "city_name_majority")
    assert placed["departement_code"].tolist()[:5] == ["29", "29", "29", "77", "77"]


def test_the_same_place_in_two_sources_is_settled_by_each_source_majority():
    # Identical rows but for their source: one source is mostly in Finistère, the other in Seine-et-Marne.
    cities = ["Brest", "Brest", "Saint-Martin-des-Champs", "Meaux", "Melun", "Saint-Martin-des-Champs"]
    frame = pd.DataFrame({"city": cities, "source_id": ["a", "a", "a", "d", "d", "d"]})
    placed, _, _ = geo.resolve(frame)
    assert placed.loc[2, "commune_insee"] == "29254"
    assert placed.loc[5, "departement_code"] == "77"
    assert placed.loc[5, "geo_precision"] == "city_name_majority"
