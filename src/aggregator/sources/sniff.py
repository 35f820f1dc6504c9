"""What a downloaded file looks like ("an HTML page", "JSON: an object with keys …"), for wrong-format errors.

A source pointed at a file of another format (an HTML error page where JSON was expected, a JSON
export where iCalendar was expected) is reported in one line naming the kind, what it expects and
what was found, never with the content itself.
"""

from __future__ import annotations

import json
import re
from typing import Any

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from aggregator.gc_policy import gc_paused
from aggregator.sources.base import ParseError

_MAGIC = {b"%PDF": "a PDF document", b"PK\x03\x04": "a ZIP archive (an .xlsx or .ods file?)", b"\x1f\x8b": "gzip data"}
# The first element (or HTML doctype) of a markup file; the XML prolog, comments and other doctypes skipped.
_TAG = re.compile(rb"<\s*(!doctype\s+html|[a-z][\w:-]*)", re.IGNORECASE)


def _json_shape(data: Any) -> str:
    if isinstance(data, dict):
        keys = ", ".join(sorted(str(k) for k in data)[:6]) + (", …" if len(data) > 6 else "")
        return f"JSON: an object with keys {keys}" if data else "JSON: an empty object"
    if isinstance(data, list):
        return f"JSON: a list of {len(data)} item{'s' if len(data) != 1 else ''}"
    return f"JSON: a single {type(data).__name__}"


def describe(content: bytes) -> str:
    """A short description of what ``content`` is, never quoting it."""
    head = content[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if not head:
        return "an empty file"
    for magic, what in _MAGIC.items():
        if head.startswith(magic):
            return what
    if head[:1] in (b"{", b"["):
        try:
            return _json_shape(json.loads(content))
        except (UnicodeDecodeError, json.JSONDecodeError):
            return "text that starts like JSON but is not valid JSON"
    if head.upper().startswith(b"BEGIN:VCALENDAR"):
        return "an iCalendar file"
    tag = _TAG.search(head)
    if head.startswith(b"<") and tag:
        name = tag.group(1).lower()
        if name.startswith((b"!doctype html", b"html")):
            return "an HTML page"
        if name in (b"rss", b"rdf:rdf"):
            return "an RSS feed"
        if name == b"feed":
            return "an Atom feed"
        return "an XML document"
    if b"\x00" in head:
        return "binary data"
    first_line = head.split(b"\n", 1)[0]
    if any(first_line.count(sep) >= 2 for sep in (b";", b",", b"\t")):
        return "delimited text (CSV)"
    return "plain text"


def wrong_format(url: str, kind: str, expected: str, content: bytes) -> ParseError:
    """The error for a file of another format: ``<url>: the <kind> kind reads <expected>; found <what>``."""
    return ParseError(f"{url}: the {kind} kind reads {expected}; found {describe(content)}")


def loads(content: bytes) -> Any:
    """``json.loads(content)``, by orjson (about twice as fast) wherever it gives the same objects.

    orjson reads an integer past 64 bits as a float, so a document with a run of 19 digits (found
    by RE2 over the bytes, without a copy) goes to ``json``; so does one orjson refuses (NaN, a byte
    order mark, UTF-16, a lone surrogate escape), which ``json`` reads or refuses as it always did.
    """
    if not _has_long_number(content):
        try:
            return orjson.loads(content)
        except orjson.JSONDecodeError:
            pass
    return json.loads(content)


def _has_long_number(content: bytes) -> bool:
    offsets = pa.py_buffer(np.array([0, len(content)], dtype=np.int64).tobytes())
    whole = pa.LargeBinaryArray.from_buffers(pa.large_binary(), 1, [None, offsets, pa.py_buffer(content)])
    return bool(pc.match_substring_regex(whole, "[0-9]{19}")[0].as_py())


def load_json(content: bytes, url: str, kind: str, expected: str) -> Any:
    """Parse JSON, or raise ``wrong_format`` naming what the file is instead.

    Args:
        content: The downloaded bytes.
        url: Where they came from (for the message).
        kind: The source kind reading them.
        expected: What the kind reads, e.g. "an OpenAgenda API v2 response (JSON)".
    """
    try:
        with gc_paused():  # a parsed document holds no reference cycle
            return loads(content)
    except UnicodeDecodeError:
        pass  # bytes that are not UTF-8 in some values: read below, each bad byte as U+FFFD
    except json.JSONDecodeError:
        raise wrong_format(url, kind, expected, content) from None
    try:
        # One record with a stray byte must not fail the whole source: only its text shows "�".
        return json.loads(content.decode(json.detect_encoding(content), errors="replace"))
    except json.JSONDecodeError:
        raise wrong_format(url, kind, expected, content) from None
