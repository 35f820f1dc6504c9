"""Place each listing in a commune, département and region from the best evidence it carries.

Evidence, strongest first (the first that decides is recorded in ``geo_precision``):
INSEE commune code, postal code (with the city name to choose among communes), city name alone,
département text, region text, coordinates (nearest commune centroid), the source's territory
defaults. Everything is done with joins against the reference tables and with functions applied
once per distinct value, never per row. See docs/normalisation.md.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from aggregator import reference
from aggregator.frames import is_in, map_distinct
from aggregator.normalise import communes, majorities
from aggregator.normalise.territory_text import departement_from_text, prefix_departement, region_from_text
from aggregator.normalise.text import place_keys


def _column(frame: pd.DataFrame, name: str) -> pd.Series:
    if name in frame:
        series = frame[name].astype("object")
        return series.where(series.notna(), None)
    return pd.Series(None, index=frame.index, dtype="object")


def _by_insee(insee: pd.Series) -> tuple[pd.Series, pd.Series]:
    given = insee.notna()
    if not given.all():  # most sources give no code: only the rows that do are looked up
        commune, dep = _by_insee(insee[given]) if given.any() else (insee[given], insee[given])
        return commune.reindex(insee.index).astype("object"), dep.reindex(insee.index).astype("object")
    table = communes.communes_by_code()
    code = insee.where(insee.str.fullmatch(r"[0-9][0-9AB][0-9]{3}", na=False))
    commune = code.map(table["resolved"])
    dep = code.map(table["departement_code"])
    # Codes of communes merged since (the postal file of 2020 still has them): the prefix tells the département.
    old = code.notna() & commune.isna() & is_in(code, reference.postal_codes()["commune_insee"])
    dep[old] = code[old].map(lambda c: c[:3] if c.startswith("97") else c[:2])
    return commune.astype("object"), dep.astype("object")


def _by_postal(postal: pd.Series, city_key: pd.Series, hint: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Commune and département from postal code + city name, by joins on La Poste's table.

    Each distinct (code, name, hint) is joined to what the table says of its code and of that name
    under it (``postal_code_facts``, ``postal_name_facts``). Also returns, per row, whether the city
    name is none of the code's communes (a conflict).
    """
    index = postal.index
    keys = pd.DataFrame({"postal_code": postal, "city_key": city_key.fillna(""), "hint": hint.fillna("")})
    # Each row's distinct (code, name, hint), numbered in order of first appearance, and those tuples.
    present = keys["postal_code"].notna().to_numpy()
    position = keys[present].groupby(list(keys.columns), sort=False).ngroup().to_numpy()
    uniques = keys[present].iloc[np.unique(position, return_index=True)[1]].reset_index(drop=True)
    code = uniques.join(communes.postal_code_facts(), on="postal_code")
    named = uniques.join(communes.postal_name_facts(), on=["postal_code", "city_key"])
    known = code["n_communes"].notna().to_numpy()
    has_named = named["n_named"].notna().to_numpy()  # an empty name designates no line
    commune = code["current"].astype("object").where(code["n_communes"] == 1, None)
    dep = code["departement_code"].astype("object").where(code["n_deps"] == 1, None)
    by_name = has_named & (named["n_named"] == 1).to_numpy()
    commune[by_name] = named.loc[by_name, "named_current"]
    dep[by_name] = named.loc[by_name, "named_departement"]
    # A code shared by two départements and no name to tell them apart: the hint decides, or nothing.
    pairs = communes.postal_departement_pairs()
    hinted = (code["n_deps"] > 1).to_numpy() & ~by_name
    hinted &= np.fromiter(
        ((c, h) in pairs for c, h in zip(uniques["postal_code"], uniques["hint"], strict=True)), bool, len(uniques)
    )
    dep[hinted] = uniques.loc[hinted, "hint"]
    # Codes absent from the table (CEDEX, new codes): the prefix, and the city name inside that département.
    missing = uniques.index[~known]
    dep[missing] = uniques.loc[missing, "postal_code"].map(prefix_departement)
    if len(missing):
        names = communes.communes_by_name()
        lookup = uniques.loc[missing].assign(departement_code=dep[missing]).reset_index()
        # Corsican CEDEX codes do not follow the 2A/2B ranges: look the city up in both.
        corsica = lookup["postal_code"].str.startswith("20")
        lookup = pd.concat(
            [
                lookup[~corsica],
                lookup[corsica].assign(departement_code="2A"),
                lookup[corsica].assign(departement_code="2B"),
            ]
        )
        found = lookup.merge(names, left_on=["city_key", "departement_code"], right_on=["name_key", "departement_code"])
        found = found.groupby("index").filter(lambda g: g["commune"].nunique() == 1).groupby("index").first()
        commune[found.index] = found["commune"]
        dep[found.index] = found["departement_code"]
    # Back to the rows, through their tuple's number.
    conflict = np.zeros(len(keys), dtype=bool)
    conflict[present] = ((uniques["city_key"] != "").to_numpy() & known & ~has_named)[position]
    out = []
    for values in (commune, dep):
        column = np.full(len(keys), None, dtype=object)
        column[present] = values.astype("object").where(values.notna(), None).to_numpy()[position]
        out.append(pd.Series(column, index=index, dtype="object"))
    return out[0], out[1], pd.Series(conflict, index=index)


