"""Kind ``feed``: RSS 2.0 and Atom read with feedparser; the event's date and place from the item.

Without ``date_field``, an item's date is taken, in this order, from:

1. machine-readable dates inside the item: the RSS event module (``ev:startdate``), xCal
   (``xcal:dtstart``), hCalendar in its HTML (``class="dtstart"`` with ``title`` or ``datetime``),
   schema.org microdata (``itemprop="startDate"``) or JSON-LD ``Event`` nodes;
2. the item's title and text, read as French prose (``prose.find_french``: the date announced as
   the event's, "programmé le …", wins over any other), a missing year never putting the event
   before the item's publication date.

The place comes from ``ev:location``/``xcal:location`` or a "Lieu : 40440 Ondres" line (split into
venue, street, postal code and city by normalisation), else from a postal code followed by a city
name in the text.
"""

from __future__ import annotations

import json
import re
import time as _time
from typing import Any, ClassVar, Literal

import feedparser
from bs4 import BeautifulSoup
from pydantic import Field

from aggregator.http import Fetched
from aggregator.records import NotTextError, Record, raw_json, to_text
from aggregator.settings import SourceConfig
from aggregator.sources.addresses import place_in_text
from aggregator.sources.base import (
    ParseError,
    SinglePage,
    absolutise_urls,
    not_text_reject,
)
from aggregator.sources.feed_fast import FIELDS
from aggregator.sources.feed_fast import read as read_fast
from aggregator.sources.jsonld import event_nodes
from aggregator.sources.sniff import describe, wrong_format
from aggregator.sources.xmlsafe import check_xml

# iCalendar's basic format (xCal, some ev: feeds): 20131119T190000[Z] -> 2013-11-19T19:00:00[Z]
BASIC = re.compile(r"^(\d{4})(\d{2})(\d{2})(?:T(\d{2})(\d{2})(\d{2})?(Z)?)?$")
MACHINE_FIELDS = (("ev_startdate", "ev_enddate"), ("xcal_dtstart", "xcal_dtend"), ("startdate", "enddate"))


class FeedSource(SourceConfig):
    """Settings of a ``feed`` source.

    ``date_field`` names the entry field holding the event's start (for example ``ev_startdate`` of
    the RSS event module, or ``published`` when the feed publishes each event on its day); without
    it the date is found in the item (see the module docstring).
    """

    kind: Literal["feed"] = "feed"
    date_field: str | None = Field(None, description="Entry field with the event's start date.")
    end_field: str | None = Field(None, description="Entry field with the event's end date.")
    location_field: str | None = Field(None, description="Entry field with the place, if any.")


def _value(entry: Any, name: str | None) -> str | None:
    return _text_of(entry.get(name)) if name else None


def _text_of(value: Any) -> str | None:
    if isinstance(value, _time.struct_time):
        return _time.strftime("%Y-%m-%dT%H:%M:%S+00:00", value)
    return to_text(value) if value not in ("", None) else None


def _iso(value: str | None) -> str | None:
    if not value:
        return None
    value = value.strip()
    match = BASIC.match(value)
    if not match:
        return value
    y, mo, d, h, mi, s, z = match.groups()
    return f"{y}-{mo}-{d}" + (f"T{h}:{mi}:{s or '00'}{'+00:00' if z else ''}" if h else "")


def _html_dates(html: str) -> tuple[str | None, str | None]:
    """hCalendar, microdata or JSON-LD dates inside an item's HTML."""
    if not re.search(r"dtstart|startDate|ld\+json", html):
        return None, None
    soup = BeautifulSoup(html, "lxml")
    for start_sel, end_sel in ((".dtstart", ".dtend"), ("[itemprop=startDate]", "[itemprop=endDate]")):
        start = soup.select_one(start_sel)
        if start is not None:
            end = soup.select_one(end_sel)
            return _attr_date(start), _attr_date(end) if end is not None else None
    for script in soup.find_all("script", attrs={"type": "application/ld+json"}):
        try:
            nodes = event_nodes(json.loads(script.get_text() or "null"))
        except json.JSONDecodeError:
            continue
        if nodes and nodes[0].get("startDate"):
            return to_text(nodes[0]["startDate"]), to_text(nodes[0].get("endDate"))
    return None, None


def _attr_date(element: Any) -> str | None:
    for attr in ("datetime", "title", "content"):
        value = element.get(attr)
        if isinstance(value, str) and re.match(r"\d{4}-?\d{2}-?\d{2}", value.strip()):
            return _iso(value)
    return None


