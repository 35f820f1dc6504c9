"""Decode bytes as browsers do: BOM, then the HTTP header, then ``<meta charset>``, then sniffing."""

from __future__ import annotations

import codecs
import re

from bs4.dammit import EncodingDetector

# WHATWG: labels that browsers read as windows-1252.
WINDOWS_1252_LABELS = {"iso-8859-1", "iso8859-1", "latin1", "latin-1", "us-ascii", "ascii", "l1", "cp819"}
BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
META = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_.:-]+)""", re.IGNORECASE)


def _label(name: str | None) -> str | None:
    if not name:
        return None
    name = name.strip().lower()
    if name in WINDOWS_1252_LABELS:
        return "windows-1252"
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def _is_utf8(content: bytes) -> bool:
    try:
        content.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def detect_encoding(content: bytes, declared: str | None = None, markup: bool = True) -> str:
    """The encoding to decode ``content`` with.

    Order: a byte-order mark; the charset declared by the HTTP header (unless the bytes contradict
    it: valid non-ASCII UTF-8 under a single-byte header, or invalid UTF-8 under "utf-8"); for markup, a
    ``<meta charset>`` in the first 4 KiB; UTF-8 when the bytes are valid UTF-8; else windows-1252,
    the usual encoding of French pages that declare nothing.
    """
    for bom, name in BOMS:
        if content.startswith(bom):
            return name
    header = _label(declared)
    if header:
        # A header that contradicts the bytes is a server misconfiguration seen often: text that
        # is valid UTF-8 with accented letters is UTF-8 whatever a single-byte header says (French
        # windows-1252 text is essentially never valid UTF-8), and a "utf-8" header on bytes that
        # are not UTF-8 is wrong too.
        utf8 = _is_utf8(content)
        if header == "windows-1252" or header.startswith(("iso8859", "latin")):
            return "utf-8" if utf8 and not content.isascii() else header
        if header == "utf-8" and not utf8:
            return "windows-1252"
        return header
    if markup:
        match = META.search(content[:4096])
        if match and _label(match.group(1).decode("ascii", "ignore")):
            return _label(match.group(1).decode("ascii", "ignore")) or "utf-8"
        sniffed = EncodingDetector.find_declared_encoding(content[:4096], is_html=True)
        if sniffed and _label(sniffed):
            return _label(sniffed) or "utf-8"
    try:
        content.decode("utf-8")
    except UnicodeDecodeError:
        return "windows-1252"
    return "utf-8"


def decode(content: bytes, declared: str | None = None, markup: bool = True) -> str:
    """Decode ``content`` with ``detect_encoding``; undecodable bytes become U+FFFD, never an error."""
    encoding = detect_encoding(content, declared, markup)
    return content.decode(encoding, errors="replace").removeprefix("\ufeff")
