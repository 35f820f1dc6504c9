"""Feeds for the public: iCalendar per region and for all, GeoJSON of events, schema.org JSON-LD."""

from __future__ import annotations

import json
import re
import unicodedata
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
from icalendar import Calendar, Event, Timezone

from aggregator import ical_lines, reference
from aggregator.labels import TYPE_LABELS

PRODID = "-//aggregator//Mois de l'innovation publique//FR"
UID_DOMAIN = "aggregator.mois-innovation-publique"  # stable: the UID is the event id at this domain
ICAL_STATUS = {"cancelled": "CANCELLED", "postponed": "TENTATIVE"}  # anything else is CONFIRMED
SCHEMA_STATUS = {
    "scheduled": "EventScheduled", "cancelled": "EventCancelled", "postponed": "EventPostponed",
    "rescheduled": "EventRescheduled", "moved_online": "EventMovedOnline",
}  # fmt: skip
SCHEMA_MODE = {"in_person": "OfflineEventAttendanceMode", "online": "OnlineEventAttendanceMode",
               "hybrid": "MixedEventAttendanceMode"}  # fmt: skip


def slug(name: str) -> str:
    """A file name from a French name: 'Provence-Alpes-Côte d'Azur' -> 'provence-alpes-cote-d-azur'."""
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii").lower()
    return re.sub(r"[^a-z0-9]+", "-", folded).strip("-")


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def _local(instant: Any, zone: str, all_day: bool, end: bool = False) -> date | datetime | None:
    if instant is None or pd.isna(instant):
        return None
    local = pd.Timestamp(instant).tz_convert(zone).to_pydatetime()
    if all_day:  # all-day ends are local midnights after the last day: DTEND's exclusive date
        return local.date() if not end or local.time() == datetime.min.time() else local.date() + timedelta(days=1)
    return local.replace(tzinfo=ZoneInfo(zone))


def _records(events: pd.DataFrame) -> list[dict[str, Any]]:
    """The events as dicts, by start then id: feeds list them in a stable order.

    The values ``to_dict("records")`` gives (a test holds them equal), from each column's
    ``tolist``: three times faster, and each feed reads all the events.
    """
    ordered = events.sort_values(["start_at", "event_id"])
    names = [str(c) for c in ordered.columns]
    columns = [_values(ordered[c]) for c in ordered.columns]
    return [dict(zip(names, values, strict=True)) for values in zip(*columns, strict=True)]


def _values(column: pd.Series) -> list[Any]:
    values = column.tolist()
    if isinstance(column.dtype, pd.api.extensions.ExtensionDtype) and column.hasnans:
        return [None if v is pd.NA else v for v in values]  # to_dict gives None where tolist gives NA
    return values


def place_text(row: dict[str, Any]) -> str | None:
    """'Venue, street, 33000 Bordeaux' from what the event says of its place."""
    city = " ".join(p for p in (_text(row.get("postal_code")), _text(row.get("city"))) if p)
    parts = [_text(row.get("venue_name")), _text(row.get("street_address")), city or None]
    seen: list[str] = []
    for part in parts:
        if part and part not in seen:
            seen.append(part)
    return ", ".join(seen) or None


def _header(name: str) -> bytes:
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", name)
    cal.add("x-wr-timezone", "Europe/Paris")
    cal.add("refresh-interval", timedelta(hours=12), parameters={"VALUE": "DURATION"})
    return bytes(cal.to_ical()).removesuffix(b"END:VCALENDAR\r\n")


def _zones(events: pd.DataFrame) -> dict[str, bytes]:
    """A VTIMEZONE per zone of ``events``, covering their years (a year before to two after)."""
    if events.empty:
        return {}
    first = min(events["start_at"].min().year - 1, 2037)
    last = max(events["end_at"].fillna(events["start_at"]).max().year + 2, first + 1)
    return {
        str(zone): bytes(
            Timezone.from_tzid(str(zone), first_date=date(first, 1, 1), last_date=date(last, 1, 1)).to_ical()
        )
        for zone in sorted(events["timezone"].unique())
    }


