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
    out, _, _ = geo.resolve(pd.DataFrame([given]))
    assert (out.loc[0, "commune_insee"], out.loc[0, "geo_precision"]) == expected


def test_a_shared_name_is_settled_by_the_source_region_when_its_departement_has_none():
    # Most listings in Paris (75); "Saint-Denis" is a commune of 93 and of 974: the region (11) settles it.
    rows = [{"uid": str(i), "title": f"E{i}", "start": "2026-11-20", "city": city}
            for i, city in enumerate(["Paris", "Paris", "Paris", "Magny-les-Hameaux", "Saint-Denis"])]  # fmt: skip
    listings = _normalised(rows).set_index("source_uid")
    assert (listings.loc["4", "commune_insee"], listings.loc["4", "geo_precision"]) == ("93066", "city_name_majority")


@pytest.mark.parametrize(
    ("cities", "settings", "expected"),
    [
        # A national agenda, mostly Paris: "Venise" is Venice, not Venise (Doubs).
        (["Paris", "Paris", "Toulouse", "Venise"], {}, None),
        # An agenda of the Doubs: its own Venise.
        (["Besançon", "Besançon", "Pontarlier", "Venise"], {}, "25598"),
        # A source whose setting names the département.
        (["Venise"], {"departement": "25"}, "25598"),
        # "La Haye" (The Hague) in an agenda of the Manche: La Haye (50).
        (["Cherbourg-en-Cotentin", "Saint-Lô", "La Haye"], {}, "50236"),
    ],
)
def test_a_foreign_city_that_is_also_a_french_village_needs_the_source_territory(cities, settings, expected):
    rows = [{"uid": str(i), "title": f"E{i}", "start": "2026-11-20", "city": c} for i, c in enumerate(cities)]
    got = _normalised(rows, **settings).set_index("source_uid").loc[str(len(cities) - 1), "commune_insee"]
    assert (None if pd.isna(got) else got) == expected


@pytest.fixture
def saint_ouen_renamed(monkeypatch):
    """INSEE's history says 93070 was "Saint-Ouen" before its renaming (the build's output for that row)."""
    from aggregator import reference
    from aggregator.normalise import communes

    former = pd.DataFrame({"name": ["Saint-Ouen"], "name_key": ["saint ouen"], "commune_insee": ["93070"],
                           "renamed_on": ["2018-01-01"]})  # fmt: skip
    caches = (communes.communes_by_name, communes.city_names)
    for cached in caches:
        cached.cache_clear()
    monkeypatch.setattr(reference, "former_names", lambda: former)
    yield
    for cached in caches:
        cached.cache_clear()


def test_a_renamed_commune_is_found_by_its_former_name(saint_ouen_renamed):
    from aggregator.normalise.text import place_key

    assert place_key("Saint-Ouen") == "saint ouen"
    # Three communes answer to "Saint-Ouen" (80, 41, and 93070 by its former name): Paris's region settles it.
    rows = [{"uid": str(i), "title": f"E{i}", "start": "2026-11-20", "venue_name": place}
            for i, place in enumerate(["Opéra de Paris, Paris", "Théâtre du Châtelet, Paris", "Espace 1789, Saint-Ouen"])]  # fmt: skip
    listings = _normalised(rows).set_index("source_uid")
    assert (listings.loc["2", "commune_insee"], listings.loc["2", "venue_name"]) == ("93070", "Espace 1789")
    alone = _normalised([{"uid": "x", "title": "E", "start": "2026-11-20", "city": "Saint-Ouen"}])
    assert pd.isna(alone.iloc[0]["commune_insee"])  # ambiguous and no territory: never guessed


def test_the_build_keeps_renamings_of_communes_that_still_exist():
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "build_reference", Path(__file__).parent.parent / "scripts" / "build_reference.py"
    )
    assert spec and spec.loader
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    columns = ["MOD", "DATE_EFF", "TYPECOM_AV", "COM_AV", "LIBELLE_AV", "TYPECOM_AP", "COM_AP", "LIBELLE_AP"]
    history = pd.DataFrame(
        [
            ["10", "2018-01-01", "COM", "93070", "Saint-Ouen", "COM", "93070", "Saint-Ouen-sur-Seine"],  # kept
            ["10", "1962-01-01", "COM", "59178", "Douay", "COM", "59178", "Douai"],  # too old to be written still
            ["32", "2019-01-01", "COM", "50236", "Montgardon", "COMD", "50236", "Montgardon"],  # a merger
            ["10", "2021-01-01", "COM", "99999", "Nulle Part", "COM", "99999", "Ailleurs"],  # no such commune
            ["10", "2020-01-01", "COM", "59178", "DOUAI", "COM", "59178", "Douai"],  # same name, other case
        ],
        columns=columns,
    )
    from aggregator import reference

    former = build.former_names(history, reference.communes())
    assert former[["name", "name_key", "commune_insee", "renamed_on"]].values.tolist() == [
        ["Saint-Ouen", "saint ouen", "93070", "2018-01-01"]
    ]
