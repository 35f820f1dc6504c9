"""The geography reference tables as lookups for resolution: communes by code, by name and by position."""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from aggregator import reference
from aggregator.frames import is_in
from aggregator.normalise.text import fold, place_key

EARTH_RADIUS_KM = 6371.0
# A point farther than this from every commune centroid is not taken to be in France.
MAX_CENTROID_KM = 20.0
# Coordinates this close to a commune's centroid agree with its name (Douai: 17 km², about 2.3 km across).
AGREE_KM = 5.0
# The communes with municipal arrondissements: published under the commune's code, the arrondissement apart.
CITIES_WITH_ARRONDISSEMENTS = ("75056", "69123", "13055")
# Foreign cities whose French name is also that of a French village (under 10,000 inhabitants, INSEE
# 2021): alone, such a name is ambiguous and only the source's territory settles it ("Venise" in a Doubs
# agenda is Venise, Doubs; in a national dance agenda it is Venice). Towns that outweigh their foreign
# namesake in a French agenda (Vienne, Isère; Bruges, Gironde) are not listed.
FOREIGN_HOMONYMS = (
    "Aoste", "Berne", "Bologne", "Cologne", "Fribourg", "Grenade", "La Haye", "Le Caire", "Liège", "Modène",
    "Mons", "Montréal", "Montreux", "Saint-Sébastien", "Sion", "Trèves", "Venise",
)  # fmt: skip
# The candidate that stands for the foreign city: never chosen, it only keeps a name ambiguous.
ABROAD = "abroad"
# Names people write for regions that are not the official COG 2025 name.
REGION_ALIASES = {
    "idf": "11", "ile de france": "11", "paris region": "11",
    "paca": "93", "region sud": "93", "sud": "93", "provence alpes cote d azur": "93",
    "aura": "84", "auvergne rhone alpes": "84",
    "bfc": "27", "bourgogne franche comte": "27",
    "cvl": "24", "centre": "24", "centre val de loire": "24",
    "hdf": "32", "hauts de france": "32",
    "grand est": "44", "pays de la loire": "52", "pdl": "52",
    "nouvelle aquitaine": "75", "occitanie": "76", "bretagne": "53", "normandie": "28", "corse": "94",
    "reunion": "04", "la reunion": "04", "guyane": "03", "mayotte": "06", "guadeloupe": "01", "martinique": "02",
}  # fmt: skip


@cache
def dep_codes() -> frozenset[str]:
    """The 101 département codes."""
    return frozenset(reference.departements()["departement_code"])


@cache
def dep_by_name() -> dict[str, str]:
    """Folded département name -> code."""
    deps = reference.departements()
    return {fold(n): c for c, n in zip(deps["departement_code"], deps["departement_name"], strict=True)}


@cache
def region_by_name() -> dict[str, str]:
    """Folded region name, alias or code -> region code."""
    regs = reference.regions()
    names = {fold(n): c for c, n in zip(regs["region_code"], regs["region_name"], strict=True)}
    names.update(REGION_ALIASES)
    names.update({code: code for code in regs["region_code"]})
    return names


@cache
def communes_by_code() -> pd.DataFrame:
    """One row per INSEE code: the current commune it designates (delegated communes -> parent)."""
    communes = reference.communes()
    order = {"COM": 0, "ARM": 1, "COMD": 2, "COMA": 3}
    ranked = communes.assign(_rank=communes["type"].map(order)).sort_values(["commune_insee", "_rank"])
    first = ranked.drop_duplicates("commune_insee")
    current = first["parent_code"].where(first["type"].isin(["COMD", "COMA"]), first["commune_insee"])
    return pd.DataFrame(
        {
            "commune_insee": first["commune_insee"].to_numpy(),
            "resolved": current.to_numpy(),
            "departement_code": first["departement_code"].to_numpy(),
        }
    ).set_index("commune_insee")


