"""What a downloaded file looks like ("an HTML page", "JSON: an object with keys …"), for wrong-format errors.

A source pointed at a file of another format (an HTML error page where JSON was expected, a JSON
export where iCalendar was expected) is reported in one line naming the kind, what it expects and
what was found, never with the content itself.
"""

from __future__ import annotations

import json
import re
from typing import Any

from aggregator.sources.base import ParseError, gc_paused

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
            return json.loads(content)
    except UnicodeDecodeError:
        pass  # bytes that are not UTF-8 in some values: read below, each bad byte as U+FFFD
    except json.JSONDecodeError:
        raise wrong_format(url, kind, expected, content) from None
    try:
        # One record with a stray byte must not fail the whole source: only its text shows "�".
        return json.loads(content.decode(json.detect_encoding(content), errors="replace"))
    except json.JSONDecodeError:
        raise wrong_format(url, kind, expected, content) from None
