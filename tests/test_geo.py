"""Geography: table-driven resolution over real-world inputs, every trap of ../shared/README.md included."""

import json

import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from aggregator import reference
from aggregator.normalise import communes, geo, territory_text

P, E = "Europe/Paris", None  # shorthand for the expected time zone; E: no time zone from geography

# input -> (commune, département, region, precision, time zone)
CASES = [
    # INSEE commune codes: direct; an arrondissement is published under its city (its code apart:
    # test_paris_lyon_marseille_have_one_convention); delegated communes lead to today's commune.
    ({"commune_insee": "33063"}, ("33063", "33", "75", "commune", P)),
    ({"commune_insee": "75056"}, ("75056", "75", "11", "commune", P)),
    ({"commune_insee": "75114"}, ("75056", "75", "11", "commune", P)),
    ({"commune_insee": "69383"}, ("69123", "69", "84", "commune", P)),
    ({"commune_insee": "13201"}, ("13055", "13", "93", "commune", P)),
    ({"commune_insee": "2A004"}, ("2A004", "2A", "94", "commune", P)),
    ({"commune_insee": "2b033"}, ("2B033", "2B", "94", "commune", P)),
    ({"commune_insee": "97411"}, ("97411", "974", "04", "commune", "Indian/Reunion")),
    ({"commune_insee": "14596"}, ("14672", "14", "28", "commune", P)),  # delegated commune -> parent
    ({"commune_insee": "02311"}, (None, "02", "32", "commune", P)),  # in the 2020 postal file, merged since
    ({"commune_insee": "99999", "postal_code": "33000"}, ("33063", "33", "75", "postal_code", P)),
    # Postal codes: Corsica, overseas, arrondissements, shared codes, CEDEX.
    ({"postal_code": "20000"}, ("2A004", "2A", "94", "postal_code", P)),
    ({"postal_code": "20090"}, ("2A004", "2A", "94", "postal_code", P)),
    ({"postal_code": "20137", "city": "Porto-Vecchio"}, ("2A247", "2A", "94", "postal_code", P)),
    ({"postal_code": "20137"}, (None, "2A", "94", "postal_code", P)),
    ({"postal_code": "20200", "city": "Bastia"}, ("2B033", "2B", "94", "postal_code", P)),
    ({"postal_code": "20250", "city": "Corte"}, ("2B096", "2B", "94", "postal_code", P)),
    ({"postal_code": "20620"}, ("2B037", "2B", "94", "postal_code", P)),
    ({"postal_code": "97100", "city": "Basse-Terre"}, ("97105", "971", "01", "postal_code", "America/Guadeloupe")),
    ({"postal_code": "97200", "city": "Fort-de-France"}, ("97209", "972", "02", "postal_code", "America/Martinique")),
    ({"postal_code": "97300", "city": "Cayenne"}, ("97302", "973", "03", "postal_code", "America/Cayenne")),
    ({"postal_code": "97400", "city": "Saint-Denis"}, ("97411", "974", "04", "postal_code", "Indian/Reunion")),
    ({"postal_code": "97600", "city": "Mamoudzou"}, ("97611", "976", "06", "postal_code", "Indian/Mayotte")),
    ({"postal_code": "75014", "city": "Paris"}, ("75056", "75", "11", "postal_code", P)),
    ({"postal_code": "75116"}, ("75056", "75", "11", "postal_code", P)),
    ({"postal_code": "69003", "city": "Lyon"}, ("69123", "69", "84", "postal_code", P)),
    ({"postal_code": "13001", "city": "Marseille"}, ("13055", "13", "93", "postal_code", P)),
    ({"postal_code": "01200", "city": "Bellegarde-sur-Valserine"}, ("01033", "01", "84", "postal_code", P)),
    ({"postal_code": "01200"}, (None, None, None, "none", E)),  # 01 or 74: never guessed
    ({"postal_code": "01200", "departement": "Haute-Savoie"}, (None, "74", "84", "postal_code", P)),
    ({"postal_code": "13780", "city": "Riboux"}, ("83105", "83", "93", "postal_code", P)),
    ({"postal_code": "13780", "city": "Cuges-les-Pins"}, ("13030", "13", "93", "postal_code", P)),
    ({"postal_code": "05110", "city": "Claret"}, ("04058", "04", "93", "postal_code", P)),
    ({"postal_code": "33913", "city": "Bordeaux Cedex 9"}, ("33063", "33", "75", "postal_code", P)),
    ({"postal_code": "97489", "city": "Saint-Denis Cedex"}, ("97411", "974", "04", "postal_code", "Indian/Reunion")),
    ({"postal_code": "20303", "city": "Ajaccio Cedex"}, ("2A004", "2A", "94", "postal_code", P)),
    ({"postal_code": "33000", "city": "Bordeaux"}, ("33063", "33", "75", "postal_code", P)),
    ({"postal_code": "33000", "city": "BORDEAUX"}, ("33063", "33", "75", "postal_code", P)),
    # City names alone: accents, case, hyphens, articles, abbreviations; ambiguity settled by hints.
    ({"city": "St-Emilion"}, ("33394", "33", "75", "city_name", P)),
    ({"city": "saint emilion"}, ("33394", "33", "75", "city_name", P)),
    ({"city": "La Rochelle"}, (None, None, None, "none", E)),  # Charente-Maritime and Haute-Saône
    ({"city": "La Rochelle", "departement": "Charente-Maritime"}, ("17300", "17", "75", "city_name", P)),
    ({"city": "La Rochelle", "default_region": "Nouvelle-Aquitaine"}, ("17300", "17", "75", "city_name", P)),
    ({"city": "les sables d'olonne"}, ("85194", "85", "52", "city_name", P)),
    ({"city": "Saint-Denis"}, (None, None, None, "none", E)),  # several communes: never guessed
    ({"city": "Saint-Denis", "default_region": "La Réunion"}, ("97411", "974", "04", "city_name", "Indian/Reunion")),
    ({"city": "Saint-Denis", "departement": "Seine-Saint-Denis"}, ("93066", "93", "11", "city_name", P)),
    ({"city": "Paris"}, ("75056", "75", "11", "city_name", P)),
    ({"city": "Ajaccio"}, ("2A004", "2A", "94", "city_name", P)),
    # Départements written every way.
    ({"departement": "Gironde (33)"}, (None, "33", "75", "departement", P)),
    ({"departement": "75008"}, (None, "75", "11", "departement", P)),
    ({"departement": "Département de Paris"}, (None, "75", "11", "departement", P)),
    ({"departement": "somme"}, (None, "80", "32", "departement", P)),
    ({"departement": "2a"}, (None, "2A", "94", "departement", P)),
    ({"departement": "Haute-Corse"}, (None, "2B", "94", "departement", P)),
    ({"departement": "974"}, (None, "974", "04", "departement", "Indian/Reunion")),
    ({"departement": "Guyane"}, (None, "973", "03", "departement", "America/Cayenne")),
    ({"departement": "Côtes-d'Armor"}, (None, "22", "53", "departement", P)),
    ({"departement": "1"}, (None, "01", "84", "departement", P)),
    # Regions: official names, variants, pre-2016 names.
    ({"region": "Ile-de-France"}, (None, None, "11", "region", E)),
    ({"region": "Île-de-France"}, (None, None, "11", "region", E)),
    ({"region": "IDF"}, (None, None, "11", "region", E)),
    ({"region": "PACA"}, (None, None, "93", "region", E)),
    ({"region": "Nouvelle Aquitaine"}, (None, None, "75", "region", E)),
    ({"region": "Aquitaine"}, (None, None, "75", "region", E)),
    ({"region": "Limousin"}, (None, None, "75", "region", E)),
    ({"region": "Nord-Pas-de-Calais"}, (None, None, "32", "region", E)),
    ({"region": "Martinique"}, (None, None, "02", "region", "America/Martinique")),
    # Coordinates only: nearest commune centroid, when in France.
    ({"latitude": "48.8566", "longitude": "2.3522"}, ("75056", "75", "11", "coordinates", P)),
    ({"latitude": "44.8378", "longitude": "-0.5792"}, ("33063", "33", "75", "coordinates", P)),
    ({"latitude": "-20.8821", "longitude": "55.4507"}, ("97411", "974", "04", "coordinates", "Indian/Reunion")),
    ({"latitude": "45.0", "longitude": "-30.0"}, (None, None, None, "none", E)),  # Atlantic
    ({"latitude": "51.5074", "longitude": "-0.1278"}, (None, None, None, "none", E)),  # London
    # Source defaults last; evidence beats them.
    ({"default_departement": "31"}, (None, "31", "76", "source_default", P)),
    ({"default_region": "Bretagne"}, (None, None, "53", "source_default", E)),
    ({"default_region": "Bretagne", "postal_code": "33000"}, ("33063", "33", "75", "postal_code", P)),
    ({}, (None, None, None, "none", E)),
]


