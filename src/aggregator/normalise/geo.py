"""Place each listing in a département and region from the best evidence it carries."""

from __future__ import annotations

import re
from functools import cache

import pandas as pd

from aggregator import reference
from aggregator.normalise.text import fold

DEP_CODE = re.compile(r"^(?:0?[1-9]|[1-8][0-9]|9[0-5]|2[ab]|97[1-6])$")
DEP_IN_TEXT = re.compile(r"\((\d{2,3}|2[AaBb])\)|\b(\d{5})\b")
DEP_PREFIXES = ("departement de la ", "departement de l ", "departement du ", "departement des ",
                "departement de ", "departement d ", "dept ", "dep ")  # fmt: skip
# Names people write for regions that are not the official COG 2025 name.
REGION_ALIASES = {
    "idf": "11",
    "ile de france": "11",
    "paca": "93",
    "region sud": "93",
    "sud": "93",
    "provence alpes cote d azur": "93",
    "aura": "84",
    "bfc": "27",
    "cvl": "24",
    "hdf": "32",
    "reunion": "04",
}


@cache
def _dep_by_name() -> dict[str, str]:
    deps = reference.departements()
    return {fold(name): code for code, name in zip(deps["departement_code"], deps["departement_name"], strict=True)}


@cache
def _region_by_name() -> dict[str, str]:
    regs = reference.regions()
    names = {fold(name): code for code, name in zip(regs["region_code"], regs["region_name"], strict=True)}
    names.update(REGION_ALIASES)
    names.update({code: code for code in regs["region_code"]})
    return names


@cache
def _dep_codes() -> frozenset[str]:
    return frozenset(reference.departements()["departement_code"])


@cache
def _postal() -> dict[str, str]:
    table = reference.postal_codes()
    return dict(zip(table["postal_code"], table["departement_codes"], strict=True))


def departement_from_postal_code(postal_code: str | None, hint: str | None = None) -> str | None:
    """Département of a French postal code; ``hint`` (a département code) settles shared codes.

    Corsica's ``20xxx`` codes go to 2A or 2B and overseas ``97xxx`` codes to their three-digit
    département, from La Poste's table; codes missing from it (CEDEX) fall back to the prefix.
    """
    if not postal_code or not re.fullmatch(r"\d{5}", postal_code):
        return None
    known = _postal().get(postal_code)
    if known is not None:
        options = known.split("|")
        if len(options) == 1:
            return options[0]
        return hint if hint in options else None
    if postal_code.startswith("97"):
        code = postal_code[:3]
    elif postal_code.startswith("20"):
        code = "2A" if postal_code < "20200" else "2B"
    else:
        code = postal_code[:2]
    return code if code in _dep_codes() else None


def departement_from_text(value: str | None) -> str | None:
    """Département code from a code, a name, or text such as 'Gironde (33)' or 'Département de Paris'."""
    if not value:
        return None
    text = value.strip()
    if DEP_CODE.match(text.lower()):
        code = text.upper().zfill(2)
        return code if code in _dep_codes() else None
    match = DEP_IN_TEXT.search(text)
    if match and match.group(1):
        code = match.group(1).upper()
        if code in _dep_codes():
            return code
    if match and match.group(2):
        return departement_from_postal_code(match.group(2))
    key = fold(text)
    for prefix in DEP_PREFIXES:
        key = key.removeprefix(prefix)
    return _dep_by_name().get(key)


def region_from_text(value: str | None) -> str | None:
    """Region code from a code, an official name or a common variant ('Ile-de-France', 'PACA')."""
    if not value:
        return None
    key = fold(value).removeprefix("region ")
    return _region_by_name().get(key)


def _first(candidates: list[tuple[pd.Series, str]], index: pd.Index) -> tuple[pd.Series, pd.Series]:
    value = pd.Series(None, index=index, dtype="object")
    precision = pd.Series("none", index=index, dtype="object")
    for candidate, label in candidates:
        take = value.isna() & candidate.notna()
        value[take] = candidate[take]
        precision[take] = label
    return value, precision


def resolve(frame: pd.DataFrame) -> pd.DataFrame:
    """Fill département, region and ``geo_precision`` for every row.

    Args:
        frame: Listings with ``commune_insee``, ``postal_code``, ``departement``, ``region`` and the
            source defaults ``default_departement`` / ``default_region`` (all optional strings).

    Returns:
        A frame on the same index with ``departement_code``, ``departement_name``, ``region_code``,
        ``region_name``, ``geo_precision`` and ``timezone_geo`` (the département's zone, if any).
    """
    index = frame.index

    def col(name: str) -> pd.Series:
        return frame[name] if name in frame else pd.Series(None, index=index, dtype="object")

    def mapped(series: pd.Series, func: object) -> pd.Series:
        uniques = series.dropna().unique()
        table = {u: func(u) for u in uniques}  # type: ignore[operator]
        return series.map(table).astype("object")

    insee = col("commune_insee")
    from_insee = insee.where(insee.str.fullmatch(r"[0-9][0-9AB][0-9]{3}", na=False)).map(
        lambda c: c[:3] if str(c).startswith("97") else c[:2], na_action="ignore"
    )
    from_insee = from_insee.where(from_insee.isin(_dep_codes()))
    hint = col("departement").map(departement_from_text, na_action="ignore")
    default_dep = col("default_departement").map(departement_from_text, na_action="ignore")
    postal = col("postal_code")
    pairs = pd.DataFrame({"p": postal, "h": hint.fillna(default_dep)})
    from_postal = pd.Series(
        [departement_from_postal_code(p, h) if isinstance(p, str) else None for p, h in pairs.itertuples(index=False)],
        index=index,
        dtype="object",
    )
    dep, precision = _first(
        [
            (from_insee, "commune"),
            (from_postal, "postal_code"),
            (hint, "departement"),
        ],
        index,
    )
    region_given = mapped(col("region"), region_from_text)
    default_region = mapped(col("default_region"), region_from_text)

    deps = reference.departements().set_index("departement_code")
    regs = reference.regions().set_index("region_code")
    region = dep.map(deps["region_code"])
    take = region.isna() & region_given.notna()
    region[take] = region_given[take]
    precision[take] = "region"
    take = region.isna() & default_dep.notna()
    dep[take] = default_dep[take]
    region[take] = default_dep[take].map(deps["region_code"])
    precision[take] = "source_default"
    take = region.isna() & default_region.notna()
    region[take] = default_region[take]
    precision[take] = "source_default"
    return pd.DataFrame(
        {
            "departement_code": dep,
            "departement_name": dep.map(deps["departement_name"]),
            "region_code": region,
            "region_name": region.map(regs["region_name"]),
            "geo_precision": precision,
            "timezone_geo": dep.map(deps["timezone"]),
        },
        index=index,
    )
