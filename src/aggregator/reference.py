"""Geography reference tables shipped as package data (regions, départements, postal codes)."""

from __future__ import annotations

from functools import cache
from importlib import resources

import pandas as pd


def _read(name: str) -> pd.DataFrame:
    with resources.files("aggregator.data").joinpath(name).open("rb") as handle:
        return pd.read_csv(handle, dtype=str, keep_default_na=False)


@cache
def regions() -> pd.DataFrame:
    """The 18 regions of the COG 2025: ``region_code``, ``region_name``, ``is_metropolitan``."""
    return _read("regions.csv")


@cache
def departements() -> pd.DataFrame:
    """The 101 départements: ``departement_code``, ``departement_name``, ``region_code``, ``timezone``."""
    return _read("departements.csv")


@cache
def postal_codes() -> pd.DataFrame:
    """Postal code -> ``departement_codes`` ('33', or '01|74' when it serves two départements)."""
    return _read("postal_codes.csv")
