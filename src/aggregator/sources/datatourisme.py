"""Kind ``datatourisme``: DATAtourisme events, in every flavour its exports and API come in.

Real files differ in three ways, all read here:

- **Keys** are prefixed (``schema:address``, ``rdfs:label``: the JSON-LD "flux" and the complete
  export) or bare (``address``, ``label``: the REST API); both are looked up.
- **Values** are plain, lists (most properties of the complete export: ``isLocatedAt``,
  ``schema:address``, ``hasAddressCity``, ``isPartOfDepartment`` …), JSON-LD literals
  (``{"@value": …, "@language": "fr"}``, alone or in lists) or language maps (``{"fr": [...]}``,
  ``{"@fr": …}``); the French text, else the first, is taken.
- **Containers**: one object per file, a list, a ``@graph`` or the API's ``{"objects": [...]}``.

Only event objects are read (types ending in ``Event``, DATAtourisme's ``EntertainmentAndEvent``,
or objects with ``takesPlaceAt``); the places, lodgings and restaurants of a regional export are
not events and are left out. ``takesPlaceAt`` periods (with or without times) give the dates,
merged into sessions as for OpenAgenda (``sessions.group_sessions``); without them,
``schema:startDate``/``schema:endDate``.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from typing import Any, ClassVar, Literal

from aggregator.gc_policy import gc_paused
from aggregator.http import Fetched
from aggregator.reasons import reason
from aggregator.records import Record, raw_json, to_text
from aggregator.settings import SourceConfig
from aggregator.sources import json_items
from aggregator.sources.base import SinglePage, map_items
from aggregator.sources.json_items import NotStreamableError
from aggregator.sources.sessions import group_sessions
from aggregator.sources.sniff import load_json, wrong_format

EVENT_ROOTS = {"EntertainmentAndEvent", "Event"}
CONTAINERS = ("@graph", "objects", "data", "results")
# Keys every DATAtourisme object has in one flavour or another; a file whose objects have none is another format.
MARKERS = {"@id", "@type", "type", "dc:identifier", "uuid", "rdfs:label", "label", "isLocatedAt", "takesPlaceAt"}
EXPECTED = "DATAtourisme JSON-LD (an export file, a list, a @graph or an API page of objects)"


class DatatourismeSource(SourceConfig):
    """Settings of a ``datatourisme`` source: nothing beyond ``id``, ``kind`` and ``url``."""

    kind: Literal["datatourisme"] = "datatourisme"


def get(node: Any, name: str) -> Any:
    """Property ``name`` of a node, whatever its prefix (``schema:name``, ``rdfs:name``, ``name``).

    A list of nodes (as the complete export writes nearly every property) is read through its
    first node.
    """
    node = first(node)
    if not isinstance(node, dict):
        return None
    if name in node:
        return node[name]
    key = _prefixed(tuple(node), name)
    return node[key] if key is not None else None


@lru_cache(maxsize=16384)
def _prefixed(keys: tuple[str, ...], name: str) -> str | None:
    """The first of ``keys`` that is ``name`` with a prefix: objects of an export share a few layouts."""
    return next((key for key in keys if key.rpartition(":")[2] == name), None)


def first(value: Any) -> Any:
    """The first element of a list (None for an empty one); other values as they are."""
    while isinstance(value, list):
        value = value[0] if value else None
    return value


def literal(value: Any, language: str = "fr") -> str | None:
    """The text of a value: plain, JSON-LD literal, language map or a list of them; French first."""
    if isinstance(value, list):
        if len(value) == 1:  # the complete export's usual shape: the same text as below, sooner
            return literal(value[0], language) or None
        texts = [(_language(v), literal(v, language)) for v in value]
        texts = [(lang, text) for lang, text in texts if text]
        preferred = [text for lang, text in texts if lang in (language, None)]
        return (preferred or [text for _, text in texts] or [None])[0]
    if isinstance(value, dict):
        if "@value" in value:
            return to_text(value["@value"])
        for key in (language, f"@{language}"):
            if key in value:
                return literal(value[key], language)
        others = (literal(v, language) for k, v in value.items() if not k.startswith("@") or len(k) <= 4)
        return next((t for t in others if t), None)
    return to_text(value) if value not in ("", None) else None


def _language(value: Any) -> str | None:
    return value.get("@language") if isinstance(value, dict) else None


def types(node: dict[str, Any]) -> list[str]:
    """The node's types, prefixes removed (``schema:Event`` -> ``Event``)."""
    value = node.get("@type", node.get("type"))
    values = value if isinstance(value, list) else [value] if value else []
    return [str(v).rpartition(":")[2].rpartition("/")[2] for v in values]


def is_event(node: dict[str, Any]) -> bool:
    """Whether a DATAtourisme object is an event (rather than a place, lodging or restaurant)."""
    names = types(node)
    return bool(EVENT_ROOTS & set(names)) or any(n.endswith("Event") for n in names) or bool(get(node, "takesPlaceAt"))


