"""The adapter Protocol every source kind implements, and helpers adapters share to produce raw records."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, ClassVar, Protocol
from urllib.parse import urljoin, urlparse

from aggregator.http import Fetched, HttpClient
from aggregator.reasons import kind_of, reason
from aggregator.records import RAW_FIELDS, NotTextError, Record, raw_json
from aggregator.settings import SourceConfig
from aggregator.urls import PLAIN_URL


class ParseError(ValueError):
    """A whole page could not be parsed; the message says what was wrong."""


class Adapter(Protocol):
    """What a source kind provides: its settings model, a fetcher and a pure parser."""

    kind: ClassVar[str]
    settings: ClassVar[type[SourceConfig]]

    def fetch(self, source: SourceConfig, url: str, http: HttpClient) -> list[Fetched]:
        """Download every page of the source (following pagination) and return their bytes."""
        ...

    def parse(self, page: Fetched, source: SourceConfig) -> list[Record]:
        """Turn one page's bytes into records; never touches the network."""
        ...


def not_text_reject(item: Any, what: str, error: NotTextError) -> Record:
    """The reject of an item one of whose text fields holds a structure."""
    return {"raw": raw_json(item), "reject_reason": reason("not_text", what=what, found=error.found)}


# A field's source: one path, column or selector, or several whose texts are joined with a space
# (``start: [Date, Horaires]``).
FieldSpec = str | list[str]


def check_field_names(fields: dict[str, FieldSpec], required: tuple[str, ...] = ()) -> dict[str, FieldSpec]:
    """Validate that a field mapping only names known raw fields and has the ``required`` ones."""
    unknown = sorted(set(fields) - set(RAW_FIELDS))
    if unknown:
        raise ValueError(f"unknown field {unknown[0]!r} (valid fields: {', '.join(RAW_FIELDS)})")
    missing = [name for name in required if name not in fields]
    if missing:
        raise ValueError(f"a mapping for {missing[0]!r} is required")
    empty = [name for name, spec in fields.items() if isinstance(spec, list) and not spec]
    if empty:
        raise ValueError(f"field {empty[0]!r}: give at least one source to join")
    return fields


def read_fields(fields: Mapping[str, FieldSpec], read: Callable[[str], str | None]) -> Record:
    """Each raw field of a mapping, read with ``read`` (a path, column or selector -> text).

    A list joins its non-empty texts with a space. A joined ``start`` also gives ``start_date``
    (its first text, usually the date column alone) unless the mapping names one: normalisation
    falls back to it, with a warning, when the joined text cannot be read whole.
    """
    record: Record = {}
    for name, spec in fields.items():
        if isinstance(spec, str):
            record[name] = read(spec)
            continue
        parts = [text.strip() for text in (read(s) for s in spec) if text and text.strip()]
        record[name] = " ".join(parts) or None
        if name == "start" and "start_date" not in fields and len(parts) > 1:
            record["start_date"] = parts[0]
    return record


URL_FIELDS = ("url", "registration_url", "online_url")


def absolutise_urls(record: Record, base: str) -> None:
    """Make the record's URL fields absolute against the page URL; drop values that are not http(s)."""
    for name in URL_FIELDS:
        value = record.get(name)
        if not value:
            continue
        value = value.strip()
        if PLAIN_URL.fullmatch(value):
            record[name] = value
            continue
        joined = urljoin(base, value)
        record[name] = joined if urlparse(joined).scheme in ("http", "https") else None


class SinglePage:
    """Mixin for adapters whose source is one document: ``fetch`` downloads the URL once."""

    def fetch(self, source: SourceConfig, url: str, http: HttpClient) -> list[Fetched]:
        """Fetch the document."""
        return [http.get(url)]


def map_items(
    items: Iterable[Any], mapper: Callable[[dict[str, Any]], list[Record]], page_url: str, what: str
) -> list[Record]:
    """Map each item of a page to records, rejecting alone (with its reason) an item that cannot be read.

    Args:
        items: Items read from one page.
        mapper: Turns one item (a dict) into its records.
        page_url: URL of the page, set on every record and used to make links absolute.
        what: Name of an item in messages ("event", "DATAtourisme record").
    """
    out: list[Record] = []
    for item in items:
        records: list[Record]
        if not isinstance(item, dict):
            records = [{"raw": raw_json(item), "reject_reason": reason("not_object", what=what, found=kind_of(item))}]
        else:
            try:
                records = mapper(item)
            except NotTextError as exc:
                records = [not_text_reject(item, what, exc)]
            except Exception as exc:  # one odd item never discards the page
                records = [
                    {"raw": raw_json(item), "reject_reason": reason("unreadable", what=what, error=type(exc).__name__)}
                ]
        for record in records:
            record["page_url"] = page_url
            absolutise_urls(record, page_url)
            out.append(record)
    return out
