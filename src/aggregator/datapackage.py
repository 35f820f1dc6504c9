"""``datapackage.json``: a Frictionless Data Package (Table Schema) of every published table, from the schema."""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from aggregator import __version__
from aggregator.labels import BOOLEAN_LABELS, VALUE_LABELS, column_label, french_label
from aggregator.schema import CHANGES, EVENTS, LISTINGS, MATCHES, REJECTS, SCHEMA_VERSION, SOURCE_HEALTH, Column, Table
from aggregator.spreadsheets import EVENT_COLUMNS, LOCAL_TIME_COLUMNS
from aggregator.stats_schema import STATS_TABLES

# The Parquet tables and where each is published in a run's folder.
PARQUET = (
    (EVENTS, "events.parquet"),
    (LISTINGS, "listings.parquet"),
    (REJECTS, "rejects.parquet"),
    (MATCHES, "matches.parquet"),
    (CHANGES, "changes.parquet"),
    (SOURCE_HEALTH, "history/source_health.parquet"),
)
CSV_DIALECT = {"delimiter": ";", "quoteChar": '"', "doubleQuote": True, "header": True}
LOCAL_DATETIME = "%Y-%m-%d %H:%M:%S"


def _type(column: Column) -> dict[str, Any]:
    kind = column.type
    if pa.types.is_timestamp(kind):
        return {"type": "datetime"}
    if pa.types.is_date(kind):
        return {"type": "date"}
    if pa.types.is_boolean(kind):
        return {"type": "boolean"}
    if pa.types.is_integer(kind):
        return {"type": "integer"}
    if pa.types.is_floating(kind):
        return {"type": "number"}
    if pa.types.is_list(kind):
        # Table Schema's "array" is a JSON array in text; Parquet holds a native list<string> column.
        return {"type": "any", "x-arrow-type": str(kind)}
    return {"type": "string"}


def _field(table: Table, column: Column, for_people: bool) -> dict[str, Any]:
    field: dict[str, Any] = {"name": column.name}
    if label := french_label(table.name, column.name):
        field["title"] = label
    field["description"] = column.description
    field.update(_type(column))
    constraints: dict[str, Any] = {}
    if not column.nullable:
        constraints["required"] = True
    labels = VALUE_LABELS.get((table.name, column.name)) if for_people else None
    if column.allowed:
        constraints["enum"] = [labels.get(v, v) for v in column.allowed] if labels else list(column.allowed)
    if column.pattern:
        constraints["pattern"] = column.pattern
    if for_people:
        field["name"] = column_label(table.name, column.name)
        field["x-column"] = column.name  # the column's name in the Parquet files
        if field["type"] == "number":
            field["decimalChar"] = ","
        if field["type"] == "boolean":
            field["trueValues"], field["falseValues"] = [BOOLEAN_LABELS[True]], [BOOLEAN_LABELS[False]]
        if column.name in LOCAL_TIME_COLUMNS and table is EVENTS:
            field.update(type="datetime", format=LOCAL_DATETIME)
            field["description"] += " Here: local wall-clock time of the event's place (see timezone)."
        if column.is_list:
            field["type"] = "string"
            field.pop("x-arrow-type", None)
            field["description"] += " Here: joined with ', '."
    if constraints:
        field["constraints"] = constraints
    return field


def _schema(table: Table, columns: list[str], for_people: bool) -> dict[str, Any]:
    fields = [_field(table, table.column(name), for_people) for name in columns]
    return {"fields": fields, "missingValues": [""]}


def _parquet_resource(table: Table, path: str) -> dict[str, Any]:
    return {
        "name": path.removesuffix(".parquet").replace("/", "-").replace("_", "-"),
        "path": path,
        "format": "parquet",
        "mediatype": "application/vnd.apache.parquet",
        "description": table.description,
        "schema": _schema(table, table.names, for_people=False),
    }


def _csv_resource(table: Table, path: str, columns: list[str]) -> dict[str, Any]:
    return {
        "name": path.removesuffix(".csv").replace("/", "-").replace("_", "-") + "-csv",
        "path": path,
        "format": "csv",
        "mediatype": "text/csv",
        "encoding": "utf-8-sig",
        "dialect": dict(CSV_DIALECT),
        "description": table.description + " For spreadsheets: French headers and values, UTF-8 with BOM, ';'.",
        "schema": _schema(table, columns, for_people=True),
    }


def package(data_as_of: str, stats: list[str]) -> dict[str, Any]:
    """The data package of one run's folder.

    Args:
        data_as_of: When the data was collected (ISO), the package's ``created``.
        stats: Names of the summary tables published under ``stats/``.
    """
    resources = [_parquet_resource(table, path) for table, path in PARQUET]
    resources.append(_csv_resource(EVENTS, "events.csv", list(EVENT_COLUMNS)))
    for name in stats:
        table = STATS_TABLES[name]
        resources.append(_parquet_resource(table, f"stats/{name}.parquet"))
        resources.append(_csv_resource(table, f"stats/{name}.csv", table.names))
    return {
        "name": "mois-innovation-publique-evenements",
        "title": "Mois de l’innovation publique : les événements agrégés",
        "description": "Events of the Mois de l'innovation publique gathered from public agendas, normalised and "
        "deduplicated every night. Schema version " + SCHEMA_VERSION + "; see docs/data-dictionary.md.",
        "version": SCHEMA_VERSION,
        "created": data_as_of,
        "sources": [{"title": "Geography: INSEE COG 2025, La Poste, IGN Admin Express (Licence Ouverte)"}],
        "contributors": [{"title": f"aggregator {__version__}", "role": "author"}],
        "resources": resources,
    }
