"""Kind ``feed``: RSS 2.0 and Atom read with feedparser; the event date from a field or the text."""

from __future__ import annotations

import time as _time
from typing import Any, ClassVar, Literal

import feedparser
from pydantic import Field

from aggregator.config import SourceConfig
from aggregator.http import Fetched
from aggregator.sources.base import ParseError, Record, SinglePage, absolutise_urls, raw_json, to_text
from aggregator.sources.sniff import describe, wrong_format
from aggregator.sources.xmlsafe import check_xml


class FeedSource(SourceConfig):
    """Settings of a ``feed`` source.

    ``date_field`` names the entry field holding the event's start (for example ``ev_startdate`` of
    the RSS event module, or ``published`` when the feed publishes each event on its day); without
    it the date is read from the entry's title and summary as French prose.
    """

    kind: Literal["feed"] = "feed"
    date_field: str | None = Field(None, description="Entry field with the event's start date.")
    end_field: str | None = Field(None, description="Entry field with the event's end date.")
    location_field: str | None = Field(None, description="Entry field with the place, if any.")


def _value(entry: Any, name: str | None) -> str | None:
    if not name:
        return None
    value = entry.get(name)
    if isinstance(value, _time.struct_time):
        return _time.strftime("%Y-%m-%dT%H:%M:%S+00:00", value)
    return to_text(value) if value not in ("", None) else None


class FeedAdapter(SinglePage):
    """One record per entry of an RSS or Atom feed."""

    kind: ClassVar[str] = "feed"
    settings: ClassVar[type[SourceConfig]] = FeedSource

    def parse(self, page: Fetched, source: SourceConfig) -> list[Record]:
        """Read every entry; the feed's own errors become a clear ParseError."""
        assert isinstance(source, FeedSource)
        check_xml(page.content, page.url)  # billion laughs and XXE are refused before feedparser
        # feedparser never fetches here: it is given bytes, and resolves relative links on page.url.
        parsed = feedparser.parse(page.content, response_headers={"content-location": page.url})
        if parsed.bozo and not parsed.entries:
            if describe(page.content) not in ("an RSS feed", "an Atom feed", "an XML document"):
                raise wrong_format(page.url, "feed", "an RSS or Atom feed", page.content)
            raise ParseError(f"{page.url}: not a readable RSS or Atom feed ({parsed.get('bozo_exception')})")
        out: list[Record] = []
        for entry in parsed.entries:
            summary = entry.get("summary") or ""
            record: Record = {
                "uid": entry.get("id") or entry.get("link"),
                "title": entry.get("title"),
                "description": summary or None,
                "url": entry.get("link"),
                "organizer": entry.get("author"),
                "keywords": ", ".join(t.get("term", "") for t in entry.get("tags", []) if t.get("term")) or None,
                "page_url": page.url,
                "raw": raw_json({k: entry.get(k) for k in ("id", "title", "link", "summary", "published")}),
            }
            start = _value(entry, source.date_field)
            if source.date_field:
                record["start"] = start
                record["end"] = _value(entry, source.end_field)
            else:
                record["when"] = f"{entry.get('title', '')}. {summary}"
            if source.location_field:
                record["city"] = _value(entry, source.location_field)
            absolutise_urls(record, page.url)
            out.append(record)
        return out
