"""Text cleaning: HTML to plain text, entities decoded, Unicode NFC, whitespace collapsed."""

from __future__ import annotations

import html
import re
import unicodedata
import warnings
from urllib.parse import parse_qsl, urlencode, urlparse, urlunparse

from bs4 import BeautifulSoup, MarkupResemblesLocatorWarning

WHITESPACE = re.compile(r"\s+")
NON_ALNUM = re.compile(r"[^0-9a-z]+")
TAG = re.compile(r"<[A-Za-z/!][^>]*>")
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
    if TAG.search(text):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", MarkupResemblesLocatorWarning)
            text = BeautifulSoup(text, "html.parser").get_text(" ")
    # Decoding may reveal markup written as entities ("&lt;b&gt;"): it stays as text, by design.
    text = html.unescape(text)
    text = unicodedata.normalize("NFC", text)
    text = "".join(ch if ch.isprintable() or ch.isspace() else " " for ch in text)
    text = WHITESPACE.sub(" ", text).strip()
    if not text:
        return None
    # A second pass makes the function idempotent on text whose unescaping produced new entities.
    again = html.unescape(text)
    if again != text:
        return clean_text(again)
    return text


def fold(value: object) -> str:
    """Comparison key: accents removed, lowercase, punctuation as spaces, whitespace collapsed."""
    if not isinstance(value, str) or not value:
        return ""
    # Everything that is not an ASCII letter or digit ends up a space, so dropping non-ASCII after
    # the decomposition (C speed) is the same as filtering combining marks one by one.
    text = value.casefold().replace("œ", "oe").replace("æ", "ae")
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return " ".join(NON_ALNUM.sub(" ", plain).split())


def clean_url(value: str | None) -> str | None:
    """Strip whitespace and tracking parameters (utm_*, fbclid, ...) from an http(s) URL."""
    if not value:
        return None
    value = value.strip()
    parsed = urlparse(value)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        return None
    query = [(k, v) for k, v in parse_qsl(parsed.query, keep_blank_values=True) if not TRACKING.match(k)]
    return urlunparse(parsed._replace(query=urlencode(query), fragment=parsed.fragment))


PLACE_WORDS = {"st": "saint", "ste": "sainte", "sts": "saints", "stes": "saintes"}


def place_key(value: object) -> str:
    """Key to compare place names: folded, 'St'/'Ste' spelled out, leading article and 'Cedex' dropped.

    ``place_key("St-Emilion") == place_key("Saint-Émilion") == "saint emilion"``;
    ``place_key("Bordeaux Cedex 9") == "bordeaux"``.
    """
    words = fold(value).split()
    if words and words[0] in ("l", "le", "la", "les") and len(words) > 1:
        words = words[1:]
    while len(words) > 1 and (words[-1] == "cedex" or (words[-1].isdigit() and words[-2] == "cedex")):
        words = words[:-1] if words[-1] == "cedex" else words[:-2]
    return " ".join(PLACE_WORDS.get(w, w) for w in words)