def test_there_are_at_least_sixty_cases():
    assert len(CASES) >= 60


@pytest.mark.parametrize(("given", "expected"), CASES, ids=[json.dumps(c[0], ensure_ascii=False) for c in CASES])
def test_resolution(given, expected):
    out, _, _ = geo.resolve(pd.DataFrame([given], index=[7]))
    row = out.loc[7]
    got = (row["commune_insee"], row["departement_code"], row["region_code"], row["geo_precision"], row["timezone_geo"])
    assert got == expected


def test_all_cases_at_once_give_the_same_answers():
    """Resolution is done on whole frames: batching must not change any answer."""
    frame = pd.DataFrame([c[0] for c in CASES])
    out, _, _ = geo.resolve(frame)
    for i, (_, expected) in enumerate(CASES):
        row = out.iloc[i]
        assert (row["commune_insee"], row["departement_code"], row["region_code"], row["geo_precision"]) == expected[:4]


# Whatever the evidence: the city's code in commune_insee, the arrondissement apart.
ARRONDISSEMENTS = [
    ({"commune_insee": "75114"}, ("75056", "75114")),
    ({"commune_insee": "75056"}, ("75056", None)),
    ({"commune_insee": "75056", "postal_code": "75011"}, ("75056", "75111")),
    ({"postal_code": "75014", "city": "Paris"}, ("75056", "75114")),
    ({"postal_code": "75116"}, ("75056", "75116")),
    ({"city": "Paris"}, ("75056", None)),
    ({"latitude": "48.8566", "longitude": "2.3522"}, ("75056", "75104")),
    ({"postal_code": "69003", "city": "Lyon"}, ("69123", "69383")),
    ({"commune_insee": "69383"}, ("69123", "69383")),
    ({"postal_code": "13001", "city": "Marseille"}, ("13055", "13201")),
    ({"postal_code": "33000", "city": "Bordeaux"}, ("33063", None)),
]


