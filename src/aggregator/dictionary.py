"""The data dictionary (docs/data-dictionary.md), generated from ``schema.py``."""

from __future__ import annotations

from aggregator.schema import SCHEMA_VERSION, TABLES, Column


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
        lines += [f"## `{where}.parquet`", "", table.description, ""]
        lines += ["| column | Arrow type | pandas dtype | nullable | description | constraints |"]
        lines += ["|---|---|---|---|---|---|"]
        for col in table.columns:
            desc = col.description.replace("|", "\\|")
            cons = _constraints(col).replace("|", "\\|")
            nullable = "yes" if col.nullable else "no"
            lines.append(f"| `{col.name}` | `{col.type}` | `{col.pandas_dtype}` | {nullable} | {desc} | {cons} |")
        lines.append("")
    return "\n".join(lines)
