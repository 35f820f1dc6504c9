"""Normalisation called with values that are not text (a library user's frame): read or rejected, never a crash."""

import json
from datetime import date

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from aggregator.normalise import normalise
from aggregator.schema import LISTINGS, REJECTS
from aggregator.validation import validate

REFERENCE = date(2026, 11, 1)


def _raw(rows):
    frame = pd.DataFrame([{"source_id": "a", "source_kind": "json", **r} for r in rows])
    frame["fetched_at"] = pd.Timestamp("2026-11-01T02:00Z")
    return frame


def test_lists_of_scalars_are_joined_and_structures_reject_their_row_with_what_they_held():
    raw = _raw([
        {"uid": "1", "title": "Atelier", "start": "2026-11-03", "city": ["Brest"]},
        {"uid": "2", "title": {"fr": "Visite"}, "start": "2026-11-03", "city": "Brest"},
        {"uid": "3", "title": ("Forum", "ouvert"), "start": "2026-11-04", "keywords": {"b", "a"},
         "latitude": 48.39, "longitude": np.array([-4.48])},
        {"uid": "4", "title": "Salon", "start": "2026-11-05", "organizer": [["Ville"], "Région"]},
        {"uid": "5", "title": 2026, "start": pd.Timestamp("2026-11-06T10:00"), "end": date(2026, 11, 7),
         "postal_code": 29200},
        {"uid": "6", "title": "Forum", "start": "2026-11-08", "organizer": ["Ville", None, "Région", np.nan]},
    ])  # fmt: skip
    result = normalise(raw, {}, REFERENCE)
    listings = result.listings.set_index("source_uid")
    assert listings.loc["1", "city"] == "Brest"
    assert listings.loc["3", "title"] == "Forum, ouvert"
    assert (listings.loc["3", "latitude"], listings.loc["3", "longitude"]) == (48.39, -4.48)
    assert listings.loc["5", "title"] == "2026"
    assert listings.loc["6", "organizer"] == "Ville, Région"  # a list's nulls are left out, not a reject
    assert listings.loc["5", "start_at"] == pd.Timestamp("2026-11-06T09:00Z")  # read as Paris time
    assert (listings.loc["5", "postal_code"], listings.loc["5", "departement_code"]) == ("29200", "29")
    rejects = result.rejects.set_index("source_uid")
    assert sorted(rejects.index) == ["2", "4"]
    assert rejects.loc["2", "reason"] == "a field of the record that should be text holds a dict"
    assert rejects.loc["4", "reason"] == "a field of the record that should be text holds a list of objects or lists"
    assert json.loads(rejects.loc["2", "raw"])["title"] == {"fr": "Visite"}  # what was given, not None
    assert json.loads(rejects.loc["4", "raw"])["organizer"] == [["Ville"], "Région"]
    validate(result.listings, LISTINGS)
    validate(result.rejects, REJECTS)


scalar = st.one_of(st.none(), st.text(max_size=12), st.integers(-5, 99_999), st.floats(allow_nan=True), st.booleans())
value = st.one_of(
    scalar,
    st.lists(scalar, max_size=3),
    st.lists(st.lists(scalar, max_size=2), min_size=1, max_size=2),
    st.dictionaries(st.text(max_size=3), scalar, max_size=2),
    st.tuples(st.text(max_size=5), st.text(max_size=5)),
    st.frozensets(st.text(max_size=4), max_size=3).map(set),
)
FIELDS = ["title", "description", "city", "postal_code", "venue_name", "latitude", "organizer", "keywords", "url"]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.fixed_dictionaries({name: value for name in FIELDS}), min_size=1, max_size=6))
def test_any_values_are_normalised_or_rejected_and_none_is_lost(rows):
    raw = _raw([{"uid": str(i), "start": "2026-11-03T10:00", **r} for i, r in enumerate(rows)])
    result = normalise(raw, {}, REFERENCE)
    seen = set(result.listings["source_uid"]) | set(result.rejects["source_uid"])
    assert seen == {str(i) for i in range(len(rows))}
    assert len(result.listings) + len(result.rejects) == len(rows)
    validate(result.listings, LISTINGS)
    validate(result.rejects, REJECTS)