@pytest.mark.parametrize(("given", "expected"), ARRONDISSEMENTS, ids=[json.dumps(c[0]) for c in ARRONDISSEMENTS])
def test_paris_lyon_marseille_have_one_convention(given, expected):
    out, _, _ = geo.resolve(pd.DataFrame([given]))
    assert (out.loc[0, "commune_insee"], out.loc[0, "arrondissement_insee"]) == expected


def test_former_region_names_raise_a_warning():
    _, warnings, _ = geo.resolve(pd.DataFrame([{"region": "Aquitaine"}, {"region": "IDF"}]))
    assert warnings == ["former region name 'Aquitaine' read as Nouvelle-Aquitaine (regions merged in 2016)"]


def test_names_come_from_the_reference_tables():
    out, _, _ = geo.resolve(pd.DataFrame([{"postal_code": "20000"}]))
    assert (out.loc[0, "departement_name"], out.loc[0, "region_name"]) == ("Corse-du-Sud", "Corse")


def test_reference_tables_are_complete():
    assert len(reference.regions()) == 18
    assert len(reference.departements()) == 101
    communes = reference.communes()
    assert set(communes["type"]) == {"COM", "COMD", "COMA", "ARM"}
    assert (communes["type"] == "ARM").sum() == 45  # Paris 20, Lyon 9, Marseille 16
    assert reference.postal_departements()["01200"] == ("01", "74")