def _properties(row: dict[str, Any], stamp: pd.Timestamp) -> list[tuple[str, Any]]:
    """An event's VEVENT properties: (name, value as ``Event.add`` takes it)."""
    zone, all_day = str(row["timezone"]), bool(row["all_day"])
    props: list[tuple[str, Any]] = [
        ("uid", f"{row['event_id']}@{UID_DOMAIN}"),
        ("dtstamp", stamp.to_pydatetime()),
        ("dtstart", _local(row["start_at"], zone, all_day)),
    ]
    end = _local(row["end_at"], zone, all_day, end=True)
    if end is not None:
        props.append(("dtend", end))
    props.append(("summary", row["title"]))
    description = "\n\n".join(
        p for p in (_text(row.get("description")), _text(row.get("organizer")) and f"Organisé par {row['organizer']}")
        if p
    )  # fmt: skip
    if description:
        props.append(("description", description))
    location = place_text(row) or ("En ligne" if row["attendance_mode"] == "online" else None)
    if location:
        props.append(("location", location))
    if pd.notna(row.get("latitude")) and pd.notna(row.get("longitude")):
        props.append(("geo", (float(row["latitude"]), float(row["longitude"]))))
    url = _text(row.get("url")) or _text(row.get("registration_url")) or _text(row.get("online_url"))
    if url:
        props.append(("url", url))
    props.append(("status", ICAL_STATUS.get(str(row["status"]), "CONFIRMED")))
    props.append(("categories", [TYPE_LABELS.get(str(row["event_type"]), str(row["event_type"]))]))
    props.append(("created", pd.Timestamp(row["first_seen_at"]).to_pydatetime()))
    props.append(("last-modified", pd.Timestamp(row["last_seen_at"]).to_pydatetime()))
    return props


def library_vevent(properties: list[tuple[str, Any]]) -> bytes:
    """A VEVENT of ``properties`` built and written by ``icalendar``."""
    event = Event()
    for name, value in properties:
        event.add(name, value)
    return bytes(event.to_ical())


def vevent_bytes(row: dict[str, Any], stamp: pd.Timestamp) -> bytes:
    """An event's VEVENT as ``icalendar`` writes it; the common shapes by ``ical_lines`` (same bytes, faster)."""
    properties = _properties(row, stamp)
    fast = ical_lines.vevent(properties)
    return fast if fast is not None else library_vevent(properties)


def calendars(
    events: pd.DataFrame, stamp: pd.Timestamp, name: str = "Mois de l’innovation publique"
) -> dict[str, bytes]:
    """``france.ics`` (every event) and one ``<region>.ics`` per region (all 18, empty ones included).

    Each event is serialised once (``vevent_bytes``); the calendars are its components one after
    the other (RFC 5545 3.4), with the VTIMEZONE blocks of the zones they use.
    """
    rows = _records(events)
    blobs = [vevent_bytes(row, stamp) for row in rows]
    zones = _zones(events)

    def assemble(title: str, members: list[int]) -> bytes:
        used = sorted({str(rows[i]["timezone"]) for i in members})
        body = b"".join(zones[z] for z in used) + b"".join(blobs[i] for i in members)
        return _header(title) + body + b"END:VCALENDAR\r\n"

    out = {"france.ics": assemble(name, list(range(len(rows))))}
    for code, region in reference.regions()[["region_code", "region_name"]].itertuples(index=False):
        members = [i for i, row in enumerate(rows) if row["region_code"] == code]
        out[f"{slug(str(region))}.ics"] = assemble(f"{name} – {region}", members)
    return out


def _iso(instant: Any, zone: str, all_day: bool, end: bool = False) -> str | None:
    value = _local(instant, zone, all_day, end)
    return value.isoformat() if value is not None else None


@cache
def _centroids() -> dict[str, tuple[float, float]]:
    table = reference.communes().dropna(subset=["latitude", "longitude"])
    rows = table[["commune_insee", "latitude", "longitude"]].itertuples(index=False)
    return {str(code): (float(lat), float(lon)) for code, lat, lon in rows}


