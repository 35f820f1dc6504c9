"""The data dictionary (docs/data-dictionary.md), generated from ``schema.py``."""

from __future__ import annotations

from aggregator.labels import french_label
from aggregator.schema import SCHEMA_VERSION, TABLES, Column, Table
from aggregator.stats_schema import STATS_TABLES


def _constraints(col: Column) -> str:
    parts = []
    if col.allowed:
        parts.append("one of " + ", ".join(f"`{v}`" for v in col.allowed))
    if col.pattern:
        parts.append(f"matches `{col.pattern}`")
    return "; ".join(parts)


def render() -> str:
    """The Markdown data dictionary of every published table."""
    lines = [
        "# Data dictionary",
        "",
        f"Generated from `src/aggregator/schema.py` (schema version {SCHEMA_VERSION}) by `aggregator docs`;",
        "do not edit by hand. A test fails when this file is stale.",
        "",
        "Types are Arrow types as written to Parquet; `pd.read_parquet` gives the pandas dtype shown.",
        "",
    ]
    for table in TABLES.values():
        where = f"history/{table.name}" if table.name == "source_health" else table.name
        lines += _table(table, f"`{where}.parquet`")
    lines += [
        "## Summary tables (`stats/`)",
        "",
        "Each is written as `stats/<name>.parquet` (these columns and types, `schema_version` in the file's",
        "metadata) and as `stats/<name>.csv` for spreadsheets: UTF-8 with BOM, `;` separator, decimal comma, the",
        "French header shown below, coded values in French where a label exists (see `labels.py`).",
        "",
    ]
    for table in STATS_TABLES.values():
        lines += _table(table, f"`stats/{table.name}.parquet`", level="###")
    return "\n".join(lines)


def _table(table: Table, title: str, level: str = "##") -> list[str]:
    lines = [f"{level} {title}", "", table.description, ""]
    if table.name == "events":
        lines += [
            "Also published for spreadsheets as `events.csv` and `events.xlsx` (French headers below, local times).",
            "",
        ]
    lines += ["| column | French header | Arrow type | pandas dtype | nullable | description | constraints |"]
    lines += ["|---|---|---|---|---|---|---|"]
    for col in table.columns:
        desc = col.description.replace("|", "\\|")
        cons = _constraints(col).replace("|", "\\|")
        nullable = "yes" if col.nullable else "no"
        for_people = table.name == "events" or table.name in STATS_TABLES  # the tables with a CSV for spreadsheets
        label = (french_label(table.name, col.name) or "") if for_people else ""
        lines.append(f"| `{col.name}` | {label} | `{col.type}` | `{col.pandas_dtype}` | {nullable} | {desc} | {cons} |")
    lines.append("")
    return lines