def test_rebuilding_the_tables_from_shared_gives_the_committed_ones(shared_dir, tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    subprocess.run(
        [sys.executable, str(root / "scripts" / "build_reference.py"), "--source", str(shared_dir / "data" / "reference"),
         "--target", str(tmp_path)],
        check=True, capture_output=True,
    )  # fmt: skip
    for name in ("regions.csv", "departements.csv"):
        assert (tmp_path / name).read_bytes() == (root / "src" / "aggregator" / "data" / name).read_bytes()
    for name in ("communes.parquet", "postal_codes.parquet"):
        rebuilt = pd.read_parquet(tmp_path / name)
        committed = pd.read_parquet(root / "src" / "aggregator" / "data" / name)
        pd.testing.assert_frame_equal(rebuilt, committed)


def test_real_opendatasoft_records_resolve_to_the_right_places(shared_dir):
    """500 real OpenAgenda records get the département and region the INSEE and La Poste files give.

    Every record with an INSEE code or a postal code is checked against the reference files.
    """
    records = json.loads((shared_dir / "data" / "real" / "openagenda-opendatasoft-idf-500.json").read_text())
    frame = pd.DataFrame(
        {
            "commune_insee": [r.get("location_insee") for r in records],
            "postal_code": [r.get("location_postalcode") for r in records],
            "city": [r.get("location_city") for r in records],
            "departement": [r.get("location_department") for r in records],
            "region": [r.get("location_region") for r in records],
            "latitude": [(r.get("location_coordinates") or {}).get("lat") for r in records],
            "longitude": [(r.get("location_coordinates") or {}).get("lon") for r in records],
        }
    )
    out, _, _ = geo.resolve(frame)

    ref = shared_dir / "data" / "reference"
    cog = pd.read_parquet(ref / "cog-communes-2025.parquet").drop_duplicates("code").set_index("code")
    poste = pd.read_csv(ref / "laposte-hexasmal-2020.csv", sep=";", dtype=str)
    poste_dep = poste.assign(dep=poste["Code_commune_INSEE"].map(cog["department_code"])).dropna(subset=["dep"])
    deps_of_postal = poste_dep.groupby("Code_postal")["dep"].agg(set)
    region_of_dep = pd.read_csv(ref / "cog-departments-2025.csv", dtype=str).set_index("code")["region_code"]

    checked = 0
    for i, row in frame.iterrows():
        if row["commune_insee"] in cog.index:
            expected_dep = cog.loc[row["commune_insee"], "department_code"]
        elif row["postal_code"] in deps_of_postal.index and len(deps_of_postal[row["postal_code"]]) == 1:
            (expected_dep,) = deps_of_postal[row["postal_code"]]
        else:
            continue
        checked += 1
        assert out.loc[i, "departement_code"] == expected_dep, (i, row.to_dict())
        assert out.loc[i, "region_code"] == region_of_dep[expected_dep]
    assert checked >= 495
    # Every record has coordinates: none is left without a place.
    assert out["region_code"].notna().all()
    # The messy spellings resolve on their own too.
    for value in frame["departement"].dropna().unique():
        assert territory_text.departement_from_text(value) is not None, value
    for value in frame["region"].dropna().unique():
        assert territory_text.region_from_text(value)[0] == "11", value


# --- postal code + city name, against La Poste's table read line by line ---------------------

POSTAL = communes.postal_table().reset_index(drop=True)
DEPS = sorted(communes.dep_codes())


def _postal_oracle(code: str, key: str, hint: str) -> tuple[str | None, str | None, bool]:
    """What ``_by_postal`` must say of one row whose code is in the table, read off its lines in order."""
    lines = POSTAL[POSTAL["postal_code"] == code]
    deps = set(lines["departement_code"].dropna())
    first = {name: next(iter(lines[name].dropna()), None) for name in ("current", "departement_code")}
    commune = first["current"] if lines["commune_insee"].nunique() == 1 else None
    dep = first["departement_code"] if len(deps) == 1 else None
    named = lines[
        [key != "" and key in (r.name_key, r.ligne_5_key, r.cog_key, r.parent_key) for r in lines.itertuples()]
    ]
    if named["commune_insee"].nunique() == 1:
        commune = next(iter(named["current"].dropna()), None)
        dep = next(iter(named["departement_code"].dropna()), None)
    elif len(deps) > 1 and hint in deps:
        dep = hint
    return commune, dep, key != "" and named.empty


# Codes La Poste's table lacks (CEDEX): the prefix's département; never a conflict with the name.
UNKNOWN_CODES = ["75700", "92099", "97499", "13999"]


@st.composite
def postal_rows(draw: st.DrawFn) -> tuple[str, str | None, str | None]:
    line = POSTAL.iloc[draw(st.integers(0, len(POSTAL) - 1))]
    other = POSTAL.iloc[draw(st.integers(0, len(POSTAL) - 1))]
    code = str(draw(st.sampled_from([line["postal_code"], other["postal_code"], *UNKNOWN_CODES])))
    key = draw(st.sampled_from([*(line[k] for k in communes.KEY_COLUMNS), other["name_key"], "", None, "paris", "zzz"]))
    hint = draw(st.sampled_from([line["departement_code"], other["departement_code"], None, "", *DEPS[:3]]))
    return code, None if pd.isna(key) else str(key), None if pd.isna(hint) else str(hint)


@settings(max_examples=150, deadline=None)
@given(st.lists(postal_rows(), min_size=1, max_size=25))
# The one name two communes of a code bear (Sagone, 20118: Cargèse and Vico); a code of two départements.
@example([("20118", "sagone", None), ("20118", "sagone", "2A"), ("01200", "", "74"), ("01200", "eloise", "01")])
@example([("01200", "zzz", "74"), ("01200", None, "02"), ("75700", "zzz", None), ("75700", "", "75")])
def test_postal_code_and_name_read_as_the_table_says_line_by_line(
    rows: list[tuple[str, str | None, str | None]],
) -> None:
    frame = pd.DataFrame(rows, columns=["postal_code", "city_key", "hint"], index=range(100, 100 + len(rows)))
    commune, dep, conflict = geo._by_postal(frame["postal_code"], frame["city_key"], frame["hint"])
    for i, (code, key, hint) in zip(frame.index, rows, strict=True):
        if code in UNKNOWN_CODES:
            assert not conflict[i], code
            if key in (None, "", "zzz"):  # names of no commune: the prefix alone
                assert (commune[i], dep[i]) == (None, territory_text.prefix_departement(code))
            continue
        assert (commune[i], dep[i], bool(conflict[i])) == _postal_oracle(code, key or "", hint or ""), (code, key, hint)
    assert commune.index.equals(frame.index) and dep.index.equals(frame.index) and conflict.index.equals(frame.index)
