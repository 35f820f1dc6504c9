"""Content from sources, bounded and neutralised: long texts, formulas, structures, bad bytes, hidden markup."""

from __future__ import annotations

import csv
import json
from datetime import datetime
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from conftest import FIXTURES, write_config
from hypothesis import given, settings
from hypothesis import strategies as st

from aggregator.config import load_config
from aggregator.pipeline import run
from aggregator.publish import neutralise_formulas

ICS = (FIXTURES / "ical" / "lab-calendar.ics").read_text(encoding="utf-8")


def _with_summary(tmp_path: Path, summary: str, organizer: str | None = None) -> Path:
    first = ICS.index("SUMMARY:")
    end = ICS.index("\n", first)
    body = ICS[:first] + f"SUMMARY:{summary}" + ICS[end:]
    if organizer:
        body = body.replace('ORGANIZER;CN="Lab d\'innovation"', f"ORGANIZER;CN={organizer}", 1)
    (tmp_path / "lab.ics").write_text(body, encoding="utf-8")
    return write_config(tmp_path, f"sources:\n  - {{id: lab, kind: ical, url: {tmp_path / 'lab.ics'}}}\n")


@pytest.mark.slow  # a 10 MB calendar: seconds
def test_a_ten_megabyte_title_is_cut_marked_and_counted(tmp_path):
    title = "Atelier " * (10 * 1024 * 1024 // 8)
    report = run(load_config(_with_summary(tmp_path, title)), tmp_path / "out")
    assert report.status == "success"
    listings = pd.read_parquet(tmp_path / "out" / "listings.parquet")
    long = listings[listings["title"].str.startswith("Atelier Atelier")]
    assert len(long) == 1
    assert len(long["title"].iloc[0]) <= 300 and long["title"].iloc[0].endswith("…")
    assert long["parse_warning"].iloc[0] == f"title cut from {len(title)} to 300 characters"
    assert "source lab: 1 title value(s) longer than 300 characters cut (marked …)" in report.warnings
    assert (tmp_path / "out" / "report.html").stat().st_size < 1_000_000  # the report stays a page


def test_formula_cells_reach_spreadsheets_as_text(tmp_path):
    formula = "=cmd|' /C calc'!A0"  # the classic DDE payload
    run(load_config(_with_summary(tmp_path, "Atelier", organizer=f'"{formula}"')), tmp_path / "out")
    with (tmp_path / "out" / "stats" / "by_organizer.csv").open(encoding="utf-8-sig", newline="") as handle:
        cells = [row["Organisateur"] for row in csv.DictReader(handle, delimiter=";")]
    assert "'" + formula in cells and formula not in cells
    with (tmp_path / "out" / "events.csv").open(encoding="utf-8-sig", newline="") as handle:
        cells = [row["Organisateur"] for row in csv.DictReader(handle, delimiter=";")]
    assert "'" + formula in cells and formula not in cells
    book = openpyxl.load_workbook(tmp_path / "out" / "events.xlsx")
    column = [c.value for c in book["Événements"]["U"]]  # Organisateur
    assert column[0] == "Organisateur" and "'" + formula in column
    assert all(c.data_type != "f" for sheet in book for row in sheet.iter_rows() for c in row)  # no formula anywhere
    parquet = pd.read_parquet(tmp_path / "out" / "stats" / "by_organizer.parquet")
    assert formula in parquet["organizer"].tolist()  # the data itself is unchanged


def test_neutralise_formulas_touches_risky_text_only():
    frame = pd.DataFrame(
        {
            "name": ["=1+1", "+33 1 23", "-x", "@SUM(A1)", "\tTab", "\rCR", "Atelier", None],
            "n": [-1, 2, 3, 4, 5, 6, 7, 8],
        }
    )
    out = neutralise_formulas(frame)
    assert out["name"].tolist()[:7] == ["'=1+1", "'+33 1 23", "'-x", "'@SUM(A1)", "'\tTab", "'\rCR", "Atelier"]
    assert out["name"].isna().tolist() == [False] * 7 + [True]
    assert out["n"].tolist() == frame["n"].tolist()  # a negative number is no formula


def _json_source(tmp_path: Path, content: bytes) -> Path:
    (tmp_path / "events.json").write_bytes(content)
    return write_config(
        tmp_path,
        f"sources:\n  - {{id: api, kind: json, url: {tmp_path / 'events.json'}, records: items,"
        " fields: {uid: id, title: name, start: date}}\n",
    )


def test_a_title_given_as_a_nested_list_is_rejected_with_a_reason(tmp_path):
    items = [
        {"id": "1", "name": [[["Atelier"]]], "date": "2026-11-03"},
        {"id": "2", "name": "Forum", "date": "2026-11-04"},
    ]
    report = run(load_config(_json_source(tmp_path, json.dumps({"items": items}).encode())), tmp_path / "out")
    assert report.status == "success"
    listings = pd.read_parquet(tmp_path / "out" / "listings.parquet")
    assert listings["title"].tolist() == ["Forum"]  # never '[[["Atelier"]]]'
    rejects = pd.read_parquet(tmp_path / "out" / "rejects.parquet")
    assert rejects["reason"].tolist() == ["a field of the record that should be text holds a list of objects or lists"]


def test_invalid_utf8_in_one_record_spoils_that_record_only(tmp_path):
    good = '{"id": "2", "name": "Forum de l\\u2019innovation", "date": "2026-11-04"}'
    content = b'{"items": [{"id": "1", "name": "Atelier \xe9t\xe9", "date": "2026-11-03"}, ' + good.encode() + b"]}"
    report = run(load_config(_json_source(tmp_path, content)), tmp_path / "out")
    assert report.status == "success"  # the source is not failed for one record's bytes
    titles = pd.read_parquet(tmp_path / "out" / "listings.parquet")["title"].tolist()
    assert sorted(titles) == ["Atelier \ufffdt\ufffd", "Forum de l’innovation"]


def test_neutralise_formulas_leaves_columns_without_text_alone():
    from datetime import date

    frame = pd.DataFrame({"day": [date(2026, 11, 2)], "none": [None], "lists": [["=x"]], "text": ["@x"]})
    out = neutralise_formulas(frame)
    assert out["day"].tolist() == [date(2026, 11, 2)] and out["none"].tolist() == [None]
    assert out["lists"].tolist() == [["=x"]] and out["text"].tolist() == ["'@x"]


@settings(max_examples=150, deadline=None)
@given(
    texts=st.lists(st.one_of(st.none(), st.text(alphabet=st.sampled_from('ab;"\r\n,=+-@ é\u00a0\t0'), max_size=12)),
                   min_size=1, max_size=8),
    numbers=st.lists(st.one_of(st.none(), st.floats(allow_nan=False, allow_infinity=False, width=32)), min_size=8, max_size=8),
)  # fmt: skip
def test_spreadsheet_csv_reads_back_cell_for_cell(tmp_path_factory, texts, numbers):
    """Whatever the text (separators, quotes, line breaks, formula starts), the CSV gives it back."""
    from aggregator.publish import write_csv

    n = len(texts)
    frame = pd.DataFrame({"texte": texts, "nombre": pd.Series(numbers[:n], dtype="float64"), "compte": range(n)})
    path = tmp_path_factory.mktemp("csv") / "t.csv"
    write_csv(frame, path)
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and raw.endswith(b"\r\n")
    with open(path, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle, delimiter=";"))
    assert rows[0] == ["texte", "nombre", "compte"] and len(rows) == n + 1
    expected = neutralise_formulas(frame)
    for (text, number, count), (_, want) in zip(rows[1:], expected.iterrows(), strict=True):
        assert text == ("" if pd.isna(want["texte"]) else want["texte"])
        assert count == str(want["compte"])
        if pd.isna(want["nombre"]):
            assert number == ""
        else:
            assert "." not in number and float(number.replace(",", ".")) == want["nombre"]


