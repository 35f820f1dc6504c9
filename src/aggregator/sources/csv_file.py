"""Kind ``csv``: delimited files (``;`` is common in France), any common encoding, a column mapping."""

from __future__ import annotations

import csv
import io
from functools import partial
from typing import ClassVar, Literal

from pydantic import Field, field_validator

from aggregator.http import Fetched
from aggregator.reasons import reason
from aggregator.records import Record, raw_json
from aggregator.settings import SourceConfig
from aggregator.sources.base import (
    FieldSpec,
    ParseError,
    SinglePage,
    absolutise_urls,
    check_field_names,
    read_fields,
)
from aggregator.sources.encoding import decode
from aggregator.sources.sniff import describe, wrong_format

DELIMITERS = ";,\t|"


class CsvSource(SourceConfig):
    """Settings of a ``csv`` source."""

    kind: Literal["csv"] = "csv"
    fields: dict[str, FieldSpec] = Field(
        description="Raw field name -> column header, or a list of headers joined with a space "
        "(['Date', 'Horaires']; 'Date + Horaires' is read the same)."
    )
    delimiter: str | None = Field(None, min_length=1, max_length=1, description="Default: sniffed.")
    encoding: str | None = Field(None, description="Default: BOM, then UTF-8, then windows-1252.")

    @field_validator("fields")
    @classmethod
    def _fields(cls, value: dict[str, FieldSpec]) -> dict[str, FieldSpec]:
        value = {
            k: [c.strip() for c in v.split(" + ")] if isinstance(v, str) and " + " in v else v for k, v in value.items()
        }
        return check_field_names(value, required=("title",))


def sniff_delimiter(text: str) -> str:
    """The delimiter of ``text`` among ``; , tab |``, from its first lines."""
    sample = "\n".join(text.splitlines()[:20])
    try:
        return csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:
        header = sample.splitlines()[0] if sample else ""
        return max(DELIMITERS, key=header.count)


def _cell(row: list[str], position: dict[str, int], column: str) -> str | None:
    return row[position[column.strip()]].strip() or None


class CsvAdapter(SinglePage):
    """One record per data row; a row with the wrong number of cells is rejected alone."""

    kind: ClassVar[str] = "csv"
    settings: ClassVar[type[SourceConfig]] = CsvSource

    def parse(self, page: Fetched, source: SourceConfig) -> list[Record]:
        """Read the header, then map each row's columns to raw fields."""
        assert isinstance(source, CsvSource)
        if describe(page.content) not in ("delimited text (CSV)", "plain text", "an empty file"):
            raise wrong_format(page.url, "csv", "delimited text (CSV)", page.content)
        text = (
            page.content.decode(source.encoding, errors="replace")
            if source.encoding
            else decode(page.content, page.charset, markup=False)
        )
        delimiter = source.delimiter or sniff_delimiter(text)
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        try:
            header = [h.strip() for h in next(reader)]
        except StopIteration:
            return []
        except csv.Error as exc:
            raise ParseError(f"{page.url}: unreadable CSV header ({exc})") from None
        columns = {c.strip() for spec in source.fields.values() for c in ([spec] if isinstance(spec, str) else spec)}
        missing = sorted(c for c in columns if c not in header)
        if missing:
            raise ParseError(f"{page.url}: column {missing[0]!r} not in the header {header}")
        position = {c: header.index(c) for c in columns}
        out: list[Record] = []
        line = 1
        while True:
            try:
                row = next(reader)
            except StopIteration:
                break
            except csv.Error:
                out.append({"page_url": page.url, "raw": "", "reject_reason": reason("csv_line", line=line + 1)})
                line += 1
                continue
            line += 1
            if not any(cell.strip() for cell in row):
                continue
            record: Record = {"page_url": page.url, "raw": raw_json(dict(zip(header, row, strict=False)))}
            if len(row) != len(header):
                record["reject_reason"] = reason("csv_cells", line=line, cells=len(row), columns=len(header))
            else:
                record.update(read_fields(source.fields, partial(_cell, row, position)))
                absolutise_urls(record, page.url)
            out.append(record)
        return out
