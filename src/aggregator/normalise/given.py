"""Values a caller of the library gave where text is expected (numbers, dates, lists, objects), read as text."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from aggregator.reasons import reason
from aggregator.records import RAW_FIELDS, NotTextError, raw_json, to_text

STRUCTURES = (list, tuple, dict, set, np.ndarray)


def values_as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with its text fields holding text only, read as adapters read values (``to_text``).

    Adapters give strings; a caller of the library may not. A number or a boolean becomes its
    text, a date or time its ISO text, a list of scalars its items joined with ", "; an object or
    a list of structures rejects its row (``not_text``), with what it held in ``raw``. Columns of
    strings only (every column from an adapter) are checked at C speed.

    Args:
        frame: Raw records, with every one of ``RAW_FIELDS`` and ``raw`` and ``reject_reason``.
    """
    odd = [name for name in RAW_FIELDS if pd.api.types.infer_dtype(frame[name], skipna=True) not in ("string", "empty")]
    held = {
        name: frame[name].map(lambda v: v is not None and not isinstance(v, str)).to_numpy(dtype=bool) for name in odd
    }
    structured = {name: frame[name].map(lambda v: isinstance(v, STRUCTURES)).to_numpy(dtype=bool) for name in odd}
    rejected = np.logical_or.reduce([structured[name] for name in odd] or [np.zeros(len(frame), dtype=bool)])
    if rejected.any():  # what was given, before any of it is read as text, for the rejects table
        rows = frame.index[rejected & frame["raw"].isna().to_numpy()]
        original = frame.loc[rows, list(RAW_FIELDS)].map(_plain)
        frame.loc[rows, "raw"] = pd.Series([raw_json(r.dropna().to_dict()) for _, r in original.iterrows()], index=rows)
    for name in odd:
        rows = frame.index[held[name]]
        texts: list[str | None] = []
        found: list[str | None] = []
        for value in frame.loc[rows, name].tolist():
            try:
                texts.append(to_text(_plain(value)))
                found.append(None)
            except NotTextError as exc:
                texts.append(None)
                found.append(exc.found)
        frame[name] = frame[name].astype("object")
        frame.loc[rows, name] = pd.Series(texts, index=rows, dtype="object")
        why = pd.Series([None if f is None else reason("not_text", what="record", found=f) for f in found], index=rows)
        given = frame.loc[rows, "reject_reason"]
        frame.loc[rows, "reject_reason"] = given.where(given.notna(), why)
    if frame["raw"].notna().any() and pd.api.types.infer_dtype(frame["raw"], skipna=True) != "string":
        frame["raw"] = frame["raw"].map(lambda v: v if v is None or isinstance(v, str) else raw_json(v))
    return frame


def _plain(value: object) -> object:
    """Tuples, sets (in sorted order: the text must not depend on hashing) and arrays as lists; dates as ISO text.

    A whole float is an integer: pandas turns a column of integers with a gap into floats
    (postal code 29200 would read "29200.0").
    """
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, date):  # datetime and pandas' Timestamp too: what a date text would say
        return value.isoformat()
    if isinstance(value, set):
        return sorted(value, key=str)
    if isinstance(value, tuple | np.ndarray):
        return list(value)
    return value
