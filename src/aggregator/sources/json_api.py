"""Kind ``json``: a generic JSON API, with a path to the records, a field mapping and pagination."""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from typing import Any, ClassVar, Literal

from pydantic import Field, field_validator

from aggregator.gc_policy import gc_paused
from aggregator.http import Fetched, HttpClient
from aggregator.reasons import kind_of, reason
from aggregator.records import NotTextError, Record, raw_json
from aggregator.settings import SourceConfig
from aggregator.sources import json_items
from aggregator.sources.base import (
    FieldSpec,
    ParseError,
    absolutise_urls,
    check_field_names,
    not_text_reject,
    read_fields,
)
from aggregator.sources.json_items import NotStreamableError
from aggregator.sources.paging import NextLink, PageNumber, Paginator, Request, paginate
from aggregator.sources.paths import get_path, text_at
from aggregator.sources.sniff import load_json


class JsonSource(SourceConfig):
    """Settings of a ``json`` source."""

    kind: Literal["json"] = "json"
    records: str = Field("", description="Dotted path to the list of records ('' for the root).")
    fields: dict[str, FieldSpec] = Field(
        default_factory=dict,
        description="Raw field name -> dotted path inside a record, or a list of paths joined with a space.",
    )
    params: dict[str, str] = Field(default_factory=dict, description="Query parameters.")
    next: str | None = Field(None, description="Dotted path to the next page's URL in a response.")
    page_param: str | None = Field(None, description="Query parameter carrying the page number.")
    page_start: int = Field(1, description="First page number, with page_param.")
    max_pages: int = Field(50, ge=1, le=10_000, description="Stop after this many pages.")

    @field_validator("fields")
    @classmethod
    def _fields(cls, value: dict[str, FieldSpec]) -> dict[str, FieldSpec]:
        return check_field_names(value)


def _load(page: Fetched) -> Any:
    return load_json(page.content, page.url, "json", "a JSON API response")


def _records(data: Any, source: JsonSource, url: str) -> list[Any]:
    items = get_path(data, source.records)
    if not isinstance(items, list):
        raise ParseError(f"{url}: records path {source.records!r} does not lead to a list")
    return items


def _count(source: JsonSource, page: Fetched) -> int:
    return len(_records(_load(page), source, page.url))


def _next_link(source: JsonSource, page: Fetched) -> str | None:
    link = get_path(_load(page), source.next or "")
    return str(link) if link else None


class JsonAdapter:
    """Reads a paginated JSON API (next link or page number) and maps each record's fields."""

    kind: ClassVar[str] = "json"
    settings: ClassVar[type[SourceConfig]] = JsonSource

    def fetch(self, source: SourceConfig, url: str, http: HttpClient) -> list[Fetched]:
        """Fetch every page until there is no next link, no records, or ``max_pages``."""
        assert isinstance(source, JsonSource)
        params: dict[str, Any] = dict(source.params)
        paginator: Paginator | None = None
        if source.next:
            paginator = NextLink(partial(_next_link, source))
        elif source.page_param:
            params[source.page_param] = source.page_start
            paginator = PageNumber(partial(_count, source), source.page_param)
        pages = paginate(http, Request(url, params), paginator, source.max_pages)
        if source.page_param and pages and not _count(source, pages[-1]):
            pages.pop()  # the empty page that told us to stop
        return pages

    def parse(self, page: Fetched, source: SourceConfig) -> list[Record]:
        """Map every record of one page through the field mapping, decoding one record at a time where it can."""
        assert isinstance(source, JsonSource)
        if "." not in source.records:  # the root list, or a list under one key of the root: streamed
            keys = (source.records,) if source.records else ()
            try:
                with gc_paused():
                    return self._map(json_items.items(page.content, keys, root_list=not keys), source, page.url)
            except NotStreamableError:
                pass  # another shape, or not JSON: read whole below (same records, or the same error)
        return self._map(_records(_load(page), source, page.url), source, page.url)

    @staticmethod
    def _map(items: Iterable[Any], source: JsonSource, url: str) -> list[Record]:
        out: list[Record] = []
        for item in items:
            record: Record = {"page_url": url, "raw": raw_json(item)}
            if not isinstance(item, dict):
                record["reject_reason"] = reason("not_object", what="record", found=kind_of(item))
                out.append(record)
                continue
            try:
                record.update(read_fields(source.fields, partial(text_at, item)))
            except NotTextError as exc:
                record = {"page_url": url, **not_text_reject(item, "record", exc)}
            absolutise_urls(record, url)
            out.append(record)
        return out
