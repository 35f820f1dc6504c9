"""Text cleaning: HTML to plain text, entities decoded, Unicode NFC, whitespace collapsed."""

from __future__ import annotations

import html
import re
import unicodedata
import warnings
from urllib.parse import parse_qsl, urlencode, urlparse, urlunparse

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from bs4 import BeautifulSoup, MarkupResemblesLocatorWarning

from aggregator.frames import map_distinct
from aggregator.urls import PLAIN_URL

WHITESPACE = re.compile(r"\s+")
NON_ALNUM = re.compile(r"[^0-9a-z]+")
# Combining diacritical marks, left alone by NFKD next to their base letter ("e" + U+0301).
COMBINING_RE = re.compile("[\u0300-\u036f]")
COMBINING_RE2 = "[\\x{0300}-\\x{036f}]+"  # the same class in RE2 syntax, for pyarrow
TAG = re.compile(r"<[A-Za-z/!][^>]*>")
JUNK = re.compile(r"[&<>]")
TRACKING = re.compile(r"^(utm_[a-z]+|fbclid|gclid|mc_cid|mc_eid|xtor|_hs(enc|mi))$", re.IGNORECASE)


def clean_text(value: object) -> str | None:
    """Return ``value`` as one line of plain text, or None when nothing is left.

    HTML tags are removed (block elements become spaces), entities decoded, the result put in
    Unicode NFC with runs of whitespace (including no-break spaces) collapsed to one space.
    Idempotent: ``clean_text(clean_text(x)) == clean_text(x)``.
    """
    if value is None:
        return None
    text = str(value)
    return text if _is_clean(text) else _clean(text)


# Text fields longer than this are cut (with "…") by normalisation; a 10 MB title must not make a
# 10 MB report. Generous: the longest real values seen are far shorter.
MAX_LENGTHS = {
    "title": 300, "description": 10_000, "venue_name": 300, "street_address": 300, "city": 150,
    "organizer": 300, "keywords": 1_000, "when": 2_000, "uid": 500,
}  # fmt: skip
# Markup hidden under entities ("&amp;lt;b&amp;gt;") is decoded and stripped again, this many times at most.
MAX_PASSES = 8


# Characters a text made only of (single spaces between words, none at the ends) is clean as it
# is: printable, in NFC whatever their neighbours (no combining mark, no pair composes), neither
# markup ("<", ">", "&") nor whitespace. The letters and typography of French text; a text with any
# other character is read by ``clean_text`` itself.
_PLAIN = "!-%'-;=?-~\\x{A1}-\\x{AC}\\x{AE}-\\x{17F}\\x{2010}-\\x{2022}\\x{2026}\\x{20AC}"
CLEAN_AS_IT_IS = f"^[{_PLAIN}]+(?: [{_PLAIN}]+)*$"  # RE2, for pyarrow


