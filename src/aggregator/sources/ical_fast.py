"""Fast reading of the common iCalendar shapes; anything unusual is left to the icalendar library."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from functools import cache, lru_cache
from json.encoder import encode_basestring
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from icalendar import Calendar
from icalendar.prop import vDuration

from aggregator.gc_policy import gc_paused
from aggregator.records import Record, to_text

STATUS = {"CANCELLED": "cancelled", "TENTATIVE": "scheduled", "CONFIRMED": "scheduled"}
# Properties read from a VEVENT; any other is ignored, as the library path ignores it.
READ = {"UID", "SUMMARY", "DESCRIPTION", "URL", "STATUS", "DTSTART", "DTEND", "DURATION", "LOCATION",
        "ORGANIZER", "GEO", "CATEGORIES"}  # fmt: skip
# What the fast path does not know: recurrence (expanded by recurring_ical_events), and times given
# in another way than UTC, floating, a date or an IANA TZID.
RECURRENCE = {"RRULE", "RDATE", "EXDATE", "RECURRENCE-ID"}
_UNFOLD = re.compile(r"\r?\n[ \t]")
_DATE = re.compile(r"(\d{4})(\d\d)(\d\d)")
_DATETIME = re.compile(r"(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)(Z?)")
_TEXT_ESCAPES = re.compile(r"\\([\\;,nN])")


class UnusualShapeError(Exception):
    """The file has a shape the fast path leaves to the library."""


@cache
def _zone(name: str) -> ZoneInfo:
    if name not in _iana():
        raise UnusualShapeError(f"TZID {name!r}")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise UnusualShapeError(f"TZID {name!r}") from None


@cache
def _iana() -> frozenset[str]:
    return frozenset(available_timezones())


def _unescape(value: str) -> str:
    if "\\" not in value:
        return value
    if "\\\\" not in value:  # no escaped backslash: each escape alone, and no replacement makes another
        return value.replace("\\n", "\n").replace("\\N", "\n").replace("\\,", ",").replace("\\;", ";")
    return _TEXT_ESCAPES.sub(lambda m: "\n" if m.group(1) in "nN" else m.group(1), value)


_LINE = re.compile(r'([A-Za-z0-9-]+)((?:;[A-Za-z0-9-]+=(?:"[^"]*"|[^";:]*))*):(.*)', re.DOTALL)
_NAME = re.compile(r"[A-Za-z0-9-]+")
_PARAM = re.compile(r';([A-Za-z0-9-]+)=("[^"]*"|[^";:]*)')


@lru_cache(maxsize=4096)
def _params(raw: str) -> dict[str, str]:
    """The parameters of a property (read-only: one dict per distinct text, shared by its lines)."""
    return {k.upper(): v[1:-1] if v.startswith('"') else v for k, v in _PARAM.findall(raw)}


def _split(line: str) -> tuple[str, dict[str, str], str]:
    """``NAME;PARAM=v;P2="q":value`` -> name, params, value (quoted parameter values may hold ':' and ';')."""
    colon = line.find(":")
    if colon > 0 and line.find(";", 0, colon) == -1:  # no parameters: most lines
        return line[:colon].upper(), {}, line[colon + 1 :]
    match = _LINE.fullmatch(line)
    if match is None:
        raise UnusualShapeError(f"content line {line[:40]!r}")
    name, raw_params, value = match.groups()
    params = (
        {k.upper(): v[1:-1] if v.startswith('"') else v for k, v in _PARAM.findall(raw_params)} if raw_params else {}
    )
    return name.upper(), params, value


def _when(value: str, params: dict[str, str]) -> tuple[date | datetime, str]:
    """A DATE or DATE-TIME as the library decodes it (dates, UTC, floating or zoned), and its ISO text."""
    if params and any(key not in ("TZID", "VALUE") for key in params):
        raise UnusualShapeError("date parameters")
    return _moment(value, params.get("TZID"), params.get("VALUE"))


# Keyed by the texts, never by the datetime: aware datetimes of one instant in two zones are equal.
@lru_cache(maxsize=65536)
def _moment(value: str, tzid: str | None, value_type: str | None) -> tuple[date | datetime, str]:
    """``_when`` for one (value, TZID, VALUE): big calendars repeat their times, decoded once each."""
    moment: date | datetime
    if (value_type or ("DATE-TIME" if "T" in value else "DATE")).upper() == "DATE":
        match = _DATE.fullmatch(value)
        if not match:
            raise UnusualShapeError("date value")
        moment = date(int(match[1]), int(match[2]), int(match[3]))
        return moment, moment.isoformat()
    match = _DATETIME.fullmatch(value)
    if not match:
        raise UnusualShapeError("date-time value")
    year, month, day, hour, minute, second = (int(match[i]) for i in range(1, 7))
    moment = datetime(year, month, day, hour, minute, second)
    if match[7]:
        moment = moment.replace(tzinfo=ZoneInfo("UTC"))
    elif tzid is not None:
        moment = moment.replace(tzinfo=_zone(tzid))
    return moment, moment.isoformat()


# Case-sensitive patterns (several times faster); a file with lower-case names goes to the library.
# The two that scan the whole file begin with a newline instead of ``^`` (they run on the text with
# one put in front): ``re`` then jumps from newline to newline instead of trying a match at every
# character, two to three times faster on a 48 MB calendar.
_FLAGS = re.MULTILINE
_LOWER_NAME = re.compile(r"\n(?:[A-Z0-9-]*[a-z][A-Za-z0-9-]*[;:]|(?:BEGIN|END):[^\r\n]*[a-z])")
# A nested component (VALARM, VTIMEZONE…): its BEGIN and END lines are exact (``_vevent_spans`` checked).
_NESTED = re.compile(r"^BEGIN:([A-Z0-9-]+)\r?$.*?^END:\1\r?$", _FLAGS | re.DOTALL)
# Every BEGIN and END line; a name with anything else on its line (a space: the library then reads
# another component) sends the file to the library.
_BEGIN_END = re.compile(r"\n(BEGIN|END):([^\n]*)")
_COMPONENT = re.compile(r"[A-Z0-9-]+\r?")
# name, parameters (quoted values may hold ':' and ';'), value: the properties read, in one C-speed pass.
# A line that starts with a property read but that the strict form cannot read (group 4) sends the
# file to the library: one pass reads the properties and checks them.
_PROPERTY = re.compile(
    rf"^({'|'.join(sorted(READ | RECURRENCE))})(?=[;:])"
    r'(?:((?:;[A-Za-z0-9-]+=(?:"[^"\r\n]*"|[^";:\r\n]*))*):([^\r\n]*)|([^\r\n]+))',
    _FLAGS,
)
_STARTS_CALENDAR = re.compile(r"\s*BEGIN:VCALENDAR", re.IGNORECASE)
_WR_TIMEZONE = re.compile(r"^X-WR-TIMEZONE[;:][^\r\n]*", _FLAGS)
Properties = dict[str, list[tuple[dict[str, str], str]]]


def _events(text: str) -> tuple[list[tuple[Properties, str]], str | None]:
    """The VEVENTs (properties read, by name; their original lines) and the calendar's X-WR-TIMEZONE.

    Regular expressions find the component lines and, in each VEVENT, the properties read, so that
    the lines nobody reads cost nothing; a structure they would misread is ``UnusualShapeError``.
    """
    # Unfolding: CRLF (or LF) then one space or tab (RFC 5545 3.1); str.replace is ten times a regex.
    text = text.replace("\r\n ", "").replace("\r\n\t", "")
    if "\n " in text or "\n\t" in text:
        text = _UNFOLD.sub("", text)
    lined = "\n" + text  # every line, the first one too, after a newline (see the patterns)
    if _LOWER_NAME.search(lined):
        raise UnusualShapeError("lower-case names")
    if not _STARTS_CALENDAR.match(text) or text.rstrip()[-13:].upper() != "END:VCALENDAR":
        raise UnusualShapeError("content outside VCALENDAR")
    blocks = _vevent_spans(_BEGIN_END.finditer(lined))
    events: list[tuple[Properties, str]] = []
    outside = []
    last = 1
    properties = _PROPERTY.findall  # bound once: this loop runs once per event
    no_params: dict[str, str] = {}
    for start, body_start, body_end, end in blocks:
        outside.append(lined[last:start])
        last = end
        body = lined[body_start:body_end]
        own = _NESTED.sub("", body) if "BEGIN:" in body else body  # VALARM & co: not the event's
        props: Properties = {}
        for name, raw_params, value, unread in properties(own):
            if unread:
                raise UnusualShapeError("a property line the pattern cannot read")
            if name in RECURRENCE:
                raise UnusualShapeError("recurrence")
            entry = (_params(raw_params) if raw_params else no_params, value)
            if name in props:
                if name != "CATEGORIES":
                    raise UnusualShapeError("a property given twice")  # the library makes a list of it
                props[name].append(entry)
            else:
                props[name] = [entry]
        events.append((props, lined[start:end]))
    outside.append(lined[last:])
    calendar = "".join(outside)
    _check_outside_events(calendar)
    top = _NESTED.sub("", calendar.replace("BEGIN:VCALENDAR", "", 1))  # VTIMEZONE & co left out
    zones = _WR_TIMEZONE.findall(top)
    if len(zones) > 1:
        raise UnusualShapeError("several X-WR-TIMEZONE")
    default_tz = _unescape(_split(zones[-1])[2]) if zones else None
    return events, default_tz


def _check_outside_events(calendar: str) -> None:
    """Raise ``UnusualShapeError`` when the library refuses what the calendar holds besides its VEVENTs.

    The library reads every value of the calendar's own properties and of its other components
    (VTIMEZONE, VTODO…), and refuses the whole file when one is broken (a ``DTSTAMP`` that is not a
    date), whereas the fast path reads none of them. They are few lines (``calendar``: the file
    without its VEVENTs), so the library reads them itself. Not done for the VALARMs of the events
    (there may be one per event, and the library takes about 0.2 ms to read one): a broken value
    there is the one case where the library refuses a file that the fast path reads.
    """
    try:
        Calendar.from_ical(calendar)
    except Exception as exc:  # the library raises ValueError and others on what it refuses
        raise UnusualShapeError(f"outside the events ({exc})") from None


def _vevent_spans(markers: Iterator[re.Match[str]]) -> list[tuple[int, int, int, int]]:
    """Where each VEVENT is: its BEGIN line's start, its body's start and end, its END line's end.

    ``markers`` are the BEGIN and END lines of the text with a newline in front (``_BEGIN_END``):
    one VCALENDAR, each component ended by the END of its own name, VEVENTs directly in the calendar.
    The body runs from the newline ending the BEGIN line to the one starting the END line, both kept.
    """
    stack: list[str] = []
    spans: list[tuple[int, int, int, int]] = []
    opened = (0, 0)
    calendars = 0
    for marker in markers:
        kind, name = marker.group(1), marker.group(2)
        if not _COMPONENT.fullmatch(name):
            raise UnusualShapeError(f"component line {marker.group(0)[1:40]!r}")
        name = name.removesuffix("\r")
        if kind == "BEGIN":
            if not stack:
                calendars += 1
                if name != "VCALENDAR" or calendars > 1:  # the library refuses a second calendar
                    raise UnusualShapeError("not one VCALENDAR")
            elif name == "VCALENDAR" or (name == "VEVENT" and len(stack) != 1):
                raise UnusualShapeError("a nested VCALENDAR or VEVENT")
            if name == "VEVENT":
                opened = (marker.start() + 1, marker.end())
            stack.append(name)
        else:
            if not stack or stack.pop() != name:
                raise UnusualShapeError("unbalanced components")
            if name == "VEVENT":
                spans.append((opened[0], opened[1], marker.start() + 1, marker.end()))
    if stack or not calendars:
        raise UnusualShapeError("unbalanced components")
    return spans


_ITEM = re.compile(r"(?:[^,\\]|\\.)*")


def _commas(value: str) -> list[str]:
    """A list value's items, split at the commas no backslash escapes."""
    if "\\" not in value:
        return value.split(",")
    items, start = [], 0
    for match in _ITEM.finditer(value):
        if match.start() == start:
            items.append(match.group())
            start = match.end() + 1
    return items


