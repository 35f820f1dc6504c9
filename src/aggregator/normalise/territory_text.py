"""Département and region codes read from single values: codes, names, text and postal codes."""

from __future__ import annotations

import re

from aggregator import reference
from aggregator.normalise import communes
from aggregator.normalise.text import fold

DEP_CODE = re.compile(r"^(?:0?[1-9]|[1-8][0-9]|9[0-5]|2[ab]|97[1-6])$")
DEP_IN_TEXT = re.compile(r"\((\d{2,3}|2[AaBb])\)|\b(\d{5})\b")
DEP_PREFIXES = ("departement de la ", "departement de l ", "departement du ", "departement des ",
                "departement de ", "departement d ", "departement ", "dept ", "dep ")  # fmt: skip
# Regions merged on 1 January 2016: the old name maps to today's region, with a warning.
FORMER_REGIONS = {
    "aquitaine": "75", "limousin": "75", "poitou charentes": "75",
    "midi pyrenees": "76", "languedoc roussillon": "76",
    "alsace": "44", "lorraine": "44", "champagne ardenne": "44",
    "nord pas de calais": "32", "picardie": "32",
    "basse normandie": "28", "haute normandie": "28",
    "auvergne": "84", "rhone alpes": "84",
    "bourgogne": "27", "franche comte": "27",
    "nord pas de calais picardie": "32", "alsace champagne ardenne lorraine": "44",
    "aquitaine limousin poitou charentes": "75", "languedoc roussillon midi pyrenees": "76",
}  # fmt: skip


def departement_from_postal_code(postal_code: str | None, hint: str | None = None) -> str | None:
    """Département of a postal code; ``hint`` (a département code) settles codes shared by two.

    Codes missing from La Poste's table (CEDEX codes) fall back to their prefix: ``97x`` overseas,
    ``200``/``201`` Corse-du-Sud, ``202``-``206`` Haute-Corse.
    """
    if not postal_code or not re.fullmatch(r"\d{5}", postal_code):
        return None
    known = reference.postal_departements().get(postal_code)
    if known is not None:
        return known[0] if len(known) == 1 else (hint if hint in known else None)
    return prefix_departement(postal_code)


def prefix_departement(postal_code: str) -> str | None:
    """Département of a postal code from its prefix alone (codes missing from La Poste's table: CEDEX)."""
    if postal_code.startswith("97"):
        code = postal_code[:3]
    elif postal_code.startswith("20"):
        code = "2A" if postal_code < "20200" else "2B"
    else:
        code = postal_code[:2]
    return code if code in communes.dep_codes() else None


def departement_from_text(value: str | None) -> str | None:
    """Département code from a code, a name, or text such as 'Gironde (33)' or 'Département de Paris'."""
    if not value:
        return None
    text = value.strip()
    if DEP_CODE.match(text.lower()):
        code = text.upper().zfill(2)
        return code if code in communes.dep_codes() else None
    match = DEP_IN_TEXT.search(text)
    if match and match.group(1) and match.group(1).upper() in communes.dep_codes():
        return match.group(1).upper()
    if match and match.group(2):
        return departement_from_postal_code(match.group(2))
    key = fold(text)
    for prefix in DEP_PREFIXES:
        key = key.removeprefix(prefix)
    return communes.dep_by_name().get(key)


def region_from_text(value: str | None) -> tuple[str | None, str | None]:
    """Region code from a code, an official name or a variant, and a warning for a pre-2016 name.

    Returns:
        ``(code, warning)``; ``warning`` is set when a former region name was mapped.
    """
    if not value:
        return None, None
    key = fold(value).removeprefix("region ").strip()
    code = communes.region_by_name().get(key)
    if code is not None:
        return code, None
    if key in FORMER_REGIONS:
        code = FORMER_REGIONS[key]
        name = str(reference.regions().set_index("region_code").loc[code, "region_name"])
        return code, f"former region name {value!r} read as {name} (regions merged in 2016)"
    return None, None