@settings(max_examples=200, deadline=None)
@given(
    moments=st.lists(st.one_of(st.none(), st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2037, 12, 31))),
                     min_size=1, max_size=20),
    zone=st.sampled_from([None, "UTC", "Europe/Paris", "America/Cayenne", "Indian/Reunion", "Pacific/Noumea"]),
)  # fmt: skip
def test_csv_times_print_the_wall_clock_time_to_the_second(moments, zone):
    """Times in CSVs: the time in the column's zone (naive: as it is), sub-seconds dropped, as Python prints it.

    Up to 2037: past it, Arrow's time-zone database on this machine stops applying summer time (April
    2038 in Paris reads UTC+1), where Python's reads the zone's rule on.
    """
    from zoneinfo import ZoneInfo

    import pyarrow as pa

    from aggregator.publish import csv_times

    array = pa.array(moments, type=pa.timestamp("us"))  # naive: read as UTC when the column has a zone
    if zone is not None:
        array = array.cast(pa.timestamp("us", zone))
    expected = [
        None
        if m is None
        else (m if zone is None else m.replace(tzinfo=ZoneInfo("UTC")).astimezone(ZoneInfo(zone))).strftime(
            "%Y-%m-%d %H:%M:%S"
        )
        for m in moments
    ]
    assert csv_times(array).to_pylist() == expected
