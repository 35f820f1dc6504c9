"""How a published table is described: its columns (name, Arrow type, meaning) and the table itself."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import pandas as pd
import pyarrow as pa

# Version of the published tables' schema, written into every Parquet file's metadata.
SCHEMA_VERSION = "1.3"


@dataclass(frozen=True)
class Column:
    """One column of a published table.

    Attributes:
        name: Column name, stable across releases.
        type: Arrow type written to Parquet.
        nullable: Whether missing values are allowed.
        description: Meaning of the column, copied to the Parquet field metadata and the data dictionary.
        allowed: Closed set of values, when the column is an enumeration.
        pattern: Regular expression every non-null value must match in full.
    """

    name: str
    type: pa.DataType
    nullable: bool
    description: str
    allowed: tuple[str, ...] | None = None
    pattern: str | None = None

    @property
    def pandas_dtype(self) -> str:
        """The pandas dtype this column has in memory and after ``pd.read_parquet``."""
        if pa.types.is_timestamp(self.type):
            return "datetime64[us, UTC]"
        if pa.types.is_string(self.type):
            return "str"
        if pa.types.is_boolean(self.type):
            return "bool" if not self.nullable else "boolean"
        if pa.types.is_integer(self.type):
            return "int64" if not self.nullable else "Int64"
        if pa.types.is_floating(self.type):
            return "float64"
        return "object"  # lists of strings, dates (``datetime.date``)

    @property
    def is_list(self) -> bool:
        """Whether values are lists (of strings)."""
        return bool(pa.types.is_list(self.type))


@dataclass(frozen=True)
class Table:
    """A published table: a name, a purpose and ordered columns."""

    name: str
    description: str
    columns: tuple[Column, ...] = field(default_factory=tuple)

    @property
    def names(self) -> list[str]:
        """Column names in order."""
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        """Return the column called ``name``."""
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)

    def arrow_schema(self) -> pa.Schema:
        """The Arrow schema used to write this table, with descriptions as field metadata."""
        fields = [
            pa.field(c.name, c.type, nullable=c.nullable, metadata={"description": c.description}) for c in self.columns
        ]
        return pa.schema(
            fields,
            metadata={"table": self.name, "schema_version": SCHEMA_VERSION},
        )

    def empty_frame(self) -> pd.DataFrame:
        """An empty DataFrame with this table's columns and dtypes."""
        return pd.DataFrame({c.name: pd.Series([], dtype=c.pandas_dtype) for c in self.columns})


def column(
    name: str,
    type_: pa.DataType,
    nullable: bool,
    description: str,
    *,
    allowed: Iterable[str] | None = None,
    pattern: str | None = None,
) -> Column:
    """A ``Column`` (``allowed`` as any iterable), as the table definitions write them."""
    return Column(name, type_, nullable, description, tuple(allowed) if allowed else None, pattern)