def clean_column(values: pd.Series, longest: int) -> pd.Series:
    """``clean_text`` of each value, cut to ``longest`` characters first; missing values are None.

    Most values are clean already: Arrow finds them over the whole column (``CLEAN_AS_IT_IS``), and
    only the others are cleaned, once per distinct value (cleaning costs time in a text's length:
    ``longest`` bounds it).

    Args:
        values: Text (or None), e.g. a column of raw records.
        longest: Values longer than this are cut to it before they are cleaned.

    Returns:
        The cleaned values, aligned with ``values`` (object dtype).
    """
    try:
        text = pa.array(values.to_numpy(dtype=object), type=pa.large_string(), from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # not only text: every value read by ``clean_text``
        return map_distinct(values, lambda value: _clean_bounded(value, longest))
    as_it_is = pc.and_(pc.match_substring_regex(text, CLEAN_AS_IT_IS), pc.less_equal(pc.utf8_length(text), longest))
    keep = np.asarray(as_it_is.fill_null(False).to_numpy(zero_copy_only=False), dtype=bool)
    rest = ~keep & np.asarray(text.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
    out = values.to_numpy(dtype=object, copy=True)
    out[~keep] = None
    if rest.any():
        out[rest] = map_distinct(values[rest], lambda value: _clean_bounded(value, longest)).to_numpy()
    return pd.Series(out, index=values.index, dtype="object")


def _clean_bounded(value: object, longest: int) -> str | None:
    if isinstance(value, str) and len(value) > longest:
        value = value[:longest]
    return clean_text(value)


def _strip_tags(text: str) -> str:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MarkupResemblesLocatorWarning)
        soup = BeautifulSoup(text, "html.parser")
    for hidden in soup(["script", "style", "template"]):  # code, not text
        hidden.decompose()
    return soup.get_text(" ")


def _clean(text: str) -> str | None:
    # Markup may hide under entities ("&lt;script&gt;"): decoding reveals it, so tags are stripped
    # again after each decoding, until the text no longer changes. Each pass decodes one level:
    # past MAX_PASSES the text is deliberate junk ("&amp;amp;amp;…"), and its markup characters
    # are dropped, so that the result is final (cleaning it again changes nothing).
    for _ in range(MAX_PASSES):
        text = _normal(_strip_tags(text) if TAG.search(text) else text)
        decoded = html.unescape(text)
        if decoded == text and not TAG.search(text):
            break
        text = decoded
    else:
        text = _normal(JUNK.sub(" ", text))
    return text or None


def _normal(text: str) -> str:
    text = unicodedata.normalize("NFC", text)
    spaced = WHITESPACE.sub(" ", text)
    if spaced.isprintable():  # only whitespace was not printable (line breaks, tabs, no-break spaces)
        return spaced.strip()
    text = "".join(ch if ch.isprintable() or ch.isspace() else " " for ch in text)
    return WHITESPACE.sub(" ", text).strip()


def truncate(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, the last one "…", at a word boundary when one is near."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit * 0.8:
        cut = cut[:space]
    return cut.rstrip() + "…"


def _is_clean(text: str) -> bool:
    # Most values are already clean: one printable line (no tab, newline or no-break space, which
    # are not "printable"), no markup or entity, single spaces, in NFC. Checked at C speed.
    return (
        text.isprintable()
        and "<" not in text
        and "&" not in text
        and "  " not in text
        and text[:1] != " "
        and text[-1:] != " "
        and bool(text)
        and unicodedata.is_normalized("NFC", text)
    )


def fold(value: object) -> str:
    """Comparison key: accents removed, lowercase, punctuation as spaces, whitespace collapsed.

    Every character that is not an ASCII letter or digit once its accents are removed separates
    words, typographic apostrophes included: ``fold("L’Atelier") == fold("L'atelier") == "l atelier"``.
    ``fold_strings`` is the same function on a whole column.
    """
    if not isinstance(value, str) or not value:
        return ""
    text = value.lower().replace("œ", "oe").replace("æ", "ae").replace("ß", "ss")
    plain = COMBINING_RE.sub("", unicodedata.normalize("NFKD", text))
    return " ".join(NON_ALNUM.sub(" ", plain).split())


def fold_strings(values: pa.Array | pa.ChunkedArray) -> pa.ChunkedArray:
    """``fold`` on a whole Arrow string column, at C speed (missing values become ``""``).

    Args:
        values: Strings, possibly with nulls.

    Returns:
        The folded strings, same length.
    """
    text = pc.utf8_lower(pc.fill_null(values.cast(pa.large_string()), ""))
    for letter, spelled in (("œ", "oe"), ("æ", "ae"), ("ß", "ss")):
        text = pc.replace_substring(text, letter, spelled)
    text = pc.replace_substring_regex(pc.utf8_normalize(text, "NFKD"), COMBINING_RE2, "")
    text = pc.utf8_trim(pc.replace_substring_regex(text, "[^0-9a-z]+", " "), " ")
    return pa.chunked_array([text]) if isinstance(text, pa.Array) else text


def fold_column(values: pd.Series) -> pa.ChunkedArray:
    """``fold`` of each value, computed once per distinct value; missing or empty results are null.

    Args:
        values: Strings (or None), e.g. a listings column.

    Returns:
        Folded strings aligned with ``values``, ready for ``join_words`` and RE2 matching.
    """
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    folded = fold_strings(pa.array(np.asarray(uniques, dtype=object), pa.large_string())).combine_chunks()
    folded = pc.if_else(pc.equal(folded, ""), pa.scalar(None, pa.large_string()), folded)
    return pa.chunked_array([folded.take(pa.array(codes, mask=codes < 0))], pa.large_string())


def join_words(*parts: pa.ChunkedArray) -> pa.ChunkedArray:
    """Folded parts joined by one space, missing parts skipped: ``fold`` of the joined originals."""
    # Not null_handling="skip": pyarrow 26 drops the rows where every part is null with it.
    joined = pc.binary_join_element_wise(*(pc.fill_null(p, "") for p in parts), pa.scalar(" ", pa.large_string()))
    while pc.any(pc.match_substring(joined, "  ")).as_py():  # the gaps left by empty parts
        joined = pc.replace_substring(joined, "  ", " ")
    return pc.utf8_trim(joined, " ")


def clean_url(value: str | None) -> str | None:
    """Strip whitespace and tracking parameters (utm_*, fbclid, ...) from an http(s) URL."""
    if not value:
        return None
    value = value.strip()
    if PLAIN_URL.fullmatch(value) and "/." not in value:  # nothing to remove: as it is
        return value
    parsed = urlparse(value)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        return None
    query = [(k, v) for k, v in parse_qsl(parsed.query, keep_blank_values=True) if not TRACKING.match(k)]
    return urlunparse(parsed._replace(query=urlencode(query), fragment=parsed.fragment))


PLACE_WORDS = {"st": "saint", "ste": "sainte", "sts": "saints", "stes": "saintes"}


def place_key(value: object) -> str:
    """Key to compare place names: folded, 'St'/'Ste' spelled out, leading article and 'Cedex' dropped.

    ``place_key("St-Emilion") == place_key("Saint-Émilion") == "saint emilion"``;
    ``place_key("Bordeaux Cedex 9") == "bordeaux"``. ``place_keys`` is the same function on a column.
    """
    return _place_words(fold(value))


def place_keys(values: pd.Series) -> pd.Series:
    """``place_key`` of each value, once per distinct value, folded by Arrow; missing values stay None.

    Args:
        values: Place names (or None), e.g. a listings' cities.

    Returns:
        Keys aligned with ``values`` (object dtype), as ``map_distinct(values, place_key)`` gives them.
    """
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    names = np.asarray(uniques, dtype=object).tolist()
    if not all(isinstance(name, str) for name in names):  # Arrow folds text only
        return map_distinct(values, place_key)
    folded = fold_strings(pa.array(names, pa.large_string())).to_pylist()
    keys = np.array([*(_place_words(f) for f in folded), None], dtype=object)
    return pd.Series(keys[codes], index=values.index, dtype="object")


def _place_words(folded: str) -> str:
    words = folded.split()
    if words and words[0] in ("l", "le", "la", "les") and len(words) > 1:
        words = words[1:]
    while len(words) > 1 and (words[-1] == "cedex" or (words[-1].isdigit() and words[-2] == "cedex")):
        words = words[:-1] if words[-1] == "cedex" else words[:-2]
    return " ".join(PLACE_WORDS.get(w, w) for w in words)
