"""Places written as free text, conflicting evidence, and the source's territory for shared city names."""

from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from aggregator.config import parse_config
from aggregator.normalise import geo, normalise
from aggregator.normalise.communes import is_city_name
from aggregator.normalise.places import Place, split_place

# text -> (venue, street, postal code, city); the shapes of real agendas (a Breton town's, Douai's)
TEXTS = [
    ("Place des Anciens Combattants - Loctudy", (None, "Place des Anciens Combattants", None, "Loctudy")),
    ("Salle Cap Caval - Penmarch", ("Salle Cap Caval", None, None, "Penmarch")),
    ("Le Port - Terrasse panoramique - Guilvinec", ("Le Port - Terrasse panoramique", None, None, "Guilvinec")),
    ("8 rue Jean Jaurès - Plobannalec-Lesconil", (None, "8 rue Jean Jaurès", None, "Plobannalec-Lesconil")),
    ("29730 Guilvinec", (None, None, "29730", "Guilvinec")),
    ("Lieu : Salle des fêtes, 40440 Ondres", ("Salle des fêtes", None, "40440", "Ondres")),
    ("Salle des fêtes de la Solitude Rue de Coulommiers 59500 Douai",
     ("Salle des fêtes de la Solitude", "Rue de Coulommiers", "59500", "Douai")),
    ("Maison De Proximité Camille Guérin Rue Camille Guérin, 59500 Douai",
     ("Maison De Proximité Camille Guérin", "Rue Camille Guérin", "59500", "Douai")),
    ("Salle polyvalente - Corons Verts 436 Rue des Trannois 59500 Douai",
     ("Salle polyvalente - Corons Verts", "436 Rue des Trannois", "59500", "Douai")),
    ("Salle des Corons Verts 436 rue des Trannois à Douai", ("Salle des Corons Verts", "436 rue des Trannois", None, "Douai")),
    ("Salle des Fête Lewarde", ("Salle des Fête Lewarde", None, None, "Lewarde")),
    ("Espace 1789, Saint-Ouen", ("Espace 1789", None, None, "Saint-Ouen")),
    ("Théâtre du Châtelet\nParis", ("Théâtre du Châtelet", None, None, "Paris")),
    ("Pôle culturel Évasion – Ambarès-et-Lagrave", ("Pôle culturel Évasion", None, None, "Ambarès-et-Lagrave")),
    ("12 rue Haute, 35000 Rennes", (None, "12 rue Haute", "35000", "Rennes")),
    ("Besançon", (None, None, None, "Besançon")),
    ("Visioconférence sans salle", ("Visioconférence sans salle", None, None, None)),
    ("Salle des fêtes", ("Salle des fêtes", None, None, None)),
    ("Espace Jean Vilar", ("Espace Jean Vilar", None, None, None)),
]  # fmt: skip


@pytest.mark.parametrize(("text", "expected"), TEXTS, ids=[t[0] for t in TEXTS])
def test_split_place(text, expected):
    assert split_place(text, is_city_name) == Place(*expected)


@given(st.text(max_size=120))
def test_any_text_splits_without_error_and_keeps_its_words(text):
    place = split_place(text, is_city_name)
    for part in (place.venue, place.street, place.city):
        assert part is None or part.strip()


def _normalised(rows, **settings):
    config = parse_config({"sources": [{"id": "s", "kind": "html", "url": "x", "item": "li", "fields": {"title": "h"},
                                        **settings}]}, Path("s.yaml"), {})  # fmt: skip
    frame = pd.DataFrame(rows).assign(
        source_id="s", source_kind="html", fetched_at=pd.Timestamp("2026-11-01", tz="UTC")
    )
    return normalise(frame, {"s": config.sources[0]}, reference=date(2026, 11, 1)).listings


def test_an_agenda_whose_places_are_free_text_is_placed_commune_by_commune():
    """The shape of a Breton town's agenda: every place a text, most without a postal code."""
    places = {
        "Place des Anciens Combattants - Loctudy": "29135",
        "Salle Cap Caval - Penmarch": "29158",
        "Le Port - Terrasse panoramique - Guilvinec": "29072",
        "8 rue Jean Jaurès - Plobannalec-Lesconil": "29165",
        "29730 Guilvinec": "29072",
        "Médiathèque - Pont-l'Abbé": "29220",
        "Chapelle de Languidou - Plovan": "29214",
        "Salle polyvalente - Treffiagat": "29284",
    }
    rows = [{"uid": str(i), "title": f"Animation {i}", "start": "2026-11-20T20:00", "venue_name": text}
            for i, text in enumerate(places)]  # fmt: skip
    listings = _normalised(rows).set_index("source_uid")
    got = dict(zip(places, listings.loc[[str(i) for i in range(len(places))], "commune_insee"], strict=True))
    assert got == places
    assert listings.loc["0", "venue_name"] is None or pd.isna(listings.loc["0", "venue_name"])  # a street, no venue
    assert listings.loc["0", "street_address"] == "Place des Anciens Combattants"
    assert listings.loc["1", "venue_name"] == "Salle Cap Caval"  # the venue keeps only the venue
    assert set(listings["departement_code"]) == {"29"}


def test_a_shared_city_name_is_settled_by_the_source_majority_and_never_guessed():
    rows = [{"uid": str(i), "title": f"E{i}", "start": "2026-11-20", "city": city}
            for i, city in enumerate(["Quimper", "Brest", "Morlaix", "Saint-Martin-des-Champs"])]  # fmt: skip
    listings = _normalised(rows).set_index("source_uid")
    # Saint-Martin-des-Champs: a commune of that name in several départements; most of the source is in 29.
    assert (listings.loc["3", "commune_insee"], listings.loc["3", "geo_precision"]) == ("29254", "city_name_majority")
    alone = _normalised([{"uid": "x", "title": "E", "start": "2026-11-20", "city": "Saint-Martin-des-Champs"}])
    assert pd.isna(alone.iloc[0]["commune_insee"]) and alone.iloc[0]["geo_precision"] == "none"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        # 59552 serves Lambres-lez-Douai and Courchelettes, not Douai: name and coordinates agree on Douai.
        ({"postal_code": "59552", "city": "Douai", "latitude": "50.3623", "longitude": "3.0967"},
         ("59178", "city_over_postal_code")),
        # Without coordinates, Douai is the only commune of that name in the code's département.
        ({"postal_code": "59552", "city": "Douai"}, ("59178", "city_over_postal_code")),
        # Coordinates that disagree with the name (Lille, 30 km away): the name does not win.
        ({"postal_code": "59552", "city": "Douai", "latitude": "50.6292", "longitude": "3.0573"}, (None, "postal_code")),
        # A name and a code that agree: nothing to settle.
        ({"postal_code": "59500", "city": "Douai"}, ("59178", "postal_code")),
    ],
)  # fmt: skip
def test_a_postal_code_of_another_commune_gives_way_to_name_and_coordinates(given, expected):
    out, _ = geo.resolve(pd.DataFrame([given]))
    assert (out.loc[0, "commune_insee"], out.loc[0, "geo_precision"]) == expected
