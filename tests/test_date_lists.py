"""Lists of dates in French prose: one span per date, the year chosen for the whole list."""

from datetime import date, datetime
from pathlib import Path

import pandas as pd
import pytest
from conftest import fixture_bytes
from hypothesis import given
from hypothesis import strategies as st

from aggregator.config import parse_config
from aggregator.http import HttpClient
from aggregator.normalise import normalise
from aggregator.normalise.datelists import explode_lists, parse_french_dates
from aggregator.normalise.dates import DateParseError
from aggregator.settings import HttpSettings
from aggregator.sources import get_adapter

REF = date(2026, 11, 15)
D = datetime

# text -> [(start, end)] ; all-day spans have a midnight start and no end
LISTS = [
    (
        "14, 15, 16, 21, 22, 23, 24, 25, 28, 29, 30 et 31 mai. 1er, 2, 4 et 5 juin",
        [(D(2027, 5, d), None) for d in (14, 15, 16, 21, 22, 23, 24, 25, 28, 29, 30, 31)]
        + [(D(2027, 6, d), None) for d in (1, 2, 4, 5)],
    ),
    ("22 mars. 5 avril. 10 et 31 mai", [(D(2027, 3, 22), None), (D(2027, 4, 5), None), (D(2027, 5, 10), None),
                                        (D(2027, 5, 31), None)]),
    ("les 3, 4 et 5 juin à 20h30", [(D(2027, 6, d, 20, 30), None) for d in (3, 4, 5)]),
    ("Les 3 et 4 décembre à 15h", [(D(2026, 12, 3, 15), None), (D(2026, 12, 4, 15), None)]),
    ("du 2 au 5 mai sauf le 4", [(D(2027, 5, 2), None), (D(2027, 5, 3), None), (D(2027, 5, 5), None)]),
    ("Du 2 au 5 février sauf le 4 de 14h à 18h", [(D(2027, 2, d, 14), D(2027, 2, d, 18)) for d in (2, 3, 5)]),
    ("les 8 et 15 novembre et le 2 décembre", [(D(2026, 11, 8), None), (D(2026, 11, 15), None), (D(2026, 12, 2), None)]),
    ("22 mars à 20h. 5 avril à 15h", [(D(2027, 3, 22, 20), None), (D(2027, 4, 5, 15), None)]),
    ("14, 15 mai 2027", [(D(2027, 5, 14), None), (D(2027, 5, 15), None)]),
    ("13 et 14 décembre 2026 de 9h à 17h", [(D(2026, 12, 13, 9), D(2026, 12, 13, 17)), (D(2026, 12, 14, 9), D(2026, 12, 14, 17))]),
    # A season from September to June spans two years, whichever side of the new year it is read.
    ("12 et 13 septembre. 3 octobre. 5 et 6 juin", [(D(2026, 9, 12), None), (D(2026, 9, 13), None),
                                                   (D(2026, 10, 3), None), (D(2027, 6, 5), None), (D(2027, 6, 6), None)]),
    ("28 et 30 décembre, 2 janvier 2027", [(D(2026, 12, 28), None), (D(2026, 12, 30), None), (D(2027, 1, 2), None)]),
]  # fmt: skip

SINGLE = [  # read as parse_french reads them: one span
    ("les 8 et 9 novembre 2022", (D(2022, 11, 8), D(2022, 11, 9))),  # two consecutive days: a two-day event
    ("du 2 au 30 novembre", (D(2026, 11, 2), D(2026, 11, 30))),
    ("Dès 9h le 24 novembre", (D(2026, 11, 24, 9), None)),
    ("10/11/2022 14:00 - 16:00", (D(2022, 11, 10, 14), D(2022, 11, 10, 16))),
]


@pytest.mark.parametrize(("text", "expected"), LISTS, ids=[c[0] for c in LISTS])
def test_list_of_dates(text, expected):
    spans = parse_french_dates(text, REF)
    assert [(s.start, s.end) for s in spans] == expected
    assert all(s.all_day == (s.start.hour == 0 and s.start.minute == 0) for s in spans)


@pytest.mark.parametrize(("text", "expected"), SINGLE, ids=[c[0] for c in SINGLE])
def test_single_dates_and_ranges_are_left_to_parse_french(text, expected):
    (span,) = parse_french_dates(text, REF)
    assert (span.start, span.end) == expected


def test_season_read_after_new_year_keeps_its_years():
    spans = parse_french_dates("12 septembre. 3 octobre. 5 juin", date(2027, 5, 1))
    assert [s.start.date() for s in spans] == [date(2026, 9, 12), date(2026, 10, 3), date(2027, 6, 5)]


