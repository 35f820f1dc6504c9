"""Geography reference tables shipped as package data (COG 2025 and La Poste), loaded once."""

from __future__ import annotations

from functools import cache
from importlib import resources

import pandas as pd


def _read_csv(name: str) -> pd.DataFrame:
    with resources.files("aggregator.data").joinpath(name).open("rb") as handle:
        return pd.read_csv(handle, dtype=str, keep_default_na=False)


def _read_parquet(name: str) -> pd.DataFrame:
    with resources.files("aggregator.data").joinpath(name).open("rb") as handle:
        return pd.read_parquet(handle)


@cache
def regions() -> pd.DataFrame:
    """The 18 regions of the COG 2025: ``region_code``, ``region_name``, ``is_metropolitan``."""
    return _read_csv("regions.csv")


@cache
def departements() -> pd.DataFrame:
    """The 101 départements: ``departement_code``, ``departement_name``, ``region_code``, ``timezone``."""
    return _read_csv("departements.csv")


@cache
def communes() -> pd.DataFrame:
    """Communes, delegated/associated communes and municipal arrondissements of the COG 2025.

    Columns: ``commune_insee``, ``type`` (COM, COMD, COMA, ARM), ``name``, ``parent_code``,
    ``departement_code``, ``region_code``, ``name_key`` (see ``place_key``), ``latitude``, ``longitude``.
    """
    return _read_parquet("communes.parquet")


@cache
def former_names() -> pd.DataFrame:
    """Former names of renamed communes (INSEE's history of communes, when it was given to the build).

    Columns: ``name``, ``name_key``, ``commune_insee`` (the code, unchanged by a renaming), ``renamed_on``.
    Empty when the package was built without the history file.
    """
    if not resources.files("aggregator.data").joinpath("former_names.csv").is_file():
        return pd.DataFrame(
            {column: pd.Series(dtype=str) for column in ("name", "name_key", "commune_insee", "renamed_on")}
        )
    return _read_csv("former_names.csv")


@cache
def postal_codes() -> pd.DataFrame:
    """La Poste's table, one row per (postal code, commune, delivery line).

    Columns: ``postal_code``, ``commune_insee``, ``poste_name``, ``ligne_5``, ``departement_code``,
    ``in_cog`` (False for communes merged since 2020), ``name_key``, ``ligne_5_key``.
    """
    return _read_parquet("postal_codes.parquet")


@cache
def postal_departements() -> dict[str, tuple[str, ...]]:
    """Postal code -> the département(s) it serves (two for a few codes, e.g. 01200)."""
    table = postal_codes().drop_duplicates(["postal_code", "departement_code"])
    return {str(code): tuple(sorted(group)) for code, group in table.groupby("postal_code")["departement_code"]}


@cache
def commune_name_keys() -> dict[str, str]:
    """INSEE code -> name key of its COG 2025 name (current communes and arrondissements)."""
    table = communes()
    table = table[table["type"].isin(["COM", "ARM"])]
    return dict(zip(table["commune_insee"], table["name_key"], strict=True))
