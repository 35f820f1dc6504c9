"""Kind ``opendatasoft``: the Explore API v2.1 most French regional open-data portals run."""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path
from typing import Any, ClassVar, Literal
from urllib.parse import urlparse
from urllib.request import url2pathname

from pydantic import Field, field_validator

from aggregator.http import Fetched, HttpClient
from aggregator.reasons import kind_of, reason
from aggregator.records import NotTextError, Record, raw_json, to_text
from aggregator.settings import SourceConfig
from aggregator.sources.base import (
    FieldSpec,
    absolutise_urls,
    check_field_names,
    not_text_reject,
    read_fields,
)
from aggregator.sources.paging import OffsetLimit, Request, paginate
from aggregator.sources.paths import get_path, text_at
from aggregator.sources.sessions import group_sessions
from aggregator.sources.sniff import load_json, wrong_format

PAGE_LIMIT = 100  # the API's maximum for /records
OFFSET_CAP = 10_000  # offset + limit may not exceed this on /records; beyond, use /exports
# Defaults for the OpenAgenda national dataset as Opendatasoft portals publish it.
OPENAGENDA_FIELDS: dict[str, FieldSpec] = {
    "uid": "uid",
    "title": "title_fr",
    "description": "longdescription_fr",
    "venue_name": "location_name",
    "street_address": "location_address",
    "postal_code": "location_postalcode",
    "city": "location_city",
    "commune_insee": "location_insee",
    "departement": "location_department",
    "region": "location_region",
    "latitude": "location_coordinates.lat",
    "longitude": "location_coordinates.lon",
    "organizer": "contributor_organization",
    "url": "canonicalurl",
    "online_url": "onlineaccesslink",
    "attendance_mode": "attendancemode",
    "status": "status",
    "keywords": "keywords_fr",
}


class OpendatasoftSource(SourceConfig):
    """Settings of an ``opendatasoft`` source; ``url`` is the portal's root (``https://data.example.fr``)."""

    kind: Literal["opendatasoft"] = "opendatasoft"
    dataset: str = Field(description="Dataset id on the portal.")
    where: str | None = Field(None, description="ODSQL filter, e.g. \"firstdate_begin >= '2026-11-01'\".")
    refine: list[str] = Field(default_factory=list, description="Facet refinements, 'field:value'.")
    apikey: str | None = Field(None, description="API key, from the environment: '${ODS_APIKEY}'.")
    fields: dict[str, FieldSpec] = Field(
        default_factory=lambda: dict(OPENAGENDA_FIELDS),
        description="Raw field name -> field of a record (dotted path), or a list of them joined with a space.",
    )
    timings: str | None = Field("timings", description="Field with the list of timings (JSON string or list).")
    start: str = Field("firstdate_begin", description="Start field when there are no timings.")
    end: str = Field("lastdate_end", description="End field when there are no timings.")
    registration: str | None = Field("registration", description="Field with OpenAgenda registration links.")
    max_records: int = Field(200_000, ge=1, description="Stop after this many records.")

    @field_validator("fields")
    @classmethod
    def _fields(cls, value: dict[str, FieldSpec]) -> dict[str, FieldSpec]:
        return check_field_names(value)


