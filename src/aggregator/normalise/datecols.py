"""Dates of raw rows read in bulk: start, end, all day, and why a start could not be read."""

from __future__ import annotations

from datetime import date, datetime

import numpy as np
import pandas as pd

from aggregator.normalise.dates import DateParseError, next_day, parse_local, to_utc
from aggregator.normalise.prose import find_french, parse_french
from aggregator.reasons import reason

Read = tuple[datetime | None, datetime | None, bool, str | None]


def _read_span(text: str, tz: str, reference: date, search: bool = False, floor: bool = False) -> Read:
    """(start UTC, end UTC, all_day, error) from ISO/numeric dates, else French prose.

    With ``search``, the date is looked for inside free text (``when``) instead; with ``floor``,
    ``reference`` is when the text was published and a missing year never puts the date before it.
    """
    try:
        try:
            local = parse_local(text)
            start, end, all_day = local.value, None, local.all_day
        except DateParseError:
            span = find_french(text, reference, floor) if search else parse_french(text, reference, floor)
            start, end, all_day = span.start, span.end, span.all_day
        if all_day:
            return to_utc(start, tz), to_utc(next_day(end or start), tz), True, None
        return to_utc(start, tz), to_utc(end, tz) if end is not None else None, False, None
    except DateParseError as exc:
        return None, None, False, str(exc)
    except (OverflowError, ValueError) as exc:
        return None, None, False, f"date out of range {text!r}: {exc}"


# Local ISO dates and date-times without offset: most values, read in bulk (see ``_read_iso``).
ISO_LOCAL = r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2})?)?"


def _utc(values: object, index: pd.Index) -> pd.Series:
    return pd.to_datetime(pd.Series(values, index=index, dtype="object"), utc=True).astype("datetime64[us, UTC]")


def _read_iso(texts: pd.Series, zones: pd.Series) -> pd.DataFrame:
    """``_read_span`` of local ISO values, vectorised; rows it cannot settle are left out.

    Left out: invalid dates (the scalar path words the error) and wall-clock times that a DST change
    makes ambiguous or skips (the scalar path's ``zoneinfo`` rule applies to them).
    """
    naive = pd.to_datetime(texts, format="ISO8601", errors="coerce")
    all_day = texts.str.len() == 10
    parts = []
    for tz, rows in naive.groupby(zones, sort=False):
        start = rows.dt.tz_localize(str(tz), ambiguous="NaT", nonexistent="NaT")
        midnight_after = (rows + pd.Timedelta(days=1)).dt.tz_localize(str(tz), ambiguous="NaT", nonexistent="NaT")
        day = all_day[rows.index]
        end = midnight_after.where(day)
        settled = start.notna() & (~day | end.notna())
        parts.append(
            pd.DataFrame(
                {
                    "start": start[settled].dt.tz_convert("UTC").astype("datetime64[us, UTC]"),
                    "end": end[settled].dt.tz_convert("UTC").astype("datetime64[us, UTC]"),
                    "all_day": day[settled],
                }
            )
        )
    if not parts:
        return pd.DataFrame({"start": _utc([], texts.index[:0]), "end": _utc([], texts.index[:0]), "all_day": []})
    return pd.concat(parts)


def _has_text(texts: pd.Series) -> pd.Series:
    """Rows holding a string with something other than spaces."""
    # ``t.strip()`` is empty exactly when ``t`` is empty or all whitespace; a loop, not ``map``: a tenth of the time.
    filled = (isinstance(t, str) and t != "" and not t.isspace() for t in texts.tolist())
    return pd.Series(np.fromiter(filled, dtype=bool, count=len(texts)), index=texts.index)


