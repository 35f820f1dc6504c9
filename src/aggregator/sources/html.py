"""Kind ``html``: listing pages read with declarative CSS selectors (BeautifulSoup)."""

from __future__ import annotations

from typing import ClassVar, Literal

from bs4 import BeautifulSoup, Tag
from pydantic import Field, field_validator

from aggregator.config import SourceConfig
from aggregator.http import Fetched, HttpClient
from aggregator.sources.base import (
    ParseError,
    Record,
    absolutise_urls,
    check_field_names,
)


class HtmlSource(SourceConfig):
    """Settings of an ``html`` source.

    Each field is ``"css selector"`` (the element's text), ``"css selector@attr"`` (an attribute),
    or ``"@attr"`` (an attribute of the item element itself).
    """

    kind: Literal["html"] = "html"
    item: str = Field(description="CSS selector of one listing item on the page.")
    fields: dict[str, str] = Field(description="Raw field name -> selector inside the item.")

    @field_validator("fields")
    @classmethod
    def _fields(cls, value: dict[str, str]) -> dict[str, str]:
        check_field_names(value)
        if "title" not in value:
            raise ValueError("a selector for 'title' is required")
        return value


def _extract(item: Tag, spec: str) -> str | None:
    selector, _, attr = spec.rpartition("@") if "@" in spec else (spec, "", "")
    element = item if not selector.strip() else item.select_one(selector)
    if element is None:
        return None
    if attr:
        value = element.get(attr)
        if isinstance(value, list):
            value = " ".join(value)
        return value
    text = element.get_text(" ", strip=True)
    return text or None


def _outer(item: Tag) -> str:
    return str(item)[:5000]


class HtmlAdapter:
    """Reads one listing page: one record per item matched by ``item``."""

    kind: ClassVar[str] = "html"
    settings: ClassVar[type[SourceConfig]] = HtmlSource

    def fetch(self, source: SourceConfig, url: str, http: HttpClient) -> list[Fetched]:
        """Fetch the listing page."""
        return [http.get(url)]

    def parse(self, page: Fetched, source: SourceConfig) -> list[Record]:
        """Select every item and read each field with its selector."""
        assert isinstance(source, HtmlSource)
        try:
            # BeautifulSoup detects the encoding from the BOM, <meta charset> and the bytes;
            # the HTTP header wins when present, as in browsers.
            soup = BeautifulSoup(page.content, "lxml", from_encoding=page.charset)
        except Exception as exc:  # lxml raises several types on hostile input
            raise ParseError(f"{page.url}: not parsable as HTML ({exc})") from None
        out: list[Record] = []
        for item in soup.select(source.item):
            record: Record = {"page_url": page.url, "raw": _outer(item)}
            try:
                for name, spec in source.fields.items():
                    record[name] = _extract(item, spec)
            except Exception as exc:  # one odd item never discards the rest of the page
                record["reject_reason"] = f"cannot read item: {exc}"
            absolutise_urls(record, page.url)
            out.append(record)
        return out
