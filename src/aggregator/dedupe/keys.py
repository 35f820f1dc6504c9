"""Comparison keys for matching: titles, places and URLs, computed once per listing."""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from aggregator.frames import map_distinct
from aggregator.normalise.dates import local_times
from aggregator.normalise.text import fold, fold_strings, place_keys

# A bracketed prefix ("[Atelier]", "(Webinaire)") or a leading format word followed by ":" or "-"
# says what kind of event it is, not which one: it is ignored when comparing titles.
BRACKETS = re.compile(r"^\s*[\[(][^\])]{1,40}[\])]\s*")
FORMAT_PREFIX = re.compile(
    r"^(atelier|conference|webinaire|webinar|table ronde|formation|exposition|visite|demonstration|"
    r"hackathon|debat|rencontre|seminaire|annule|reporte)s?\s+(?=\S)"
)
# Boilerplate that sources append to titles: it tells nothing about which event it is.
TRAILING_PARENS = re.compile(r"\s*[\[(][^\])]{1,60}[\])]\s*$")
BOILERPLATE = re.compile(
    r"\b(mois de l innovation publique|mip \d{4}|inscription obligatoire|sur inscription|inscriptions? ouvertes?|"
    r"complet|gratuit|nouvelle date|edition \d{4}|\d{4} edition)\b"
)
# The same patterns for RE2 (Arrow), which has no lookahead and whose \s is ASCII: Python's \s
# (str.isspace) spelled out, and the prefix's lookahead dropped, since folded text is single-spaced
# and trimmed (a space there is always followed by a word).
_SPACE = r"[\t\n\x{0b}\f\r\x{1c}-\x{20}\x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}]"
BRACKETS_RE2 = rf"^{_SPACE}*[\[(][^\])]{{1,40}}[\])]{_SPACE}*"
TRAILING_PARENS_RE2 = rf"{_SPACE}*[\[(][^\])]{{1,60}}[\])]{_SPACE}*$"
FORMAT_PREFIX_RE2 = FORMAT_PREFIX.pattern.replace(r"\s+(?=\S)", " ")
ABBREVIATIONS = {"st": "saint", "ste": "sainte", "dpt": "departement", "admin": "administration", "num": "numerique"}
STOP_WORDS = {"le", "la", "les", "l", "de", "du", "des", "d", "un", "une", "et", "a", "au", "aux", "en", "pour", "sur"}


def title_key(title: object) -> str:
    """Folded title, prefixes dropped, abbreviations spelled out, stop words removed, tokens sorted.

    Sorting the tokens once here lets the scorer use a plain ``ratio``, much faster than
    ``token_sort_ratio`` on every pair.
    """
    if not isinstance(title, str):
        return ""
    text = TRAILING_PARENS.sub("", BRACKETS.sub("", title))
    folded = fold(text)
    return _tokens_key(BOILERPLATE.sub(" ", FORMAT_PREFIX.sub("", folded)))


def _tokens_key(folded: str) -> str:
    tokens = [ABBREVIATIONS.get(t, t) for t in folded.split()]
    kept = [t for t in tokens if t not in STOP_WORDS] or tokens
    return " ".join(sorted(kept))


def title_keys(titles: pd.Series) -> np.ndarray:
    """``title_key`` of each title (missing: ""), its patterns run by Arrow over the distinct titles."""
    codes, uniques = pd.factorize(titles, use_na_sentinel=True)
    text = pa.array(np.asarray(uniques, dtype=object), pa.large_string())
    text = pc.replace_substring_regex(pc.replace_substring_regex(text, BRACKETS_RE2, ""), TRAILING_PARENS_RE2, "")
    folded = pc.replace_substring_regex(fold_strings(text), FORMAT_PREFIX_RE2, "")
    folded = pc.replace_substring_regex(folded, BOILERPLATE.pattern, " ")
    keys = np.array([*(_tokens_key(t) for t in folded.to_pylist()), ""], dtype=object)
    return np.asarray(keys[codes], dtype=object)  # code -1 (missing) takes the last: ""


def url_key(url: object) -> str:
    """URL without scheme, 'www.', trailing slash and query: the same page however it is linked."""
    if not isinstance(url, str) or not url:
        return ""
    key = re.sub(r"^https?://(www\.)?", "", url.strip().lower()).split("#")[0].split("?")[0]
    return key.rstrip("/")


def add_keys(listings: pd.DataFrame) -> pd.DataFrame:
    """Listings with the comparison columns used by blocking and scoring.

    ``_title``, ``_city``, ``_url`` (keys), ``_day`` (local day), ``_minute`` (UTC), ``_online``,
    ``_words`` (title words), and integer codes for equality tests on millions of pairs. Venues and
    organisers are folded later, only for the listings of pairs worth scoring.
    """
    out = listings.copy()

    def per_value(series: pd.Series, func: Callable[[object], str]) -> np.ndarray:
        values = map_distinct(series, func).to_numpy(copy=True)
        values[pd.isna(values)] = ""
        return values

    out["_title"] = title_keys(out["title"])
    out["_city"] = place_keys(out["city"]).fillna("").to_numpy()
    out["_url"] = per_value(out["url"], url_key)
    # The local calendar day, as an integer, for blocking (an event at 00:30 local is on its day).
    out["_day"] = local_times(out["start_at"], out["timezone"]).to_numpy().astype("datetime64[D]").astype("int64")
    utc = out["start_at"].dt.tz_convert("UTC").dt.tz_localize(None).to_numpy()
    out["_minute"] = utc.astype("datetime64[m]").astype("int64")
    out["_source"] = pd.factorize(out["source_id"])[0]
    # Integer codes for equality tests on millions of pairs (-1: missing).
    for name, column in (("_title_id", "_title"), ("_city_id", "_city"), ("_url_id", "_url")):
        codes = pd.factorize(out[column])[0]
        out[name] = np.where(out[column].to_numpy() == "", -1, codes)
    out["_postal_id"] = pd.factorize(out["postal_code"], use_na_sentinel=True)[0]
    out["_uid_id"] = pd.factorize(out["source_uid"], use_na_sentinel=True)[0]
    codes, uniques = pd.factorize(out["_title"])
    words = np.fromiter((t.count(" ") + 1 for t in np.asarray(uniques, dtype=object).tolist()), dtype=np.int64)
    out["_words"] = words[codes] if len(uniques) else np.ones(len(out), dtype=np.int64)
    out["_online"] = (out["attendance_mode"] == "online").to_numpy()
    return out