def _text(props: dict[str, list[tuple[dict[str, str], str]]], name: str) -> str | None:
    values = props.get(name)  # one at most: ``_events`` refuses a repeated property
    return _unescape(values[0][1]) if values else None


def _record(props: dict[str, list[tuple[dict[str, str], str]]], default_tz: str | None) -> Record:
    """One event's record; ``_read`` has checked that no property but CATEGORIES is repeated."""
    get = props.get
    start_params, start_value = props["DTSTART"][0]
    start, start_iso = _when(start_value, start_params)
    categories = [_unescape(word) for _, value in get("CATEGORIES", ()) for word in _commas(value)]
    url = get("URL")
    record: Record = {
        "uid": _text(props, "UID"),
        "title": _text(props, "SUMMARY"),
        "description": _text(props, "DESCRIPTION"),
        "start": start_iso,
        "url": url[0][1] if url else None,  # a URI: no text escapes
        "keywords": ", ".join(categories) or None,
        "status": STATUS.get((_text(props, "STATUS") or "").upper()),
    }
    end: Any = None
    end_iso: str | None = None
    if end_prop := get("DTEND"):
        end, end_iso = _when(end_prop[0][1], end_prop[0][0])
    elif duration := get("DURATION"):
        end = start + vDuration.from_ical(duration[0][1])  # type: ignore[no-untyped-call]
        end_iso = end.isoformat()
    if isinstance(end, date) and not isinstance(end, datetime):
        end = max(end - timedelta(days=1), start)  # exclusive DTEND of a date -> last day, inclusive
        end_iso = end.isoformat()
    record["end"] = end_iso
    if isinstance(start, datetime) and start.tzinfo is None and default_tz:
        record["timezone"] = default_tz
    location = _text(props, "LOCATION")
    if location:
        record["venue_name"] = record["street_address"] = location
    if organizer := get("ORGANIZER"):
        params, value = organizer[0]
        record["organizer"] = params.get("CN") or value.removeprefix("mailto:")
    if geo := get("GEO"):
        latitude, longitude = geo[0][1].split(";")
        record["latitude"], record["longitude"] = to_text(float(latitude)), to_text(float(longitude))
    return record


