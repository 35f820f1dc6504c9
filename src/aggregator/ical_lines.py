"""The published calendars' VEVENTs written as icalendar writes them, without its per-property objects."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from aggregator import reference

# icalendar's Event.canonical_order; the other properties follow in alphabetical order.
CANONICAL = ("SUMMARY", "DTSTART", "DTEND", "DURATION", "DTSTAMP", "UID")
TEXT = {"SUMMARY", "DESCRIPTION", "LOCATION", "UID", "STATUS"}
MOMENTS = {"DTSTART", "DTEND", "DTSTAMP", "CREATED", "LAST-MODIFIED"}


@cache
def zones() -> frozenset[str]:
    """Zones written as ``TZID=<key>``: the départements' (``reference``).

    Any other (UTC and its aliases, which the library writes with a Z) sends the event to the library.
    """
    return frozenset(str(zone) for zone in reference.departements()["timezone"].dropna())


class _UnknownShapeError(Exception):
    """A value of a shape this module does not write: the library writes the event."""


def escape(text: str) -> str:
    r"""TEXT escaping as icalendar does it (``\N`` read as a newline; CR LF, LF and CR as ``\n``)."""
    return (
        text.replace(r"\N", "\n")
        .replace("\\", "\\\\")
        .replace(";", r"\;")
        .replace(",", r"\,")
        .replace("\r\n", r"\n")
        .replace("\n", r"\n")
        .replace("\r", r"\n")
    )


def fold(line: str) -> str:
    r"""A content line folded as icalendar folds it: at most 74 octets a line, no UTF-8 sequence cut.

    Like the library, a fold never leaves a ``\`` or ``^`` last on a line (it moves to the next), so
    that an escape is never cut.
    """
    size = len(line) if line.isascii() else len(line.encode("utf-8"))
    if size < 75:
        return line
    widths = None if size == len(line) else [len(ch.encode("utf-8")) for ch in line]
    parts, start, count = [], 0, 0
    for i in range(len(line)):
        width = 1 if widths is None else widths[i]
        if i > start and count + width >= 75:
            if i - start > 1 and line[i - 1] in "\\^":
                parts.append(line[start : i - 1])
                start, count = i - 1, 1 if widths is None else widths[i - 1]
            else:
                parts.append(line[start:i])
                start, count = i, 0
        count += width
    parts.append(line[start:])
    return "\r\n ".join(parts)


def _moment(value: Any) -> tuple[str, str]:
    """(parameters, value) of a DATE or an aware DATE-TIME, seconds kept and microseconds dropped."""
    if isinstance(value, datetime):
        text = f"{value.year:04}{value.month:02}{value.day:02}T{value.hour:02}{value.minute:02}{value.second:02}"
        # UTC as datetime gives it, or as ZoneInfo("UTC") (pandas' zone for times read back from Parquet).
        if value.tzinfo is UTC or (isinstance(value.tzinfo, ZoneInfo) and value.tzinfo.key == "UTC"):
            return "", text + "Z"
        if isinstance(value.tzinfo, ZoneInfo) and value.tzinfo.key in zones():
            return f";TZID={value.tzinfo.key}", text
        raise _UnknownShapeError(f"time zone {value.tzinfo!r}")
    if isinstance(value, date):
        return ";VALUE=DATE", f"{value.year:04}{value.month:02}{value.day:02}"
    raise _UnknownShapeError(type(value).__name__)


def _line(name: str, value: Any) -> str:
    params = ""
    if name in TEXT and isinstance(value, str):
        text = escape(value)
    elif name in MOMENTS:
        params, text = _moment(value)
    elif name == "URL" and isinstance(value, str) and "\r" not in value and "\n" not in value:
        text = value  # a URI: the library writes it as given (and refuses CR and LF)
    elif name == "CATEGORIES" and isinstance(value, list) and all(isinstance(v, str) for v in value):
        text = ",".join(escape(v) for v in value)
    elif name == "GEO" and isinstance(value, tuple) and all(type(v) is float for v in value):
        text = f"{value[0]};{value[1]}"
    else:
        raise _UnknownShapeError(name)
    # The library decodes each value's bytes as "utf-8-sig": one leading U+FEFF goes.
    return fold(f"{name}{params}:{text.removeprefix(chr(0xFEFF))}")


def vevent(properties: Sequence[tuple[str, Any]]) -> bytes | None:
    """The VEVENT of ``properties`` (name, value as given to ``Event.add``) as ``Event.to_ical`` writes it.

    None when a value has a shape this module does not write (a time zone outside ``zones()``, a
    naive time, another property): the caller asks the library. A differential test holds the
    bytes equal to the library's.
    """
    names = [name.upper() for name, _ in properties]
    if len(set(names)) != len(names):
        return None
    rank = {name: i for i, name in enumerate(CANONICAL)}
    ordered = sorted(zip(names, (v for _, v in properties), strict=True),
                     key=lambda item: (rank.get(item[0], len(CANONICAL)), item[0]))  # fmt: skip
    try:
        lines = [_line(name, value) for name, value in ordered]
        return ("BEGIN:VEVENT\r\n" + "\r\n".join(lines) + "\r\nEND:VEVENT\r\n").encode("utf-8")
    except (_UnknownShapeError, UnicodeEncodeError):
        return None
