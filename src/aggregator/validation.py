"""Validation of DataFrames against the published schema, built with pandera from ``schema.py``."""

from __future__ import annotations

import os
from datetime import date, datetime
from functools import cache
from typing import Any, cast

import pandas as pd
import pandera.pandas as pa
import pyarrow
import pyarrow.compute

from aggregator.schema import Column, Table

# Importing pandera sets PYARROW_IGNORE_TIMEZONE=1 for pyspark (pandera/external_config.py), and
# pyarrow then reads the wall-clock time of every aware Python datetime given to ``pa.array`` as
# UTC (10:00 in Paris became 10:00Z): this project has no pyspark, so the setting goes.
os.environ.pop("PYARROW_IGNORE_TIMEZONE", None)


class SchemaError(ValueError):
    """A table does not match its published schema."""


def _is_list_of_str(value: Any) -> bool:
    return isinstance(value, list | tuple) and all(isinstance(v, str) for v in value)


def _lists_of_str(series: pd.Series) -> pd.Series | bool:
    # Arrow checks a whole column at C speed; only a column that fails is checked value by value,
    # so that the error names the bad rows.
    try:
        values = pyarrow.array(series, pyarrow.list_(pyarrow.string()), from_pandas=True)
        if (
            values.null_count == 0
            and pyarrow.compute.list_flatten(values).null_count == 0
            and series.map(type).isin((list, tuple)).all()
        ):
            return True
    except (pyarrow.ArrowInvalid, pyarrow.ArrowTypeError, pyarrow.ArrowNotImplementedError):
        pass  # e.g. a column of text: no cast from strings to lists
    return series.map(_is_list_of_str)


def _checks(col: Column) -> list[pa.Check]:
    checks: list[pa.Check] = []
    if col.allowed is not None:
        checks.append(pa.Check.isin(list(col.allowed)))
    if col.pattern is not None:
        checks.append(pa.Check.str_matches(rf"^(?:{col.pattern})$"))
    if col.is_list:
        checks.append(pa.Check(_lists_of_str, element_wise=False, name="list_of_str"))
    elif pyarrow.types.is_date(col.type):
        checks.append(pa.Check(lambda v: isinstance(v, date) and not isinstance(v, datetime), element_wise=True,
                               name="date"))  # fmt: skip
    return checks


@cache
def pandera_schema(table: Table) -> pa.DataFrameSchema:
    """The pandera schema derived from ``table``: dtypes, nullability, enumerations, patterns."""
    columns = {
        c.name: pa.Column(
            None if c.pandas_dtype == "object" else c.pandas_dtype,
            checks=_checks(c),
            nullable=c.nullable,
            required=True,
        )
        for c in table.columns
    }
    return pa.DataFrameSchema(columns, strict=True, ordered=True, name=table.name)


def conform(frame: pd.DataFrame, table: Table) -> pd.DataFrame:
    """Return ``frame`` restricted to the table's columns, in order, cast to the documented dtypes.

    Missing nullable columns are added as nulls, so that stages only fill what they know.
    """
    out = pd.DataFrame(index=frame.index)
    for col in table.columns:
        missing = pd.Series(None, index=frame.index, dtype="object")
        series = frame[col.name] if col.name in frame.columns else missing
        if col.pandas_dtype == "object":
            out[col.name] = series
        elif col.pandas_dtype.startswith("datetime64"):
            out[col.name] = pd.to_datetime(series, utc=True).astype(cast(Any, col.pandas_dtype))
        else:
            out[col.name] = series.astype(cast(Any, col.pandas_dtype))
    return out.reset_index(drop=True)


def validate(frame: pd.DataFrame, table: Table) -> pd.DataFrame:
    """Check ``frame`` against ``table`` and return it; raise ``SchemaError`` listing every failure.

    A frame ``conforms`` finds right is returned at once; any other goes to pandera, which accepts
    it or names every bad value.
    """
    if conforms(frame, table):
        return frame
    try:
        return pandera_schema(table).validate(frame, lazy=True)
    except (pa.errors.SchemaErrors, pa.errors.SchemaError) as exc:
        raise SchemaError(f"table {table.name!r} does not match its schema:\n{exc}") from exc


def conforms(frame: pd.DataFrame, table: Table) -> bool:
    """Whether ``frame`` passes ``pandera_schema(table)``, checked column by column with Arrow and numpy.

    True only when pandera would accept the frame (a differential test holds them to it); False
    means "not sure" and the caller asks pandera. pandera's cost is mostly per check (about 1 s on
    the samples' small tables, where this costs little); at a million rows it is about 3 s and this
    about 2 s, most of it Arrow reading the list columns. Values are checked as pandera
    checks them: nulls pass every check but nullability; patterns must match in full (RE2 is
    stricter than Python's ``re`` on these patterns: ``$`` before a final newline, Unicode digits).
    """
    if list(frame.columns) != table.names:
        return False
    for col in table.columns:
        series = frame[col.name]
        if col.pandas_dtype != "object" and series.dtype != _dtype(col.pandas_dtype):
            return False
        if not col.nullable and series.isna().any():
            return False
        if (col.allowed is not None or col.pattern is not None) and not _strings_conform(series, col):
            return False
        if col.is_list and (series.dtype != object or _lists_of_str(series) is not True):
            return False
        if pyarrow.types.is_date(col.type) and any(type(v) is not date for v in series.dropna().tolist()):
            return False
    return True


@cache
def _dtype(name: str) -> Any:
    return pd.api.types.pandas_dtype(name)


def _strings_conform(series: pd.Series, col: Column) -> bool:
    """Enumeration and pattern of an Arrow-backed text column, nulls aside (else False: not sure)."""
    if series.dtype != _dtype("str"):
        return False
    values = pyarrow.compute.drop_null(pyarrow.array(series.array))
    if not len(values):
        return True
    if (
        col.allowed is not None
        and not pyarrow.compute.all(
            pyarrow.compute.is_in(values, value_set=pyarrow.array(col.allowed, pyarrow.string()))
        ).as_py()
    ):
        return False
    if col.pattern is not None:
        try:
            matched = pyarrow.compute.match_substring_regex(values, rf"^(?:{col.pattern})$")
        except pyarrow.ArrowInvalid:  # a pattern RE2 cannot compile: pandera's ``re`` decides
            return False
        return bool(pyarrow.compute.all(matched).as_py())
    return True