def _maybe_json(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def _code(value: Any) -> str | None:
    """OpenAgenda coded values ({"id": 2, "label": {...}}) -> "2"; other values as text."""
    value = _maybe_json(value)
    if isinstance(value, dict) and "id" in value:
        return str(value["id"])
    return to_text(value)


def _registration(value: Any) -> str | None:
    for item in _maybe_json(value) or []:
        if isinstance(item, dict) and item.get("type") == "link" and item.get("value"):
            return str(item["value"])
    return None


def map_record(item: dict[str, Any], source: OpendatasoftSource) -> list[Record]:
    """One record per session of the event's timings (or one, from start/end fields)."""
    base = read_fields(source.fields, partial(text_at, item))
    for name in ("attendance_mode", "status"):
        spec = source.fields.get(name)
        if isinstance(spec, str):
            base[name] = _code(get_path(item, spec))
    if source.registration:
        base["registration_url"] = _registration(item.get(source.registration))
    base["raw"] = raw_json(item)
    timings = _maybe_json(get_path(item, source.timings)) if source.timings else None
    pairs = [
        (str(t["begin"]), str(t["end"]) if t.get("end") else None)
        for t in timings or []
        if isinstance(t, dict) and t.get("begin")
    ]
    if not pairs:
        start = to_text(get_path(item, source.start))
        if not start:
            fields = " and ".join(f for f in (source.timings, source.start) if f)
            return [{**base, "reject_reason": reason("no_start_fields", fields=fields)}]
        return [{**base, "start": start, "end": to_text(get_path(item, source.end))}]
    uid = base.get("uid") or ""
    return [{**base, "uid": f"{uid}#{start}", "start": start, "end": end} for start, end in group_sessions(pairs)]


class OpendatasoftAdapter:
    """Pages through ``/records`` (100 a page) or, past 10,000 records, streams ``/exports/jsonl``."""

    kind: ClassVar[str] = "opendatasoft"
    settings: ClassVar[type[SourceConfig]] = OpendatasoftSource

    def _params(self, source: OpendatasoftSource) -> dict[str, Any]:
        params: dict[str, Any] = {}
        if source.where:
            params["where"] = source.where
        if source.refine:
            params["refine"] = source.refine
        return params

    def fetch(self, source: SourceConfig, url: str, http: HttpClient) -> list[Fetched]:
        """Fetch every page of the dataset's records."""
        assert isinstance(source, OpendatasoftSource)
        base = f"{url.rstrip('/')}/api/explore/v2.1/catalog/datasets/{source.dataset}"
        # The key goes in a header, never in the URL, so that it cannot reach logs or page_url.
        parsed = urlparse(url)
        if parsed.scheme == "file" and not Path(url2pathname(parsed.path)).is_dir():
            return paginate(http, Request(url), None, 1)  # a saved response or export: read once, as it is
        auth = {"Authorization": f"Apikey {source.apikey}"} if source.apikey else None
        first = Request(f"{base}/records", {**self._params(source), "limit": PAGE_LIMIT, "offset": 0}, auth)
        offsets = OffsetLimit(
            count=lambda page: len(self._load(page).get("results") or []),
            # Past the cap, the first page is the last: the export below reads the whole selection.
            total=lambda page: min(t, source.max_records) if (t := self._total(page)) <= OFFSET_CAP else 0,
            limit=PAGE_LIMIT,
            cap=OFFSET_CAP,
        )
        pages = paginate(http, first, offsets, OFFSET_CAP // PAGE_LIMIT)
        if self._total(pages[0]) > OFFSET_CAP:
            # The records endpoint cannot reach past 10,000: export the whole selection at once.
            export = Request(f"{base}/exports/jsonl", {**self._params(source), "limit": source.max_records}, auth)
            return paginate(http, export, None, 1)
        return pages

    def _total(self, page: Fetched) -> int:
        return int(self._load(page).get("total_count", 0))

    @staticmethod
    def _load(page: Fetched) -> dict[str, Any]:
        expected = "an Opendatasoft Explore v2.1 /records response (JSON with 'results')"
        data = load_json(page.content, page.url, "opendatasoft", expected)
        if not isinstance(data, dict) or not isinstance(data.get("results", []), list):
            raise wrong_format(page.url, "opendatasoft", expected, page.content)
        return data

    def parse(self, page: Fetched, source: SourceConfig) -> list[Record]:
        """Map a /records page or a JSON-lines export."""
        assert isinstance(source, OpendatasoftSource)
        if "/exports/jsonl" in page.url or urlparse(page.url).path.endswith(".jsonl"):
            items: list[Any] = []
            for number, line in enumerate(page.content.splitlines(), start=1):
                if line.strip():
                    try:
                        items.append(json.loads(line))
                    except json.JSONDecodeError as exc:
                        items.append({"_error": reason("jsonl_line", line=number, column=exc.colno)})
        else:
            expected = "an Opendatasoft /records response, JSON export or JSON-lines export"
            data = load_json(page.content, page.url, "opendatasoft", expected)
            items = data if isinstance(data, list) else self._load(page).get("results") or []
        out: list[Record] = []
        for item in items:
            if not isinstance(item, dict) or "_error" in item:
                why = (
                    item["_error"]
                    if isinstance(item, dict)
                    else reason("not_object", what="record", found=kind_of(item))
                )
                out.append({"page_url": page.url, "raw": raw_json(item), "reject_reason": str(why)})
                continue
            try:
                records = map_record(item, source)
            except NotTextError as exc:
                records = [not_text_reject(item, "record", exc)]
            for record in records:
                record["page_url"] = page.url
                absolutise_urls(record, page.url)
                out.append(record)
        return out