def _by_city(city_key: pd.Series, hint_dep: pd.Series, hint_region: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Commune from a city name alone; an ambiguous name is settled by the hints or left unresolved."""
    index = city_key.index
    keys = pd.DataFrame({"city_key": city_key, "hint_dep": hint_dep.fillna(""), "hint_region": hint_region.fillna("")})
    uniques = keys[keys["city_key"].fillna("") != ""].drop_duplicates().reset_index(drop=True)
    uniques["_u"] = np.arange(len(uniques))
    cand = uniques.merge(communes.communes_by_name(), left_on="city_key", right_on="name_key", how="inner")
    # Current communes first: an old delegated name only counts when no current commune bears it.
    has_current = cand.groupby("_u")["is_current"].transform("any")
    cand = cand[cand["is_current"] | ~has_current]
    for hint, column in (("hint_dep", "departement_code"), ("hint_region", "region_code")):
        many = cand.groupby("_u")["commune"].transform("nunique") > 1
        matches = cand[hint] == cand[column]
        keep = ~many | matches | ~matches.groupby(cand["_u"]).transform("any")
        cand = cand[keep]
    counts = cand.groupby("_u")["commune"].nunique()
    cand = cand[cand["commune"] != communes.ABROAD]
    unique = counts[counts == 1].index
    chosen = cand[cand["_u"].isin(unique)].groupby("_u").first()
    position = keys.merge(uniques, on=["city_key", "hint_dep", "hint_region"], how="left")["_u"]
    commune = pd.Series(position.map(chosen["commune"]).to_numpy(), index=index, dtype="object")
    dep = pd.Series(position.map(chosen["departement_code"]).to_numpy(), index=index, dtype="object")
    return commune.where(commune.notna(), None), dep.where(dep.notna(), None)


def _by_coordinates(lat: pd.Series, lon: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Nearest commune centroid (Paris, Lyon, Marseille: their arrondissements), within 20 km."""
    index = lat.index
    commune = pd.Series(None, index=index, dtype="object")
    dep = pd.Series(None, index=index, dtype="object")
    lat_f = pd.to_numeric(lat, errors="coerce")
    lon_f = pd.to_numeric(lon, errors="coerce")
    ok = lat_f.between(-90, 90) & lon_f.between(-180, 180)
    if not ok.any():
        return commune, dep
    tree, usable = communes.centroids()
    distance, nearest = tree.query(communes.unit_vectors(lat_f[ok].to_numpy(), lon_f[ok].to_numpy()))
    inside = distance * communes.EARTH_RADIUS_KM <= communes.MAX_CENTROID_KM
    rows = lat_f[ok].index[inside]
    commune[rows] = usable["commune_insee"].to_numpy()[nearest[inside]]
    dep[rows] = usable["departement_code"].to_numpy()[nearest[inside]]
    return commune, dep


def _name_over_postal(
    suspect: pd.Series,
    city_key: pd.Series,
    lat: pd.Series,
    lon: pd.Series,
    any_region: pd.Series,
    commune: pd.Series,
    dep: pd.Series,
    precision: pd.Series,
) -> None:
    """A postal code none of whose communes bears the city's name: the name wins when the evidence agrees.

    Agreement: the coordinates are within ``AGREE_KM`` of the named commune's centroid (or nearest
    to it), or, without coordinates, the named commune is the only one of that name in the postal
    code's département. Rows overridden get precision
    ``city_over_postal_code`` (counted in ``stats/geo_quality``). Updates the series in place.
    """
    name_commune, name_dep = _by_city(city_key[suspect], dep[suspect], any_region[suspect])
    near_commune, _ = _by_coordinates(lat[suspect], lon[suspect])
    parents = communes.arrondissement_parents()
    near = near_commune.map(lambda c: parents.get(c, c), na_action="ignore")
    centre = communes.centroid_table().reindex(name_commune.to_numpy())
    point_lat, point_lon = pd.to_numeric(lat[suspect], errors="coerce"), pd.to_numeric(lon[suspect], errors="coerce")
    km = communes.distance_km(point_lat.to_numpy(), point_lon.to_numpy(), centre["latitude"], centre["longitude"])
    close = pd.Series(km <= communes.AGREE_KM, index=name_commune.index)
    given = _coordinates_given(lat, lon)[suspect]
    agrees = name_commune.notna() & ((given & ((near == name_commune) | close)) | (~given & (name_dep == dep[suspect])))
    rows = agrees[agrees].index
    commune[rows], dep[rows], precision[rows] = name_commune[rows], name_dep[rows], "city_over_postal_code"


def _coordinates_given(lat: pd.Series, lon: pd.Series) -> pd.Series:
    return pd.to_numeric(lat, errors="coerce").notna() & pd.to_numeric(lon, errors="coerce").notna()


def _arrondissements(commune: pd.Series, postal: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Paris, Lyon and Marseille under their commune's code; the arrondissement in a column of its own.

    Whatever decided the place (an arrondissement's code or postal code, the city's code and a postal
    code, coordinates), ``commune_insee`` is 75056, 69123 or 13055 and the arrondissement, when known,
    goes to ``arrondissement_insee``.
    """
    parents = pd.Series(communes.arrondissement_parents())
    is_arrondissement = commune.isin(parents.index)
    arrondissement = commune.where(is_arrondissement)
    city = commune.where(~is_arrondissement, commune.map(parents))
    by_postal = communes.arrondissement_by_postal_code()
    missing = arrondissement.isna() & city.isin(communes.CITIES_WITH_ARRONDISSEMENTS)
    arrondissement[missing] = postal[missing].map(by_postal)
    return city.astype("object").where(city.notna(), None), arrondissement.astype("object").where(
        arrondissement.notna(), None
    )


# Every column ``resolve`` reads: listings that agree on all of them are placed alike.
INPUTS = (
    "commune_insee", "postal_code", "city", "departement", "region", "latitude", "longitude",
    "default_departement", "default_region", "source_id",
)  # fmt: skip


def resolve(frame: pd.DataFrame, votes: pd.DataFrame | None = None) -> tuple[pd.DataFrame, list[str], pd.DataFrame]:
    """Fill commune, département, region and ``geo_precision`` for every row.

    Args:
        frame: Listings with any of ``commune_insee``, ``postal_code``, ``city``, ``departement``,
            ``region``, ``latitude``, ``longitude`` and the source defaults ``default_departement``
            and ``default_region`` (strings; missing columns count as empty).
        votes: The source majorities of step 6b, counted over more rows than these
            (``majorities.count_votes``' form); None: counted over these rows.

    Returns:
        A frame on the same index with ``commune_insee``, ``arrondissement_insee``, ``departement_code``,
        ``departement_name``,
        ``region_code``, ``region_name``, ``geo_precision``, ``timezone_geo`` (the département's
        zone) and ``by_majority`` (the row reached step 6b: its answer depends on the other rows of
        its source); the distinct warnings raised (former region names); and these rows' votes
        for the source majorities (areas found before step 6b).

    Each distinct combination of the ``INPUTS`` is placed once (a source lists the same places
    many times: a third to two thirds of the rows are distinct in the benchmarks' workloads), then
    its answer is repeated for each of its rows.
    """
    read = frame[[name for name in INPUTS if name in frame]]
    codes = (
        read.groupby(list(read.columns), sort=False, dropna=False).ngroup().to_numpy()
        if len(read.columns)
        else np.zeros(len(read), dtype=np.int64)
    )
    first = np.unique(codes, return_index=True)[1]  # each distinct row's first, in order of appearance
    distinct = read.iloc[first].reset_index(drop=True)
    placed, warnings, counted = _place_rows(distinct, np.bincount(codes, minlength=len(first)), votes)
    return placed.take(codes).set_axis(frame.index), warnings, counted


def _place_rows(
    frame: pd.DataFrame, weights: np.ndarray, votes: pd.DataFrame | None = None
) -> tuple[pd.DataFrame, list[str], pd.DataFrame]:
    """``resolve`` row by row; ``weights``: how many listings each row stands for (the source majorities).

    Args:
        frame: Rows with any of ``resolve``'s columns.
        weights: Listings per row.
        votes: As ``resolve``'s.

    Returns:
        As ``resolve``.
    """
    index = frame.index
    city_key = place_keys(_column(frame, "city"))
    hint_dep = map_distinct(_column(frame, "departement"), departement_from_text)
    default_dep = map_distinct(_column(frame, "default_departement"), departement_from_text)
    region_read = map_distinct(_column(frame, "region"), region_from_text)
    region_given = region_read.map(lambda pair: pair[0], na_action="ignore")
    warnings = sorted({pair[1] for pair in region_read.dropna() if pair[1]})
    default_region = map_distinct(_column(frame, "default_region"), lambda v: region_from_text(v)[0])

    deps = reference.departements().set_index("departement_code")
    any_dep = hint_dep.fillna(default_dep)
    any_region = region_given.fillna(default_region).fillna(any_dep.map(deps["region_code"]))

    commune = pd.Series(None, index=index, dtype="object")
    dep = pd.Series(None, index=index, dtype="object")
    region = pd.Series(None, index=index, dtype="object")
    precision = pd.Series("none", index=index, dtype="object")

    def take(label: str, found_dep: pd.Series, found_commune: pd.Series | None = None) -> None:
        rows = dep.isna() & region.isna() & found_dep.notna()
        dep[rows] = found_dep[rows]
        if found_commune is not None:
            commune[rows] = found_commune[rows]
        precision[rows] = label

    insee_commune, insee_dep = _by_insee(_column(frame, "commune_insee").str.upper())
    take("commune", insee_dep, insee_commune)
    todo = dep.isna()
    postal = _column(frame, "postal_code")
    lat, lon = _column(frame, "latitude"), _column(frame, "longitude")
    if todo.any():
        found_commune, found_dep, conflict = _by_postal(postal[todo], city_key[todo], any_dep[todo])
        take("postal_code", found_dep.reindex(index), found_commune.reindex(index))
        suspect = conflict.reindex(index, fill_value=False) & (precision == "postal_code")
        if suspect.any():
            _name_over_postal(suspect, city_key, lat, lon, any_region, commune, dep, precision)
    todo = dep.isna()
    if todo.any():
        found_commune, found_dep = _by_city(city_key[todo], any_dep[todo], any_region[todo])
        take("city_name", found_dep.reindex(index), found_commune.reindex(index))
    take("departement", hint_dep)
    rows = dep.isna() & region.isna() & region_given.notna()
    region[rows], precision[rows] = region_given[rows], "region"
    todo = dep.isna() & region.isna()
    if todo.any():
        found_commune, found_dep = _by_coordinates(lat[todo], lon[todo])
        take("coordinates", found_dep.reindex(index), found_commune.reindex(index))
    todo = dep.isna() & region.isna() & (city_key != "")
    sources = _column(frame, "source_id")
    counted = majorities.count_votes(
        {"departement": dep, "region": region.where(region.notna(), dep.map(deps["region_code"]))},
        sources,
        pd.Series(weights, index=index),
    )
    by_majority = todo & sources.notna()
    if by_majority.any():
        # A city name several communes bear, settled by the département most of the source's listings are
        # in, or else by its region ("Saint-Ouen" in an Île-de-France-heavy agenda).
        top = majorities.top_areas(counted if votes is None else votes)
        rows = sources[by_majority]
        found_commune, found_dep = _by_city(
            city_key[by_majority],
            rows.map(top["departement"]).astype("object"),
            rows.map(top["region"]).astype("object"),
        )
        take("city_name_majority", found_dep.reindex(index), found_commune.reindex(index))
    take("source_default", default_dep)
    rows = dep.isna() & region.isna() & default_region.notna()
    region[rows], precision[rows] = default_region[rows], "source_default"

    commune, arrondissement = _arrondissements(commune, postal)
    regs = reference.regions().set_index("region_code")
    region = region.where(region.notna(), dep.map(deps["region_code"]))
    # A one-département region (the overseas ones) tells the time zone even without the département.
    single = deps.reset_index().groupby("region_code").filter(lambda g: len(g) == 1).set_index("region_code")
    timezone = dep.map(deps["timezone"]).fillna(region.map(single["timezone"]))
    out = pd.DataFrame(
        {
            "commune_insee": commune,
            "arrondissement_insee": arrondissement,
            "departement_code": dep,
            "departement_name": dep.map(deps["departement_name"]),
            "region_code": region,
            "region_name": region.map(regs["region_name"]),
            "geo_precision": precision,
            "timezone_geo": timezone,
        },
        index=index,
    )
    out = out.astype("object").where(out.notna(), None)
    out["by_majority"] = by_majority.to_numpy(dtype=bool)
    return out, warnings, counted
