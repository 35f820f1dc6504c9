"""Rebuild the geography reference tables shipped in src/aggregator/data from ../shared/data/reference."""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from aggregator.normalise.text import place_key

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SOURCE = ROOT.parent / "shared" / "data" / "reference"
TARGET = ROOT / "src" / "aggregator" / "data"

# INSEE's history of communes (COG "mouvements des communes"), optional: gives renamed communes' former names.
HISTORY_FILE = "v_mvt_commune_2025.csv"
# Renamings since this date: the former names people may still write ("Saint-Ouen", 2018).
RENAMED_SINCE = "2000-01-01"
# INSEE event type of a renaming.
RENAMING = "10"

# Time zones of the overseas départements; every other département is on Europe/Paris.
OVERSEAS_TZ = {
    "971": "America/Guadeloupe",
    "972": "America/Martinique",
    "973": "America/Cayenne",
    "974": "Indian/Reunion",
    "976": "Indian/Mayotte",
}


def former_names(history: pd.DataFrame, communes: pd.DataFrame) -> pd.DataFrame:
    """Former names of communes renamed since ``RENAMED_SINCE`` and still existing under the same code.

    Args:
        history: INSEE's ``v_mvt_commune`` table (columns ``MOD``, ``DATE_EFF``, ``TYPECOM_AV``,
            ``COM_AV``, ``LIBELLE_AV``, ``TYPECOM_AP``, ``COM_AP``, ``LIBELLE_AP``), as strings.
        communes: The package's communes table (``commune_insee``, ``type``, ``name_key``).

    Returns:
        ``name``, ``name_key``, ``commune_insee``, ``renamed_on``, one row per former name whose key is
        not already the commune's own.
    """
    renamed = history[
        (history["MOD"] == RENAMING)
        & (history["TYPECOM_AV"] == "COM")
        & (history["TYPECOM_AP"] == "COM")
        & (history["COM_AV"] == history["COM_AP"])
        & (history["DATE_EFF"] >= RENAMED_SINCE)
    ]
    current = communes[communes["type"] == "COM"].set_index("commune_insee")["name_key"]
    out = pd.DataFrame(
        {
            "name": renamed["LIBELLE_AV"].to_numpy(),
            "name_key": renamed["LIBELLE_AV"].map(place_key).to_numpy(),
            "commune_insee": renamed["COM_AP"].to_numpy(),
            "renamed_on": renamed["DATE_EFF"].to_numpy(),
        }
    )
    out = out[out["commune_insee"].isin(current.index)]
    out = out[out["name_key"] != out["commune_insee"].map(current)]
    return out.drop_duplicates(["name_key", "commune_insee"]).sort_values(["commune_insee", "renamed_on"])


