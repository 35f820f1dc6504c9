"""Kind ``jsonld``: schema.org ``Event`` (and subtypes) embedded in pages as JSON-LD."""

from __future__ import annotations

import json
from typing import Any, ClassVar, Literal
from urllib.parse import urljoin

from bs4 import BeautifulSoup
from pydantic import Field

from aggregator.http import Fetched, FetchError, HttpClient
from aggregator.reasons import reason
from aggregator.records import NotTextError, Record, raw_json, to_text
from aggregator.settings import SourceConfig
from aggregator.sources.base import (
    ParseError,
    absolutise_urls,
    not_text_reject,
)
from aggregator.sources.encoding import decode
from aggregator.sources.sniff import describe, wrong_format

EVENT_TYPES = {
    "Event", "BusinessEvent", "ChildrensEvent", "ComedyEvent", "CourseInstance", "DanceEvent", "DeliveryEvent",
    "EducationEvent", "EventSeries", "ExhibitionEvent", "Festival", "FoodEvent", "Hackathon", "LiteraryEvent",
    "MusicEvent", "PublicationEvent", "SaleEvent", "ScreeningEvent", "SocialEvent", "SportsEvent", "TheaterEvent",
    "VisualArtsEvent",
}  # fmt: skip


class JsonLdSource(SourceConfig):
    """Settings of a ``jsonld`` source.

    ``follow`` is a CSS selector of links on the listing page to event pages whose JSON-LD is read
    too (at most ``max_follow`` pages, fetched one after the other).
    """

    kind: Literal["jsonld"] = "jsonld"
    follow: str | None = Field(None, description="CSS selector of links to event pages (href).")
    max_follow: int = Field(50, ge=0, le=1000, description="Most event pages followed per run.")


def _types(node: dict[str, Any]) -> set[str]:
    value = node.get("@type", [])
    values = value if isinstance(value, list) else [value]
    return {str(v).rsplit("/", 1)[-1].removeprefix("schema:") for v in values}


def event_nodes(data: Any) -> list[dict[str, Any]]:
    """Every node typed as a schema.org Event (or subtype), searched through lists and ``@graph``."""
    found: list[dict[str, Any]] = []
    stack = [data]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(reversed(node))
        elif isinstance(node, dict):
            if _types(node) & EVENT_TYPES:
                found.append(node)
            elif "@graph" in node:
                stack.append(node["@graph"])
    return found


def _first(value: Any) -> Any:
    return value[0] if isinstance(value, list) and value else (None if isinstance(value, list) else value)


def _name(value: Any) -> str | None:
    value = _first(value)
    if isinstance(value, dict):
        return to_text(value.get("name") or value.get("legalName"))
    return to_text(value)


def _places(location: Any) -> tuple[dict[str, Any] | None, str | None]:
    """The physical Place and the online URL of a ``location`` (a Place, VirtualLocation, or both)."""
    place, online = None, None
    for item in location if isinstance(location, list) else [location]:
        if isinstance(item, dict):
            if "VirtualLocation" in _types(item):
                online = online or to_text(item.get("url"))
            else:
                place = place or item
        elif isinstance(item, str) and item.startswith("http"):
            online = online or item
        elif isinstance(item, str):
            place = place or {"name": item}
    return place, online


