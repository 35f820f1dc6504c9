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


def detect_encoding(content: bytes, declared: str | None = None, markup: bool = True) -> str:
    """The encoding to decode ``content`` with.

    Order: a byte-order mark; the charset declared by the HTTP header; for markup, a
    ``<meta charset>`` in the first 4 KiB; UTF-8 when the bytes are valid UTF-8; else windows-1252,
    the usual encoding of French pages that declare nothing.
    """
    for bom, name in BOMS:
        if content.startswith(bom):
            return name
    for candidate in (_label(declared),):
        if candidate:
            return candidate
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