def _read_column(
    texts: pd.Series, zones: pd.Series, references: pd.Series, search: bool, floors: pd.Series | None = None
) -> pd.DataFrame:
    """``_read_span`` of every row: start and end (UTC), all_day and error; blank texts give nothing.

    Bulk reading for local ISO values, then one ``_read_span`` call per distinct remaining
    (text, zone, reference): sources repeat dates, and prose is costly to read.
    """
    index = texts.index
    out = pd.DataFrame(
        {"start": _utc([None] * len(index), index), "end": _utc([None] * len(index), index), "all_day": False},
        index=index,
    )
    out["error"] = pd.Series(None, index=index, dtype="object")
    present = _has_text(texts)
    todo = present
    if not search:
        iso = present & texts.where(present, "").astype(str).str.fullmatch(ISO_LOCAL)
        if iso.any():
            read = _read_iso(texts[iso].astype(str), zones[iso])
            out.loc[read.index, ["start", "end", "all_day"]] = read[["start", "end", "all_day"]]
            todo = present & ~index.isin(read.index)
    if todo.any():
        floor = floors[todo] if floors is not None else pd.Series(False, index=index[todo.to_numpy()])
        keys = pd.MultiIndex.from_arrays([texts[todo], zones[todo], references[todo], floor])
        codes, uniques = keys.factorize()
        spans = [_read_span(text, tz, ref, search, bool(fl)) for text, tz, ref, fl in uniques]
        rows = index[todo.to_numpy()]
        out.loc[rows, "start"] = _utc([spans[c][0] for c in codes], rows)
        out.loc[rows, "end"] = _utc([spans[c][1] for c in codes], rows)
        out.loc[rows, "all_day"] = [spans[c][2] for c in codes]
        out.loc[rows, "error"] = pd.Series([spans[c][3] for c in codes], index=rows, dtype="object")
    out["all_day"] = out["all_day"].astype(bool)
    return out


def read_dates(frame: pd.DataFrame, references: pd.Series) -> pd.DataFrame:
    """Parse start and end in each row's zone; returns start_at, end_at, all_day, error, warning.

    A row with ``published`` (a feed item) infers missing years from its publication date, never
    before it.
    """
    index, zones = frame.index, frame["timezone"]
    published = pd.to_datetime(frame["published"], errors="coerce", utc=True, format="ISO8601")
    floors = published.notna()
    if floors.any():
        references = references.where(~floors, published.dt.date)
    has_start = _has_text(frame["start"])
    # No start: the date is looked for inside the free text of ``when``.
    read = pd.concat(
        [
            _read_column(frame["start"][has_start], zones[has_start], references[has_start], search=False),
            _read_column(
                frame["when"][~has_start], zones[~has_start], references[~has_start], True, floors[~has_start]
            ),
        ]
    ).reindex(index)
    error = read["error"].astype("object")
    warning = pd.Series(None, index=index, dtype="object")
    # A start joined from several fields (date + times) that cannot be read whole: the date alone.
    fallback = error.notna() & _has_text(frame["start_date"])
    if fallback.any():
        alone = _read_column(frame["start_date"][fallback], zones[fallback], references[fallback], search=False)
        alone = alone[alone["start"].notna()]
        read.loc[alone.index, ["start", "end", "all_day"]] = alone[["start", "end", "all_day"]]
        warning[alone.index] = (
            "start not read whole ("
            + error[alone.index].astype(str)
            + "); the date alone was kept: "
            + frame.loc[alone.index, "start_date"].astype(str)
        )
        error[alone.index] = None
    error = error.where(error.isna(), reason("bad_start", detail="") + error.astype(str))
    error = error.where(read["start"].notna() | error.notna(), reason("no_start"))
    error = error.where(read["start"].isna(), None)
    explicit = _read_column(frame["end"], zones, references, search=False)
    # An all-day end names its last day: the event runs until the midnight after it.
    end = read["end"].where(explicit["start"].isna(), explicit["end"].where(explicit["all_day"], explicit["start"]))
    end = end.where(~(end < read["start"]))  # an end before the start is a typo; the start is the reliable part
    return pd.DataFrame(
        {
            "start_at": read["start"],
            "end_at": end,
            "all_day": read["all_day"].astype(bool),
            "error": error,
            "warning": warning,
        },
        index=index,
    )