@cache
def communes_by_name() -> pd.DataFrame:
    """Name key -> current commune; delegated and associated communes lead to their parent.

    A renamed commune's former name counts as a current name (people keep writing "Saint-Ouen" for
    Saint-Ouen-sur-Seine); a foreign city in ``FOREIGN_HOMONYMS`` adds a candidate ``ABROAD``.
    """
    communes = reference.communes()
    current = communes["parent_code"].where(communes["type"].isin(["COMD", "COMA"]), communes["commune_insee"])
    table = pd.DataFrame(
        {
            "name_key": communes["name_key"],
            "commune": current,
            "departement_code": communes["departement_code"],
            "region_code": communes["region_code"],
            "is_current": communes["type"].isin(["COM", "ARM"]),
        }
    )
    codes = communes_by_code()
    former = reference.former_names()
    former = former[is_in(former["commune_insee"], codes.index)]
    resolved = codes.loc[former["commune_insee"], "resolved"].to_numpy()
    places = communes.drop_duplicates("commune_insee").set_index("commune_insee")
    renamed = pd.DataFrame(
        {
            "name_key": former["name_key"].to_numpy(),
            "commune": resolved,
            "departement_code": places.loc[resolved, "departement_code"].to_numpy(),
            "region_code": places.loc[resolved, "region_code"].to_numpy(),
            "is_current": True,
        }
    )
    abroad = pd.DataFrame(
        {
            "name_key": [place_key(name) for name in FOREIGN_HOMONYMS],
            "commune": ABROAD,
            "departement_code": "",
            "region_code": "",
            "is_current": True,
        }
    )
    return pd.concat([table, renamed, abroad], ignore_index=True).drop_duplicates(["name_key", "commune"])


@cache
def postal_table() -> pd.DataFrame:
    """La Poste's table with what matching a city name needs, computed once per process.

    Adds ``cog_key`` (the COG name's key of the code's commune), ``parent_key`` (the city's key for an
    arrondissement: "75014 Paris") and ``current`` (the commune the code designates today).
    """
    table = reference.postal_codes().copy()
    keys = reference.commune_name_keys()
    table["cog_key"] = table["commune_insee"].map(keys)
    table["parent_key"] = table["commune_insee"].map(arrondissement_parents()).map(keys)
    table["current"] = table["commune_insee"].map(communes_by_code()["resolved"])
    return table


@cache
def postal_code_facts() -> pd.DataFrame:
    """Per postal code of La Poste's table: its départements and communes, counted, and the first of each.

    Indexed by ``postal_code``: ``n_deps`` and ``n_communes`` (distinct, non-null), ``departement_code``
    and ``current`` (the first non-null in the table's order). Matching a listing then joins its few
    distinct codes to this, instead of every line of a code to every listing that gives it.
    """
    grouped = postal_table().groupby("postal_code", sort=False)
    return pd.DataFrame(
        {
            "n_deps": grouped["departement_code"].nunique(),
            "n_communes": grouped["commune_insee"].nunique(),
            "departement_code": grouped["departement_code"].first(),
            "current": grouped["current"].first(),
        }
    )


@cache
def postal_name_facts() -> pd.DataFrame:
    """Per (postal code, name key): the lines of the code the name designates, as ``postal_code_facts``.

    A line is designated when the key is its La Poste name's, its line 5's, its COG name's or its
    city's (an arrondissement's); empty keys designate nothing. Indexed by ``postal_code`` and
    ``city_key``: ``n_named`` (distinct non-null communes), ``named_departement`` and
    ``named_current`` (the first non-null in the table's order).
    """
    table = postal_table().reset_index(drop=True)
    table["line"] = np.arange(len(table))
    columns = ["postal_code", "line", "commune_insee", "departement_code", "current"]
    named = pd.concat(
        [table[[*columns, key]].rename(columns={key: "city_key"}) for key in KEY_COLUMNS], ignore_index=True
    )
    named = named[named["city_key"].notna() & (named["city_key"] != "")]
    named = named.drop_duplicates(["postal_code", "city_key", "line"]).sort_values("line", kind="stable")
    grouped = named.groupby(["postal_code", "city_key"], sort=False)
    return pd.DataFrame(
        {
            "n_named": grouped["commune_insee"].nunique(),
            "named_departement": grouped["departement_code"].first(),
            "named_current": grouped["current"].first(),
        }
    )