def geojson(events: pd.DataFrame) -> dict[str, Any]:
    """A GeoJSON FeatureCollection (RFC 7946, WGS 84, longitude first) of the events that can be placed.

    The event's own coordinates when it has them (``position``: ``event``), else its arrondissement's
    or commune's centroid (``position``: ``commune_centroid``); events with neither are left out.
    """
    centroids = _centroids() if len(events) else {}
    features = []
    for row in _records(events):
        point: tuple[float, float] | None
        if pd.notna(row.get("latitude")) and pd.notna(row.get("longitude")):
            point, position = (float(row["latitude"]), float(row["longitude"])), "event"
        else:
            code = _text(row.get("arrondissement_insee")) or _text(row.get("commune_insee"))
            point, position = (centroids.get(code) if code else None), "commune_centroid"
        if point is None:
            continue
        zone, all_day = str(row["timezone"]), bool(row["all_day"])
        properties = {
            "event_id": row["event_id"], "title": row["title"],
            "start": _iso(row["start_at"], zone, all_day), "end": _iso(row["end_at"], zone, all_day, end=True),
            "all_day": all_day, "event_type": row["event_type"], "attendance_mode": row["attendance_mode"],
            "status": row["status"], "place": place_text(row), "commune_insee": _text(row.get("commune_insee")),
            "departement_code": _text(row.get("departement_code")), "region_code": _text(row.get("region_code")),
            "region_name": _text(row.get("region_name")), "organizer": _text(row.get("organizer")),
            "url": _text(row.get("url")), "geo_precision": row["geo_precision"], "position": position,
        }  # fmt: skip
        geometry = {"type": "Point", "coordinates": [round(point[1], 6), round(point[0], 6)]}
        features.append({"type": "Feature", "id": row["event_id"], "geometry": geometry, "properties": properties})
    return {"type": "FeatureCollection", "features": features}


def jsonld(events: pd.DataFrame) -> dict[str, Any]:
    """The events as schema.org ``Event`` objects in one JSON-LD ``@graph``."""
    graph = [_schema_event(row) for row in _records(events)]
    return {"@context": "https://schema.org", "@graph": graph}


def _schema_event(row: dict[str, Any]) -> dict[str, Any]:
    zone, all_day = str(row["timezone"]), bool(row["all_day"])
    item: dict[str, Any] = {
        "@type": "Event",
        "@id": f"urn:{UID_DOMAIN}:{row['event_id']}",
        "identifier": row["event_id"],
        "name": row["title"],
        "startDate": _iso(row["start_at"], zone, all_day),
        "eventStatus": f"https://schema.org/{SCHEMA_STATUS.get(str(row['status']), 'EventScheduled')}",
    }
    end = _iso(row["end_at"], zone, all_day, end=True)
    if end and all_day:  # schema.org's endDate of a day-long event is its last day, inclusive
        end = (date.fromisoformat(end) - timedelta(days=1)).isoformat()
    if end:
        item["endDate"] = end
    if str(row["attendance_mode"]) in SCHEMA_MODE:
        item["eventAttendanceMode"] = f"https://schema.org/{SCHEMA_MODE[str(row['attendance_mode'])]}"
    locations = []
    address = {
        "@type": "PostalAddress", "streetAddress": _text(row.get("street_address")),
        "postalCode": _text(row.get("postal_code")), "addressLocality": _text(row.get("city")),
        "addressRegion": _text(row.get("region_name")), "addressCountry": "FR",
    }  # fmt: skip
    if any(address[k] for k in ("streetAddress", "postalCode", "addressLocality")) or _text(row.get("venue_name")):
        place: dict[str, Any] = {"@type": "Place", "address": {k: v for k, v in address.items() if v}}
        if _text(row.get("venue_name")):
            place["name"] = row["venue_name"]
        if pd.notna(row.get("latitude")) and pd.notna(row.get("longitude")):
            place["geo"] = {"@type": "GeoCoordinates", "latitude": row["latitude"], "longitude": row["longitude"]}
        locations.append(place)
    if _text(row.get("online_url")):
        locations.append({"@type": "VirtualLocation", "url": row["online_url"]})
    if locations:
        item["location"] = locations[0] if len(locations) == 1 else locations
    for key, column in (("description", "description"), ("url", "url")):
        if _text(row.get(column)):
            item[key] = row[column]
    if _text(row.get("organizer")):
        item["organizer"] = {"@type": "Organization", "name": row["organizer"]}
    if _text(row.get("registration_url")):
        item["offers"] = {"@type": "Offer", "url": row["registration_url"]}
    return item


def dumps(data: dict[str, Any]) -> str:
    """Compact UTF-8 JSON for the published feeds."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n"