def map_event(node: dict[str, Any]) -> Record:
    """Raw fields from one schema.org Event node."""
    place, online = _places(node.get("location"))
    address = _first((place or {}).get("address"))
    if isinstance(address, str):  # "Rue Camille Guérin, 59500 Douai": split by normalisation
        address = {"streetAddress": address}
    address = address if isinstance(address, dict) else {}
    geo = _first((place or {}).get("geo")) or place or {}  # coordinates in "geo", or on the Place itself
    offers = _first(node.get("offers"))
    record: Record = {
        "uid": to_text(node.get("@id") or node.get("identifier")),
        "title": _name(node.get("name")) if not isinstance(node.get("name"), dict) else to_text(node["name"].get("fr")),
        "description": to_text(_first(node.get("description"))),
        "start": to_text(_first(node.get("startDate"))),
        "end": to_text(_first(node.get("endDate"))),
        "venue_name": to_text((place or {}).get("name")),
        "street_address": to_text(address.get("streetAddress")),
        "postal_code": to_text(address.get("postalCode")),
        "city": to_text(address.get("addressLocality")),
        "region": to_text(address.get("addressRegion")),
        "latitude": to_text(geo.get("latitude")) if isinstance(geo, dict) else None,
        "longitude": to_text(geo.get("longitude")) if isinstance(geo, dict) else None,
        "organizer": _name(node.get("organizer")),
        "url": to_text(_first(node.get("url"))),
        "registration_url": to_text(offers.get("url")) if isinstance(offers, dict) else None,
        "online_url": online,
        "attendance_mode": to_text(node.get("eventAttendanceMode")),
        "status": to_text(node.get("eventStatus")),
        "keywords": to_text(node.get("keywords")),
        "event_type": ", ".join(sorted(_types(node) - {"Event"})) or None,
        "raw": raw_json(node),
    }
    if online and not record["attendance_mode"]:
        record["attendance_mode"] = "mixed" if place else "online"
    return record


def scripts(page: Fetched) -> tuple[list[Any], list[str]]:
    """The parsed JSON-LD blocks of a page, and a message for each block that is not valid JSON.

    A JSON-LD file (not a page) is one block.
    """
    found = describe(page.content)
    if found.startswith("JSON:"):
        return [json.loads(page.content)], []
    if found not in ("an HTML page", "an XML document", "plain text"):
        raise wrong_format(page.url, "jsonld", "an HTML page with JSON-LD, or a JSON-LD file", page.content)
    soup = BeautifulSoup(decode(page.content, page.charset), "lxml")
    blocks, errors = [], []
    for i, tag in enumerate(soup.find_all("script", attrs={"type": "application/ld+json"})):
        try:
            blocks.append(json.loads(tag.string or tag.get_text() or "null", strict=False))
        except json.JSONDecodeError as exc:
            errors.append(reason("jsonld_block", block=i + 1, line=exc.lineno, column=exc.colno))
    return blocks, errors


class JsonLdAdapter:
    """Events from JSON-LD on a page and, optionally, on the event pages it links to."""

    kind: ClassVar[str] = "jsonld"
    settings: ClassVar[type[SourceConfig]] = JsonLdSource

    def fetch(self, source: SourceConfig, url: str, http: HttpClient) -> list[Fetched]:
        """Fetch the listing page and, with ``follow``, each linked event page (bounded)."""
        assert isinstance(source, JsonLdSource)
        listing = http.get(url)
        pages = [listing]
        if source.follow:
            soup = BeautifulSoup(decode(listing.content, listing.charset), "lxml")
            links = [urljoin(listing.url, str(a.get("href"))) for a in soup.select(source.follow) if a.get("href")]
            for link in list(dict.fromkeys(links))[: source.max_follow]:
                try:
                    pages.append(http.get(link))
                except FetchError:
                    continue  # one missing event page never fails the listing
        return pages

    def parse(self, page: Fetched, source: SourceConfig) -> list[Record]:
        """One record per Event node; invalid blocks are reported as rejects."""
        blocks, errors = scripts(page)
        if not blocks and errors:
            raise ParseError(f"{page.url}: {errors[0]}")
        out: list[Record] = [{"page_url": page.url, "raw": "", "reject_reason": e} for e in errors]
        nodes = event_nodes(blocks)
        for node in nodes:
            try:
                record = map_event(node)
            except NotTextError as exc:
                out.append({"page_url": page.url, **not_text_reject(node, "event", exc)})
                continue
            if len(nodes) == 1 and not record["url"]:  # an event's own page: its URL is the event's
                record["url"] = page.url
            record["page_url"] = page.url
            absolutise_urls(record, page.url)
            record["uid"] = record["uid"] or record["url"]
            out.append(record)
        return out
