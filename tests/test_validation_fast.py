"""The quick schema check (``conforms``) never accepts what pandera refuses, and accepts what runs publish."""

import datetime as dt

import numpy as np
import pandas as pd
import pandera.errors
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import aggregator.validation as validation
from aggregator import feeds
from aggregator.config import load_config
from aggregator.pipeline import run
from aggregator.schema import EVENTS, LISTINGS
from aggregator.tables import Column, Table
from aggregator.validation import conform, conforms, pandera_schema, validate

UTC = pa.timestamp("us", tz="UTC")
TABLE = Table(
    "probe",
    "every kind of column the published tables have",
    (
        Column("code", pa.string(), False, "", pattern=r"[0-9][0-9AB][0-9]{3}"),
        Column("postal", pa.string(), True, "", pattern=r"\d{5}"),
        Column("kind", pa.string(), True, "", allowed=("a", "b")),
        Column("name", pa.string(), False, ""),
        Column("at", UTC, False, ""),
        Column("flag", pa.bool_(), False, ""),
        Column("n", pa.int64(), True, ""),
        Column("count", pa.int64(), False, ""),
        Column("x", pa.float64(), True, ""),
        Column("tags", pa.list_(pa.string()), False, ""),
        Column("day", pa.date32(), True, ""),
    ),
)
# Per column: values the schema takes, and values it refuses (or that Python's ``re`` and RE2 read apart).
GOOD = {
    "code": ["75056", "2A004", "97411"],
    "postal": ["75001", "20000", None],
    "kind": ["a", "b", None],
    "name": ["Atelier", "", "x" * 30],
    "at": [pd.Timestamp("2026-11-03T13:00Z"), pd.Timestamp("2026-11-30T23:00Z")],
    "flag": [True, False],
    "n": [1, None, -3],
    "count": [0, 5],
    "x": [1.5, None, -2.0],
    "tags": [["a"], [], ["a", "b"]],
    "day": [dt.date(2026, 11, 3), None],
}
BAD = {
    "code": ["7505", "75056\n", "2C004", "", None, "750561"],
    "postal": ["١٢٣٤٥", "7500", "75001\n", "75 001"],  # Arabic-Indic digits: Python's \d takes them
    "kind": ["c", "", "A"],
    "name": [None, np.nan],
    "at": [pd.NaT, None],
    "flag": [None],
    "n": [1.5],
    "count": [None],
    "x": ["1.5"],
    "tags": [None, ["a", None], ["a", 1], "ab", ("a",)],
    "day": [pd.Timestamp("2026-11-03"), dt.datetime(2026, 11, 3), "2026-11-03"],
}


def _pandera_accepts(frame: pd.DataFrame) -> bool:
    try:
        pandera_schema(TABLE).validate(frame, lazy=True)
    except (pandera.errors.SchemaErrors, pandera.errors.SchemaError):
        return False
    return True


@st.composite
def frames(draw: st.DrawFn) -> tuple[pd.DataFrame, bool]:
    """A frame of ``TABLE``'s columns, some values or dtypes or columns spoiled; and whether none was."""
    rows = draw(st.integers(0, 6))
    spoil = draw(st.sets(st.sampled_from(TABLE.names), max_size=3))
    columns: dict[str, pd.Series] = {}
    for col in TABLE.columns:
        pool = GOOD[col.name] + (BAD[col.name] if col.name in spoil else [])
        values = draw(st.lists(st.sampled_from(pool), min_size=rows, max_size=rows))
        dtype = col.pandas_dtype if col.pandas_dtype != "object" else None
        if col.name in spoil:
            dtype = draw(st.sampled_from([dtype, "object", "string", "float64"]))
        try:
            columns[col.name] = pd.Series(values, dtype=dtype)
        except (TypeError, ValueError):
            columns[col.name] = pd.Series(values, dtype="object")
    frame = pd.DataFrame(columns, index=range(rows))
    layout = draw(st.sampled_from(["as is", "swapped", "missing", "extra"]))
    if layout == "swapped":
        names = TABLE.names
        frame = frame[[names[1], names[0], *names[2:]]]
    elif layout == "missing":
        frame = frame.drop(columns=[draw(st.sampled_from(TABLE.names))])
    elif layout == "extra":
        frame = frame.assign(other=1)
    return frame, not spoil and layout == "as is"


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frames())
def test_the_quick_check_accepts_only_what_pandera_accepts(case):
    frame, clean = case
    quick = conforms(frame, TABLE)
    if quick:
        assert _pandera_accepts(frame), "conforms accepted a frame pandera refuses"
    if clean:
        assert quick, "a frame of good values, in the documented dtypes, was left to pandera"