def machine_dates(entry: Any, raw_html: str) -> tuple[str | None, str | None]:
    """The item's machine-readable start and end, if it has any (see the module docstring)."""
    for start_name, end_name in MACHINE_FIELDS:
        start = _value(entry, start_name)
        if start:
            return _iso(start), _iso(_value(entry, end_name))
    return _html_dates(raw_html)


def _plain(html: str) -> str:
    return BeautifulSoup(html, "lxml").get_text("\n") if "<" in html else html


class FeedAdapter(SinglePage):
    """One record per entry of an RSS or Atom feed."""

    kind: ClassVar[str] = "feed"
    settings: ClassVar[type[SourceConfig]] = FeedSource

    def parse(self, page: Fetched, source: SourceConfig) -> list[Record]:
        """Read every entry; the feed's own errors become a clear ParseError."""
        assert isinstance(source, FeedSource)
        check_xml(page.content, page.url)  # billion laughs and XXE are refused before feedparser
        named = {source.date_field, source.end_field, source.location_field} - {None}
        # Plain RSS 2.0 is read about three times faster, into the same entries (see feed_fast).
        fast = read_fast(page.content, page.url) if named <= FIELDS else None
        entries, raw_entries = (fast, fast) if fast is not None else self._feedparser_entries(page)
        out: list[Record] = []
        for entry, raw_entry in zip(entries, raw_entries, strict=False):
            try:
                record = _entry_record(entry, raw_entry, source, page.url)
            except NotTextError as exc:
                record = {"page_url": page.url, **not_text_reject(dict(entry), "feed item", exc)}
            absolutise_urls(record, page.url)
            out.append(record)
        return out

    @staticmethod
    def _feedparser_entries(page: Fetched) -> tuple[list[Any], list[Any]]:
        """The entries feedparser reads, and a copy of them with their HTML unsanitised where it holds microdata."""
        # feedparser never fetches here: it is given bytes, and resolves relative links on page.url.
        parsed = feedparser.parse(page.content, response_headers={"content-location": page.url})
        if parsed.bozo and not parsed.entries:
            if describe(page.content) not in ("an RSS feed", "an Atom feed", "an XML document"):
                raise wrong_format(page.url, "feed", "an RSS or Atom feed", page.content)
            raise ParseError(f"{page.url}: not a readable RSS or Atom feed ({parsed.get('bozo_exception')})")
        # Microdata and JSON-LD do not survive feedparser's sanitising: read them from an unsanitised copy.
        raw_entries = (
            feedparser.parse(page.content, sanitize_html=False).entries
            if b"startDate" in page.content
            else parsed.entries
        )
        return parsed.entries, raw_entries


def _entry_record(entry: Any, raw_entry: Any, source: FeedSource, page_url: str) -> Record:
    """One feed item as a record (its dates, place and text)."""
    summary = entry.get("summary") or ""
    html = " ".join([raw_entry.get("summary") or ""] + [c.get("value", "") for c in raw_entry.get("content", [])])
    record: Record = {
        "uid": entry.get("id") or entry.get("link"),
        "title": entry.get("title"),
        "description": summary or None,
        "url": entry.get("link"),
        "organizer": entry.get("author"),
        "keywords": ", ".join(t.get("term", "") for t in entry.get("tags", []) if t.get("term")) or None,
        "page_url": page_url,
        "raw": raw_json({k: entry.get(k) for k in ("id", "title", "link", "summary", "published")}),
    }
    if source.date_field:
        record["start"] = _value(entry, source.date_field)
        record["end"] = _value(entry, source.end_field)
    else:
        record["start"], record["end"] = machine_dates(entry, html)
        if not record["start"]:
            record["when"] = f"{entry.get('title', '')}. {_plain(summary)}"
            # The item's own update time: read past FeedParserDict's mapping of a missing
            # updated_parsed to published_parsed (deprecated by feedparser, and already tried).
            record["published"] = _value(entry, "published_parsed") or _text_of(dict.get(entry, "updated_parsed"))
    located = _value(entry, source.location_field) if source.location_field else None
    written = _value(entry, "ev_location") or _value(entry, "xcal_location")
    if located:
        record["city"] = located
    elif written:
        record["venue_name"] = written  # split by normalisation, like any place written as text
    else:
        record.update(place_in_text(_plain(summary)))
    return record