def _moment(day: Any, at: Any) -> str | None:
    day_text, time_text = literal(day), literal(at)
    if not day_text:
        return None
    return f"{day_text}T{time_text}" if time_text and "T" not in day_text else day_text


def periods(node: dict[str, Any]) -> list[tuple[str, str | None]]:
    """``(start, end)`` of every ``takesPlaceAt`` period, else of ``startDate``/``endDate``."""
    found = []
    places = get(node, "takesPlaceAt")
    for period in places if isinstance(places, list) else [places]:
        start = _moment(get(period, "startDate"), get(period, "startTime"))
        if start:
            end = _moment(get(period, "endDate"), get(period, "endTime"))
            if end and "T" in start and "T" not in end and end == start[:10]:
                end = None  # a start time and the same day as end: no end time was given
            found.append((start, end))
    if found:
        return found
    starts, ends = get(node, "startDate"), get(node, "endDate")
    starts = [literal(s) for s in (starts if isinstance(starts, list) else [starts])]
    ends = [literal(e) for e in (ends if isinstance(ends, list) else [ends])]
    return [(s, ends[i] if i < len(ends) else None) for i, s in enumerate(starts) if s]


def map_poi(poi: dict[str, Any]) -> list[Record]:
    """One record per session of a DATAtourisme event (none for an object that is not an event)."""
    if not is_event(poi):
        return []
    place = get(poi, "isLocatedAt")
    address = get(place, "address")
    city = get(address, "hasAddressCity")
    department = get(city, "isPartOfDepartment")
    region = get(department, "isPartOfRegion") or get(city, "isPartOfRegion")
    geo = get(place, "geo")
    street = get(address, "streetAddress")
    description = literal(get(poi, "comment")) or literal(get(get(poi, "hasDescription"), "description"))
    description = description or literal(get(get(poi, "hasDescription"), "shortDescription"))
    base: Record = {
        "title": literal(get(poi, "label")),
        "description": description,
        "venue_name": literal(get(place, "label")),
        "street_address": ", ".join(filter(None, (literal(s) for s in street)))
        if isinstance(street, list)
        else literal(street),
        "postal_code": literal(get(address, "postalCode")),
        "city": literal(get(address, "addressLocality")) or literal(get(city, "label")),
        "commune_insee": literal(get(city, "insee")),
        "departement": literal(get(department, "insee")) or literal(get(department, "label")),
        "region": literal(get(region, "insee")) or literal(get(region, "label")),
        "latitude": literal(get(geo, "latitude")),
        "longitude": literal(get(geo, "longitude")),
        "url": literal(get(get(poi, "hasContact"), "homepage")),
        "event_type": ", ".join(types(poi)) or None,
        "raw": raw_json({k: poi.get(k) for k in ("@id", "dc:identifier", "uuid", "rdfs:label", "label", "@type")}),
    }
    uid = literal(get(poi, "identifier")) or literal(poi.get("uuid")) or literal(poi.get("@id"))
    found = periods(poi)
    if not found:
        return [{**base, "uid": uid, "reject_reason": reason("no_periods")}]
    return [{**base, "uid": f"{uid}#{start}", "start": start, "end": end} for start, end in group_sessions(found)]


def objects(data: Any) -> list[Any]:
    """The objects of a file: one object, a list, a ``@graph`` or an API page (``objects``)."""
    if isinstance(data, dict):
        for key in CONTAINERS:
            if isinstance(data.get(key), list):
                return list(data[key])
        return [data]
    return data if isinstance(data, list) else [data]


class DatatourismeAdapter(SinglePage):
    """Events of a DATAtourisme export or API page, whatever its flavour (see the module docstring)."""

    kind: ClassVar[str] = "datatourisme"
    settings: ClassVar[type[SourceConfig]] = DatatourismeSource

    def parse(self, page: Fetched, source: SourceConfig) -> list[Record]:
        """Map every object of the page that is an event, decoding one object at a time where it can."""
        with gc_paused():  # a national export: millions of small acyclic objects
            watched = _Watched()
            try:
                records = map_items(watched.items(page.content), map_poi, page.url, "DATAtourisme record")
            except NotStreamableError:
                pass  # another shape, or not JSON: read whole below (same objects, or the error)
            else:
                if watched.found and not watched.marked:
                    raise wrong_format(page.url, "datatourisme", EXPECTED, page.content)
                return records
            data = load_json(page.content, page.url, "datatourisme", EXPECTED)
            found = objects(data)
            if found and not any(_marked(o) for o in found):
                raise wrong_format(page.url, "datatourisme", EXPECTED, page.content)
            return map_items(found, map_poi, page.url, "DATAtourisme record")


def _marked(item: Any) -> bool:
    return isinstance(item, dict) and not MARKERS.isdisjoint(item)


class _Watched:
    """The streamed objects of a document, noting whether there were any and any had a DATAtourisme key."""

    def __init__(self) -> None:
        self.found = False
        self.marked = False

    def items(self, content: bytes) -> Iterator[Any]:
        for item in json_items.items(content, CONTAINERS):
            self.found = True
            self.marked = self.marked or _marked(item)
            yield item