@pytest.mark.parametrize(("column", "value"), [(c, v) for c, values in BAD.items() for v in values])
def test_each_bad_value_is_refused_by_the_quick_check_or_accepted_by_pandera(column, value):
    frame = pd.DataFrame({name: pd.Series(values[:1]) for name, values in GOOD.items()})
    frame = conform(frame, TABLE)
    try:
        frame[column] = pd.Series([value], dtype=frame[column].dtype)
    except (TypeError, ValueError):  # the documented dtype cannot hold it: then in an object column
        frame[column] = pd.Series([value], dtype="object")
    assert not conforms(frame, TABLE) or _pandera_accepts(frame)


def test_a_refused_value_still_gets_pandera_s_message_naming_it():
    frame = conform(pd.DataFrame({name: pd.Series(values[:1]) for name, values in GOOD.items()}), TABLE)
    assert conforms(frame, TABLE)
    frame["kind"] = pd.Series(["c"], dtype="str")
    with pytest.raises(validation.SchemaError, match="kind"):
        validate(frame, TABLE)


def test_two_nights_on_the_samples_take_the_quick_paths(tmp_path, monkeypatch):
    """Every table passes the quick check and every VEVENT is written by ``ical_lines``, first night and next.

    Otherwise every night would pay pandera's price (about 1 s on the samples, 3 s on a million
    rows) or icalendar's (about 0.35 ms an event). The second night builds on the first one's
    tables, read back from Parquet.
    """
    asked: list[str] = []
    full = validation.pandera_schema
    monkeypatch.setattr(validation, "pandera_schema", lambda table: asked.append(table.name) or full(table))
    library = feeds.library_vevent
    slow: list[object] = []
    monkeypatch.setattr(feeds, "library_vevent", lambda props: slow.append(props) or library(props))
    for night in (1, 2):
        report = run(load_config("sources.yaml"), tmp_path / "out")
        assert report.status == "success", night
        assert (tmp_path / "out" / "calendars" / "france.ics").exists()
        assert asked == [], night
        assert slow == [], night


def test_real_tables_keep_their_quick_check_in_step_with_pandera():
    empty_events, empty_listings = EVENTS.empty_frame(), LISTINGS.empty_frame()
    assert conforms(empty_events, EVENTS) and conforms(empty_listings, LISTINGS)
    wrong = empty_events.assign(event_id=pd.Series([], dtype="object"))  # object where str is documented
    assert not conforms(wrong, EVENTS)


@pytest.mark.parametrize("values", [[], ["ab"], [None]])
def test_a_list_column_of_text_gets_a_schema_error_not_an_arrow_one(values):
    """Arrow cannot cast text to lists (ArrowNotImplementedError): the quick check is then not sure."""
    frame = conform(pd.DataFrame({name: pd.Series(v[:1] * len(values)) for name, v in GOOD.items()}), TABLE)
    frame["tags"] = pd.Series(values, dtype="str")
    assert not conforms(frame, TABLE)
    if values == []:
        assert validate(frame, TABLE) is frame or _pandera_accepts(frame)
    else:
        with pytest.raises(validation.SchemaError, match="tags"):
            validate(frame, TABLE)