def build(source: Path, target: Path) -> None:
    """Read the INSEE and La Poste files under ``source`` and write the package tables to ``target``."""
    read = {"dtype": str, "keep_default_na": False}
    regions = pd.read_csv(source / "cog-regions-2025.csv", **read)
    regions = regions[["code", "name", "article", "preposition", "is_metropolitan"]].rename(
        columns={"code": "region_code", "name": "region_name"}
    )
    deps = pd.read_csv(source / "cog-departments-2025.csv", **read)
    deps = deps[["code", "name", "article", "preposition", "region_code"]].rename(
        columns={"code": "departement_code", "name": "departement_name"}
    )
    deps["timezone"] = deps["departement_code"].map(OVERSEAS_TZ).fillna("Europe/Paris")

    cog = pd.read_parquet(source / "cog-communes-2025.parquet")
    communes = cog[["code", "type_code", "name", "parent_code", "department_code", "region_code"]].rename(
        columns={"code": "commune_insee", "type_code": "type", "department_code": "departement_code"}
    )
    communes["parent_code"] = communes["parent_code"].fillna(communes["commune_insee"])
    communes["name_key"] = communes["name"].map(place_key)

    # Centroids: the 2024 compilation (COM, ARM, some COMD), else the mean of La Poste's points.
    coords = pd.read_csv(source / "communes-2024-coordinates.csv", dtype=str, keep_default_na=False)
    coords = coords[coords["lat"] != ""].drop_duplicates("insee_com").set_index("insee_com")
    poste = pd.read_csv(source / "laposte-hexasmal-2020.csv", sep=";", **read)
    poste = poste.rename(
        columns={
            "Code_commune_INSEE": "commune_insee",
            "Code_postal": "postal_code",
            "Nom_commune": "poste_name",
            "Ligne_5": "ligne_5",
        }
    )
    gps = poste["coordonnees_gps"].str.split(",", expand=True)
    poste["lat"] = pd.to_numeric(gps[0], errors="coerce")
    poste["lon"] = pd.to_numeric(gps[1], errors="coerce")
    poste_centroid = poste.groupby("commune_insee")[["lat", "lon"]].mean()
    communes["latitude"] = pd.to_numeric(communes["commune_insee"].map(coords["lat"]), errors="coerce")
    communes["longitude"] = pd.to_numeric(communes["commune_insee"].map(coords["lng"]), errors="coerce")
    communes["latitude"] = communes["latitude"].fillna(communes["commune_insee"].map(poste_centroid["lat"]))
    communes["longitude"] = communes["longitude"].fillna(communes["commune_insee"].map(poste_centroid["lon"]))
    communes = communes.sort_values(["commune_insee", "type"]).reset_index(drop=True)

    # Postal codes: one row per (postal code, commune). The 2020 file predates some mergers: a
    # commune code missing from the COG 2025 is kept, its département read from its prefix.
    dep_of = communes.drop_duplicates("commune_insee").set_index("commune_insee")["departement_code"]
    poste["departement_code"] = poste["commune_insee"].map(dep_of)
    prefix = (
        poste["commune_insee"]
        .str[:2]
        .where(~poste["commune_insee"].str.startswith("97"), poste["commune_insee"].str[:3])
    )
    poste["departement_code"] = poste["departement_code"].fillna(prefix)
    poste["in_cog"] = poste["commune_insee"].isin(set(communes["commune_insee"]))
    poste = poste[poste["departement_code"].isin(set(deps["departement_code"]))]
    postal = (
        poste[["postal_code", "commune_insee", "poste_name", "ligne_5", "departement_code", "in_cog"]]
        .assign(name_key=lambda f: f["poste_name"].map(place_key), ligne_5_key=lambda f: f["ligne_5"].map(place_key))
        .drop_duplicates(["postal_code", "commune_insee", "ligne_5"])
        .sort_values(["postal_code", "commune_insee", "ligne_5"])
        .reset_index(drop=True)
    )

    target.mkdir(parents=True, exist_ok=True)
    regions.sort_values("region_code").to_csv(target / "regions.csv", index=False)
    deps.sort_values("departement_code").to_csv(target / "departements.csv", index=False)
    communes.to_parquet(target / "communes.parquet", index=False, compression="zstd")
    postal.to_parquet(target / "postal_codes.parquet", index=False, compression="zstd")
    (target / "postal_codes.csv").unlink(missing_ok=True)
    history_path = source / HISTORY_FILE
    former = pd.DataFrame()
    if history_path.exists():
        former = former_names(pd.read_csv(history_path, **read), communes)
        former.to_csv(target / "former_names.csv", index=False)
    else:
        # Without INSEE's history no former name is known: no table rather than a stale one.
        (target / "former_names.csv").unlink(missing_ok=True)
    print(
        f"regions: {len(regions)}, départements: {len(deps)}, communes: {len(communes)}, "
        f"postal code rows: {len(postal)} ({postal['postal_code'].nunique()} codes), "
        f"former names: {len(former)} -> {target}"
    )


def main() -> None:
    """Parse arguments and build the tables."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    parser.add_argument("--target", type=Path, default=TARGET)
    args = parser.parse_args()
    build(args.source, args.target)


if __name__ == "__main__":
    main()
