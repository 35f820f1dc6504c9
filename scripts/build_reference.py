"""Rebuild the geography reference tables shipped in src/aggregator/data from ../shared/data/reference."""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SOURCE = ROOT.parent / "shared" / "data" / "reference"
TARGET = ROOT / "src" / "aggregator" / "data"

# Time zones of the overseas départements; every other département is on Europe/Paris.
OVERSEAS_TZ = {
    "971": "America/Guadeloupe",
    "972": "America/Martinique",
    "973": "America/Cayenne",
    "974": "Indian/Reunion",
    "976": "Indian/Mayotte",
}


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

    communes = pd.read_parquet(source / "cog-communes-2025.parquet")
    dep_of_commune = dict(zip(communes["code"], communes["department_code"], strict=False))
    poste = pd.read_csv(source / "laposte-hexasmal-2020.csv", sep=";", **read)
    poste = poste.rename(columns={"Code_commune_INSEE": "commune_insee", "Code_postal": "postal_code"})
    # The 2020 postal file predates some mergers: a commune code missing from the COG 2025 still
    # tells the département by its prefix (2A/2B and 97x included).
    poste["departement_code"] = poste["commune_insee"].map(dep_of_commune)
    missing = poste["departement_code"].isna()
    prefix3 = poste["commune_insee"].str[:3]
    poste.loc[missing, "departement_code"] = prefix3.where(
        prefix3.str.startswith("97"), poste["commune_insee"].str[:2]
    )[missing]
    postal = (
        poste.groupby("postal_code")["departement_code"]
        .agg(lambda s: "|".join(sorted(set(s))))
        .reset_index()
        .rename(columns={"departement_code": "departement_codes"})
    )
    postal = postal[
        postal["departement_codes"].isin(set(deps["departement_code"]))
        | postal["departement_codes"].str.contains("|", regex=False)
    ]

    target.mkdir(parents=True, exist_ok=True)
    regions.sort_values("region_code").to_csv(target / "regions.csv", index=False)
    deps.sort_values("departement_code").to_csv(target / "departements.csv", index=False)
    postal.sort_values("postal_code").to_csv(target / "postal_codes.csv", index=False)
    print(f"regions: {len(regions)}, départements: {len(deps)}, postal codes: {len(postal)} -> {target}")


def main() -> None:
    """Parse arguments and build the tables."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    parser.add_argument("--target", type=Path, default=TARGET)
    args = parser.parse_args()
    build(args.source, args.target)


if __name__ == "__main__":
    main()
