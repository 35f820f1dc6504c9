"""Kind ``html``: listing pages read with declarative CSS selectors (BeautifulSoup).

Beyond one page: a "next" link followed (bounded), several dates in one item (one listing per
date), and per-item detail pages whose fields complete the item (bounded, fetched one by one).
"""

from __future__ import annotations

from functools import partial
from typing import ClassVar, Literal
from urllib.parse import urljoin

from bs4 import BeautifulSoup, Tag
from pydantic import BaseModel, ConfigDict, Field, field_validator

from aggregator.http import Fetched, FetchError, HttpClient
from aggregator.reasons import reason
from aggregator.records import Record
from aggregator.settings import SourceConfig
from aggregator.sources.base import FieldSpec, ParseError, absolutise_urls, check_field_names, read_fields
from aggregator.sources.encoding import decode
from aggregator.sources.paging import NextLink, Request, paginate
from aggregator.sources.sniff import describe, wrong_format

DETAIL_ROLE = "x-aggregator-detail-of"


class DetailSettings(BaseModel):
    """Per-item detail pages: a link in the item, and fields read on the page it leads to."""

    model_config = ConfigDict(extra="forbid")

    link: str = Field(description="Selector of the link inside the item, e.g. 'h3 a@href'.")
    fields: dict[str, FieldSpec] = Field(description="Raw field -> selector on the detail page (or a list, joined).")
    max_pages: int = Field(50, ge=0, le=2000, description="Most detail pages fetched per run.")

    @field_validator("fields")
    @classmethod
    def _fields(cls, value: dict[str, FieldSpec]) -> dict[str, FieldSpec]:
        return check_field_names(value)


class HtmlSource(SourceConfig):
    """Settings of an ``html`` source.

    Each selector is ``"css"`` (the element's text), ``"css@attr"`` (an attribute, e.g. ``href``,
    ``datetime``, ``content``) or ``"@attr"`` (an attribute of the item element itself).
    """

    kind: Literal["html"] = "html"
    item: str = Field(description="CSS selector of one listing item on the page.")
    fields: dict[str, FieldSpec] = Field(
        description="Raw field name -> selector inside the item, or a list of selectors joined with a space."
    )
    next: str | None = Field(None, description="Selector of the next page's link, e.g. 'a[rel=next]@href'.")
    max_pages: int = Field(20, ge=1, le=1000, description="Most listing pages read per run.")
    dates: str | None = Field(None, description="Selector matching each date of an item: one listing per date.")
    detail: DetailSettings | None = Field(None, description="Follow each item's link to a detail page (table below).")

    @field_validator("fields")
    @classmethod
    def _fields(cls, value: dict[str, FieldSpec]) -> dict[str, FieldSpec]:
        return check_field_names(value, required=("title",))


def _split(spec: str) -> tuple[str, str]:
    selector, _, attr = spec.rpartition("@") if "@" in spec else (spec, "", "")
    return selector.strip(), attr


def _read(element: Tag, attr: str) -> str | None:
    if attr:
        value = element.get(attr)
        return " ".join(value) if isinstance(value, list) else value
    return element.get_text(" ", strip=True) or None


def extract(item: Tag, spec: str) -> str | None:
    """The value a selector spec gives inside ``item`` (first match), or None."""
    selector, attr = _split(spec)
    element = item if not selector else item.select_one(selector)
    return None if element is None else _read(element, attr)


def extract_all(item: Tag, spec: str) -> list[str]:
    """Every value a selector spec gives inside ``item``."""
    selector, attr = _split(spec)
    elements = [item] if not selector else item.select(selector)
    return [v for v in (_read(e, attr) for e in elements) if v]


# What a page may look like to the html kind; anything else (JSON, iCalendar, PDF …) is another format.
MARKUP = ("an HTML page", "an XML document", "plain text")


def _soup(page: Fetched) -> BeautifulSoup:
    if describe(page.content) not in MARKUP:
        raise wrong_format(page.url, "html", "an HTML page", page.content)
    try:
        # Decoded as browsers do: BOM, HTTP header, <meta charset>, then UTF-8 or windows-1252.
        return BeautifulSoup(decode(page.content, page.charset), "lxml")
    except Exception as exc:  # lxml raises several types on hostile input
        raise ParseError(f"{page.url}: not parsable as HTML ({exc})") from None


class HtmlAdapter:
    """Reads listing pages; one record per item (per date with ``dates``), completed by detail pages."""

    kind: ClassVar[str] = "html"
    settings: ClassVar[type[SourceConfig]] = HtmlSource

    def fetch(self, source: SourceConfig, url: str, http: HttpClient) -> list[Fetched]:
        """Fetch the listing pages (following ``next``), then the detail pages (both bounded)."""
        assert isinstance(source, HtmlSource)
        paginator = NextLink(lambda page: extract(_soup(page), source.next or "")) if source.next else None
        pages = paginate(http, Request(url), paginator, source.max_pages)
        if source.detail is None:
            return pages
        links: list[str] = []
        for page in pages:
            for item in _soup(page).select(source.item):
                link = extract(item, source.detail.link)
                if link:
                    links.append(urljoin(page.url, link))
        details = []
        for link in list(dict.fromkeys(links))[: source.detail.max_pages]:
            try:
                fetched = http.get(link)
            except FetchError:
                continue  # a missing detail page leaves the item as the listing shows it
            details.append(Fetched(fetched.url, fetched.content, fetched.status, fetched.content_type,
                                   fetched.elapsed_s, {**fetched.headers, DETAIL_ROLE: link}))  # fmt: skip
        return pages + details

    def parse(self, page: Fetched, source: SourceConfig) -> list[Record]:
        """Select every item of one listing page and read each field (detail pages give none alone)."""
        assert isinstance(source, HtmlSource)
        if DETAIL_ROLE in page.headers:
            return []
        out: list[Record] = []
        for item in _soup(page).select(source.item):
            record: Record = {"page_url": page.url, "raw": str(item)[:5000]}
            try:
                record.update(read_fields(source.fields, partial(extract, item)))
                if source.detail is not None:
                    link = extract(item, source.detail.link)
                    record["_detail"] = urljoin(page.url, link) if link else None
                dates = extract_all(item, source.dates) if source.dates else []
            except Exception as exc:  # one odd item never discards the rest of the page
                record["reject_reason"] = reason("html_item", error=type(exc).__name__)
                dates = []
            absolutise_urls(record, page.url)
            if len(dates) > 1:
                uid = record.get("uid") or record.get("url") or record.get("title") or ""
                out.extend({**record, "start": d, "uid": f"{uid}#{i + 1}"} for i, d in enumerate(dates))
            else:
                out.append({**record, "start": dates[0]} if dates else record)
        return out

    def parse_all(self, pages: list[Fetched], source: SourceConfig) -> list[Record]:
        """Records of every listing page, each completed with the fields of its detail page."""
        assert isinstance(source, HtmlSource)
        records = [r for page in pages for r in self.parse(page, source)]
        if source.detail is None:
            return records
        details: dict[str, Record] = {}
        for page in pages:
            if DETAIL_ROLE in page.headers:
                soup = _soup(page)
                fields = read_fields(source.detail.fields, partial(extract, soup))
                absolutise_urls(fields, page.url)
                details[page.headers[DETAIL_ROLE]] = fields
        for record in records:
            extra = details.get(record.pop("_detail", None) or "", {})
            for name, value in extra.items():
                if value and not record.get(name):
                    record[name] = value
        return records
