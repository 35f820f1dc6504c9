"""Helpers on columns (``aggregator.frames``) give what the pandas operations they replace give."""

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from aggregator.frames import is_in, take_columns

FRAME = pd.DataFrame(
    {
        "text": pd.Series(["a", None, "ccc", "dé", "e", ""], dtype="str"),
        "start": pd.to_datetime(["2026-11-01", None, "2026-11-03", "2026-11-04", "2026-11-05", "2026-11-06"], utc=True),
        "flag": [True, False, True, False, True, False],
        "number": [1.5, np.nan, 3.0, -4.0, 5.25, 0.0],
        "lists": pd.Series([["x"], [], None, ["y", "z"], ["w"], ["v"]], dtype="object"),
    },
    index=[10, 11, 12, 13, 14, 15],  # not positions: a take must use positions
)
positions = arrays(np.int64, st.integers(0, 8), elements=st.integers(0, len(FRAME) - 1))


@settings(max_examples=100, deadline=None)
@given(st.fixed_dictionaries({name: positions for name in FRAME.columns}), st.none() | positions)
def test_threads_take_what_one_take_after_another_takes(rows, order):
    if order is not None:  # ``order`` indexes into each column's positions
        order = order[order < min(len(p) for p in rows.values())] if min(len(p) for p in rows.values()) else order[:0]
    got = take_columns({name: FRAME[name] for name in FRAME.columns}, rows, order)
    assert list(got) == list(FRAME.columns)
    for name, series in got.items():
        wanted = rows[name] if order is None else rows[name][order]
        pd.testing.assert_series_equal(series, FRAME[name].take(wanted).reset_index(drop=True))


CODES = st.none() | st.sampled_from(["75056", "29019", "2A004", "", "é"]) | st.text(max_size=3)


@given(st.lists(CODES, max_size=30), st.lists(CODES, max_size=30), st.sampled_from(["object", "str"]))
def test_is_in_is_pandas_isin_of_strings(values, value_set, dtype):
    series, wanted = pd.Series(values, dtype=dtype), pd.Series(value_set, dtype=dtype)
    expected = series.isin(wanted).to_numpy() & series.notna().to_numpy()  # a missing value is never in
    assert is_in(series, wanted).tolist() == expected.tolist()
    assert is_in(series, pd.Index(wanted)).tolist() == expected.tolist()