@pytest.mark.parametrize("text", ["le 8 à 14h", "15/03/2013 Tous les mercredis et le 1er dimanche"])
def test_a_day_without_month_is_refused_with_its_day_named(text):
    with pytest.raises(DateParseError, match=r"no month .*the day \d+ is written without one"):
        parse_french_dates(text, REF)


@given(st.text(max_size=80))
def test_any_text_gives_spans_in_order_or_a_clean_error(text):
    try:
        spans = parse_french_dates(text, REF)
    except DateParseError:
        return
    assert spans
    assert all(s.end is None or s.end >= s.start for s in spans)


@given(st.lists(st.integers(1, 28), min_size=2, max_size=12, unique=True), st.sampled_from(["mars", "mai", "juin"]))
def test_every_listed_day_gives_one_span(days, month):
    days = sorted(days)
    text = ", ".join(str(d) for d in days[:-1]) + f" et {days[-1]} {month} à 20h30"
    spans = parse_french_dates(text, REF)
    assert [s.start.day for s in spans] == days
    assert {s.start.hour for s in spans} == {20}


def test_explode_lists_keeps_row_order_and_suffixes_uids():
    frame = pd.DataFrame(
        {
            "source_id": ["a", "a", "a"],
            "uid": ["x", None, "z"],
            "start": ["2026-11-20", "3, 4 et 5 juin à 20h", "jeudi 19 novembre"],
            "end": [None, "2027-06-30", None],
            "title": ["one", "three", "also one"],
        }
    )
    out = explode_lists(frame, {}, REF)
    assert out["title"].tolist() == ["one", "three", "three", "three", "also one"]
    assert out["start"].tolist()[1:4] == ["2027-06-03T20:00:00", "2027-06-04T20:00:00", "2027-06-05T20:00:00"]
    assert out["end"].tolist()[1:4] == [None, None, None]  # the season's end is not each performance's
    assert out["uid"].tolist() == ["x", None, None, None, "z"]


def test_programme_page_gives_one_listing_per_performance(httpserver):
    """A season page written as venues write it: every performance on its own day and time."""
    httpserver.expect_request("/saison").respond_with_data(
        fixture_bytes("html", "saison-theatre.html"), content_type="text/html; charset=utf-8"
    )
    config = parse_config(
        {"sources": [{"id": "theatre", "kind": "html", "url": httpserver.url_for("/saison"), "item": "article",
                      "reference_date": "2026-11-15", "departement": "59",
                      "fields": {"uid": "@data-id", "title": "h3", "url": "h3 a@href", "start": [".dates", ".horaire"]}}]},
        Path("sources.yaml"), {},
    )  # fmt: skip
    source = config.sources[0]
    adapter = get_adapter("html")
    pages = adapter.fetch(source, source.url, HttpClient(HttpSettings(backoff_s=0, retries=0)))
    records = [r for p in pages for r in adapter.parse(p, source)]
    frame = pd.DataFrame(records).assign(
        source_id="theatre", source_kind="html", fetched_at=pd.Timestamp("2026-11-15", tz="UTC")
    )
    result = normalise(frame, {"theatre": source}, reference=date(2026, 11, 15))
    assert result.rejects.empty, result.rejects["reason"].tolist()
    got = result.listings.assign(local=result.listings["start_at"].dt.tz_convert("Europe/Paris").dt.tz_localize(None))
    per_title = got.groupby("title")["local"].apply(list).to_dict()
    misanthrope = [D(2027, 5, d, 20, 30) for d in (14, 15, 16, 21, 22, 23, 24, 25, 28, 29, 30, 31)]
    misanthrope += [D(2027, 6, d, 20, 30) for d in (1, 2, 4, 5)]
    assert per_title["Le Misanthrope"] == misanthrope  # past days count double: next May, not last May
    assert per_title["Tartuffe"] == [D(2027, 3, 22), D(2027, 4, 5), D(2027, 5, 10), D(2027, 5, 31)]
    assert per_title["Contes d'hiver"] == [D(2026, 12, d, 15) for d in (3, 4, 5)]
    assert per_title["Festival des écritures"] == [D(2027, 2, d, 14) for d in (2, 3, 5)]
    assert per_title["Clowns en saison"] == [
        D(2026, 9, 12),
        D(2026, 9, 13),
        D(2026, 10, 3),
        D(2027, 6, 5),
        D(2027, 6, 6),
    ]
    assert per_title["Soirée d'ouverture de saison"] == [D(2026, 9, 12, 19)]
    assert len(got) == 16 + 4 + 3 + 3 + 5 + 1
    assert got["source_uid"].is_unique and got["listing_id"].is_unique
    # The performances of one show share its URL (and so, after deduplication, a series).
    assert got[got["title"] == "Tartuffe"]["url"].nunique() == 1
