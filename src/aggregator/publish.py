"""The only writer: validated tables to Parquet, CSV for spreadsheets, JSON, text and bytes, atomically."""

from __future__ import annotations

import csv
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from aggregator.schema import Table
from aggregator.validation import validate


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it replaces ``path`` in one rename.

    A reader sees the old file or the new one, never half a file; on error the temporary file is removed.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes files private; outputs are for readers
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def remove_leftovers(directory: Path) -> list[Path]:
    """Delete the temporary files a killed writer left under ``directory``; returns them.

    Safe only when no other run writes there at the same time, which the output's lock
    (``lock.local_lock``, held by the caller) guarantees: any leftover is a dead run's.
    """
    leftovers = [p for p in directory.rglob(".*.tmp") if p.is_file()] if directory.exists() else []
    for path in leftovers:
        path.unlink(missing_ok=True)
    return leftovers


def _write_with(path: Path, mode: str, writer: Callable[[IO[Any]], object], encoding: str = "utf-8") -> None:
    with (
        atomic_path(path) as tmp,
        open(tmp, mode, encoding=None if "b" in mode else encoding, newline=None if "b" in mode else "") as handle,
    ):
        writer(handle)


def write_table(frame: pd.DataFrame, table: Table, path: Path, validated: bool = False) -> None:
    """Validate ``frame`` against ``table`` and write it as zstd Parquet with the table's schema.

    ``validated``: ``frame`` holds rows of a frame already validated against ``table`` (a subset);
    the check is not repeated. Arrow's conversion to the table's schema still checks the types.
    """
    if not validated:
        validate(frame, table)
    arrow = pa.Table.from_pandas(frame, schema=table.arrow_schema(), preserve_index=False)
    with atomic_path(path) as tmp:
        pq.write_table(arrow, tmp, compression="zstd", row_group_size=128 * 1024)


# What a spreadsheet takes for the start of a formula (OWASP "CSV injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with every text cell that a spreadsheet would run as a formula prefixed with ``'``.

    An organiser named ``=HYPERLINK("http://…")`` must reach Excel or LibreOffice as text. Numbers
    (a negative count) are left alone: only text columns are read.
    """
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column]):
            values = out[column]
            try:  # vectorised: non-text values (None, lists) give NA, read as not risky
                risky = values.str.startswith(FORMULA_START, na=False)
            except AttributeError:  # no text at all in the column (dates, all null): nothing to neutralise
                continue
            if risky.any():
                out[column] = values.where(~risky, "'" + values.astype(str))
    return out


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """Write ``frame`` as a CSV that French spreadsheets open as they should.

    UTF-8 with a BOM (Excel reads accents right), ``;`` separator (the French list separator, the
    comma being the decimal mark), decimal comma in numbers, every text field quoted (codes such
    as ``01`` stay text for readers that respect quotes) and formula-like cells neutralised
    (``neutralise_formulas``).
    """
    safe = neutralise_formulas(frame)
    _write_with(
        path,
        "w",
        lambda h: safe.to_csv(
            h, index=False, sep=";", decimal=",", quoting=csv.QUOTE_NONNUMERIC, lineterminator="\r\n"
        ),
        encoding="utf-8-sig",
    )


def write_json(data: Any, path: Path) -> None:
    """Write ``data`` as indented UTF-8 JSON."""
    text = json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n"
    _write_with(path, "w", lambda h: h.write(text))


def write_text(text: str, path: Path) -> None:
    """Write ``text`` as UTF-8."""
    _write_with(path, "w", lambda h: h.write(text))


def write_bytes(data: bytes, path: Path) -> None:
    """Write ``data`` as it is (images, spreadsheets)."""
    _write_with(path, "wb", lambda h: h.write(data))


def read_previous(path: Path) -> pd.DataFrame | None:
    """The previously published table at ``path``, or None when there is none or it is unreadable."""
    if not path.exists():
        return None
    try:
        return pd.read_parquet(path)
    except (OSError, pa.ArrowException):
        return None