def read(content: bytes) -> list[tuple[Record, str, bool]] | None:
    """Each VEVENT as (record, raw, has a start) — only its uid without DTSTART — or None for the library.

    None when the file has recurrence, a TZID that is not an IANA zone, repeated properties, date
    parameters other than ``TZID``/``VALUE``, or anything else the fast path does not read exactly as
    ``icalendar`` does (a differential test holds them equal); never raises on such input.
    """
    try:
        with gc_paused():  # hundreds of thousands of small objects: collections would only cost time
            return _read(content)
    except (UnusualShapeError, UnicodeDecodeError, ValueError, IndexError, AssertionError):
        return None


def _read(content: bytes) -> list[tuple[Record, str, bool]]:
    """``read``'s work; raises ``UnusualShapeError`` (and others) on what the fast path does not read."""
    events, default_tz = _events(content.decode("utf-8-sig"))
    out: list[tuple[Record, str, bool]] = []
    for props, block in events:  # no property but CATEGORIES is repeated (``_events`` checked)
        # ``raw_json`` of a string, without ``json.dumps``'s per-call set-up (100,000 calls).
        raw = encode_basestring("\r\n".join(block.splitlines()) + "\r\n")
        if "DTSTART" in props:
            out.append((_record(props, default_tz), raw, True))
        else:
            out.append(({"uid": _text(props, "UID")}, raw, False))
    return out
