"""The only writer: validated tables to Parquet, CSV for spreadsheets, JSON, text and bytes, atomically."""

from __future__ import annotations

import json
import os
import tempfile
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
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


class BackgroundWrites:
    """Parquet files written in two background threads while the caller validates the next tables.

    Validation holds the interpreter; compressing and writing a Parquet file mostly does not, so
    they overlap on two cores. Tables waiting to be written hold at most ``limit`` bytes (memory
    stays bounded), and a table is never made to wait for another one under that bound: the small
    statistics do not wait for the listings. Leaving the ``with`` block waits for every file and
    raises the first write that failed.
    """

    def __init__(self, limit: int = 1024**3) -> None:
        """Writer threads, idle until a table is submitted.

        Args:
            limit: Most bytes of Arrow tables being written at once (the tables of a million
                listings, about 0.7 GB, are written together); a bigger table waits alone.
        """
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="parquet-writer")
        self._limit = limit
        self._writing: deque[tuple[Future[None], int]] = deque()

    def submit(self, arrow: pa.Table, path: Path) -> None:
        """Write ``arrow`` to ``path`` in the background, once the tables being written leave it room."""
        while self._writing and sum(size for w, size in self._writing if not w.done()) + arrow.nbytes > self._limit:
            self._writing.popleft()[0].result()  # a failed write stops the caller here
        self._writing.append((self._pool.submit(_write_parquet, arrow, path), arrow.nbytes))

    def __enter__(self) -> BackgroundWrites:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *rest: object) -> None:
        try:
            failures = [f for f in (w.exception() for w, _ in self._writing) if f is not None]  # waits for them all
            if failures and exc_type is None:  # never hides the error already raised
                raise failures[0]
        finally:
            self._pool.shutdown(wait=True)


def write_table(
    frame: pd.DataFrame, table: Table, path: Path, validated: bool = False, background: BackgroundWrites | None = None
) -> None:
    """Validate ``frame`` against ``table`` and write it as zstd Parquet with the table's schema.

    ``validated``: ``frame`` holds rows of a frame already validated against ``table`` (a subset);
    the check is not repeated. Arrow's conversion to the table's schema still checks the types.
    ``background``: the file is written there (``BackgroundWrites``), the caller goes on.
    """
    if not validated:
        validate(frame, table)
    arrow = pa.Table.from_pandas(frame, schema=table.arrow_schema(), preserve_index=False)
    if background is not None:
        background.submit(arrow, path)
    else:
        _write_parquet(arrow, path)


def _write_parquet(arrow: pa.Table, path: Path) -> None:
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
    comma being the decimal mark), CRLF line ends, decimal comma in numbers, every text field quoted
    (codes such as ``01`` stay text for readers that respect quotes), empty cells for missing values
    and formula-like cells neutralised (``neutralise_formulas``). Written by Arrow's CSV writer
    (about ten times pandas' ``to_csv`` on a million rows).
    """
    table = _csv_table(neutralise_formulas(frame))
    options = pa_csv.WriteOptions(delimiter=";", eol="\r\n", quoting_style="needed", quoting_header="needed")

    def write(handle: IO[bytes]) -> None:
        handle.write("\ufeff".encode())
        pa_csv.write_csv(table, handle, options)

    _write_with(path, "wb", write)


def _csv_table(frame: pd.DataFrame) -> pa.Table:
    """``frame`` as Arrow columns the CSV writer prints the French way.

    Numbers with a decimal part get a decimal comma (they become text, quoted: spreadsheets still
    read ``"48,85"`` as a number); times print as ``2026-11-05 14:00:00``; anything Arrow cannot type
    (mixed objects) prints as its text.
    """
    columns: dict[str, pa.Array] = {}
    for name in frame.columns:
        values = frame[name]
        try:
            array = pa.array(values, from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            array = pa.array(values.map(lambda v: None if v is None else str(v)), type=pa.string())
        if pa.types.is_floating(array.type):
            text = pc.cast(array, pa.string())
            # Arrow prints 1.0 as "1": keep the decimal part pandas and Python print ("1,0").
            text = pc.if_else(
                pc.match_substring_regex(text, r"^-?\d+$"), pc.binary_join_element_wise(text, ".0", ""), text
            )
            array = pc.replace_substring(text, ".", ",")
        elif pa.types.is_timestamp(array.type):
            array = csv_times(array)
        elif pa.types.is_boolean(array.type):
            array = pc.if_else(array, "True", "False")
        columns[str(name)] = array
    return pa.table(columns)


def csv_times(array: pa.Array) -> pa.Array:
    """Timestamps as ``2026-11-05 14:00:00`` text: the wall-clock time in their zone, when they have one.

    Sub-seconds are dropped (floored: 23:59:59.5 before 1970 stays 23:59:59, where a cast to seconds
    would round towards 1970). Arrow's cast of naive timestamps in seconds to text prints this
    format, about twelve times as fast as ``strftime`` on the 689,432 start times of the core
    benchmark's ``events.csv``.
    """
    if array.type.tz is not None:
        array = pc.local_timestamp(array)
    seconds = pc.floor_temporal(array, unit="second").cast(pa.timestamp("s"))
    return pc.cast(seconds, pa.string())


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
