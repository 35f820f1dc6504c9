"""Kind ``datatourisme``: DATAtourisme JSON-LD (its own vocabulary) from a file or a flux URL."""

from __future__ import annotations

import json
from typing import Any, ClassVar, Literal

from aggregator.config import SourceConfig
from aggregator.http import Fetched
from aggregator.sources.base import ParseError, Record, SinglePage, map_items, raw_json, to_text
from aggregator.sources.sessions import group_sessions


class DatatourismeSource(SourceConfig):
    """Settings of a ``datatourisme`` source: nothing beyond ``id``, ``kind`` and ``url``."""

    kind: Literal["datatourisme"] = "datatourisme"


def _fr(value: Any) -> str | None:
    """The French text of a multilingual value ``{"fr": ["..."]}`` (or a plain string)."""
    if isinstance(value, dict):
        value = value.get("fr") or next(iter(value.values()), None)
    if isinstance(value, list):
        value = value[0] if value else None
    return to_text(value)


def _one(value: Any) -> Any:
    return value[0] if isinstance(value, list) and value else (None if isinstance(value, list) else value)


def _pois(data: Any) -> list[Any]:
    if isinstance(data, dict) and "@graph" in data:
        data = data["@graph"]
    return data if isinstance(data, list) else [data]


def map_poi(poi: dict[str, Any]) -> list[Record]:
    """One record per session of a DATAtourisme event (see ``sessions.group_sessions``)."""
    place = _one(poi.get("isLocatedAt")) or {}
    address = _one(place.get("schema:address")) or {}
    city = address.get("hasAddressCity") or {}
    geo = _one(place.get("schema:geo")) or {}
    street = address.get("schema:streetAddress")
    contact = _one(poi.get("hasContact")) or {}
    description = _fr(poi.get("rdfs:comment")) or _fr((_one(poi.get("hasDescription")) or {}).get("dc:description"))
    types = poi.get("@type", [])
    base: Record = {
        "title": _fr(poi.get("rdfs:label")),
        "description": description,
        "venue_name": _fr(place.get("rdfs:label")),
        "street_address": ", ".join(street) if isinstance(street, list) else to_text(street),
        "postal_code": to_text(address.get("schema:postalCode")),
        "city": to_text(address.get("schema:addressLocality")),
        "commune_insee": to_text(city.get("insee")),
        "departement": to_text((city.get("isPartOfDepartment") or {}).get("insee")),
        "region": _fr(((city.get("isPartOfDepartment") or {}).get("isPartOfRegion") or {}).get("rdfs:label")),
        "latitude": to_text(geo.get("schema:latitude")),
        "longitude": to_text(geo.get("schema:longitude")),
        "url": to_text(_one(contact.get("foaf:homepage"))),
        "event_type": ", ".join(str(t) for t in (types if isinstance(types, list) else [types])),
        "raw": raw_json({k: poi.get(k) for k in ("@id", "dc:identifier", "rdfs:label", "@type")}),
    }
    periods = [
        (str(p.get("startDate")) + (f"T{p['startTime']}" if p.get("startTime") else ""),
         (str(p.get("endDate")) + (f"T{p['endTime']}" if p.get("endTime") else "")) if p.get("endDate") else None)
        for p in poi.get("takesPlaceAt") or [] if isinstance(p, dict) and p.get("startDate")
    ]  # fmt: skip
    if not periods:
        starts, ends = poi.get("schema:startDate") or [], poi.get("schema:endDate") or []
        starts = starts if isinstance(starts, list) else [starts]
        ends = ends if isinstance(ends, list) else [ends]
        periods = [(str(s), str(ends[i]) if i < len(ends) else None) for i, s in enumerate(starts)]
    uid = to_text(poi.get("dc:identifier") or poi.get("@id"))
    if not periods:
        return [{**base, "uid": uid}]
    return [{**base, "uid": f"{uid}#{start}", "start": start, "end": end} for start, end in group_sessions(periods)]


class DatatourismeAdapter(SinglePage):
    """Events of a DATAtourisme export: one object, a list, or a ``@graph``."""

    kind: ClassVar[str] = "datatourisme"
    settings: ClassVar[type[SourceConfig]] = DatatourismeSource

    def parse(self, page: Fetched, source: SourceConfig) -> list[Record]:
        """Map every point of interest that is an event."""
        try:
            data = json.loads(page.content)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ParseError(f"{page.url}: not valid JSON ({exc})") from None
        return map_items(_pois(data), map_poi, page.url, "DATAtourisme record")