@cache
def postal_departement_pairs() -> frozenset[tuple[str, str]]:
    """Every (postal code, département) of La Poste's table: whether a hint is one of a code's départements."""
    table = postal_table().dropna(subset=["departement_code"])
    return frozenset(zip(table["postal_code"], table["departement_code"], strict=True))


# The keys of a line of La Poste's table a city name can match (``postal_table``).
KEY_COLUMNS = ("name_key", "ligne_5_key", "cog_key", "parent_key")


@cache
def centroids() -> tuple[Any, pd.DataFrame]:
    """A k-d tree of commune and arrondissement centroids (unit vectors), and the communes it indexes."""
    communes = reference.communes()
    usable = communes[communes["type"].isin(["COM", "ARM"]) & communes["latitude"].notna()].reset_index(drop=True)
    usable = usable[~((usable["type"] == "COM") & usable["commune_insee"].isin(["75056", "13055", "69123"]))]
    usable = usable.reset_index(drop=True)
    return cKDTree(unit_vectors(usable["latitude"].to_numpy(), usable["longitude"].to_numpy())), usable


def unit_vectors(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Latitudes and longitudes (degrees) as points on the unit sphere, for chord-distance queries."""
    phi, lam = np.radians(lat), np.radians(lon)
    return np.column_stack((np.cos(phi) * np.cos(lam), np.cos(phi) * np.sin(lam), np.sin(phi)))


@cache
def city_names() -> frozenset[str]:
    """Name keys (``place_key``) of every commune, delegated or associated commune, arrondissement and former name."""
    return frozenset(reference.communes()["name_key"]) | frozenset(reference.former_names()["name_key"])


def is_city_name(text: str) -> bool:
    """Whether ``text`` is the name of a French commune (articles, Saint/St, accents and hyphens folded)."""
    return place_key(text) in city_names()


@cache
def arrondissement_parents() -> dict[str, str]:
    """Arrondissement code (75101, 69381, 13201…) -> its commune (75056, 69123, 13055)."""
    communes = reference.communes()
    arm = communes[communes["type"] == "ARM"]
    return dict(zip(arm["commune_insee"], arm["parent_code"], strict=True))


@cache
def arrondissement_by_postal_code() -> dict[str, str]:
    """Postal code (75011, 69001, 13001…) -> the one arrondissement it serves."""
    table = reference.postal_codes()
    arm = table[table["commune_insee"].isin(list(arrondissement_parents()))].drop_duplicates(
        ["postal_code", "commune_insee"]
    )
    single = arm.groupby("postal_code")["commune_insee"].transform("nunique") == 1
    return dict(zip(arm.loc[single, "postal_code"], arm.loc[single, "commune_insee"], strict=True))


@cache
def centroid_table() -> pd.DataFrame:
    """Commune code -> ``latitude``, ``longitude`` of its centroid (NaN where the table has none)."""
    table = reference.communes().drop_duplicates("commune_insee").set_index("commune_insee")
    return table[["latitude", "longitude"]].astype("float64")


def distance_km(lat1: Any, lon1: Any, lat2: Any, lon2: Any) -> np.ndarray:
    """Great-circle distances in km between points (arrays of degrees; NaN where any is missing)."""
    p1, p2 = np.radians(np.asarray(lat1, dtype=float)), np.radians(np.asarray(lat2, dtype=float))
    dlat = p2 - p1
    dlon = np.radians(np.asarray(lon2, dtype=float) - np.asarray(lon1, dtype=float))
    h = np.sin(dlat / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlon / 2) ** 2
    return np.asarray(2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(h, 0, 1))), dtype=float)
