"""Adapters over real HTTP: recorded pages under tests/fixtures/<kind>/ served by a local server."""

import json
from datetime import date

import pandas as pd
import pytest
from conftest import fixture_bytes

from aggregator.config import parse_config
from aggregator.http import HttpClient
from aggregator.normalise import normalise
from aggregator.settings import HttpSettings
from aggregator.sources import KINDS, UnknownKindError, get_adapter
from aggregator.sources.base import ParseError


def _source(httpserver, **fields):
    config = parse_config({"sources": [fields]}, httpserver_path(), {})
    return config.sources[0]


def httpserver_path():
    from pathlib import Path

    return Path("sources.yaml")


def _collect(source, url):
    adapter = get_adapter(source.kind)
    http = HttpClient(HttpSettings(backoff_s=0))
    pages = adapter.fetch(source, url, http)
    return pages, [r for p in pages for r in adapter.parse(p, source)]


def test_registry_lists_valid_kinds_on_unknown():
    assert set(KINDS) == {"csv", "datatourisme", "feed", "html", "ical", "json", "jsonld", "openagenda", "opendatasoft"}
    with pytest.raises(
        UnknownKindError,
        match="valid kinds: csv, datatourisme, feed, html, ical, json, jsonld, openagenda, opendatasoft",
    ):
        get_adapter("rss")


HTML_FIELDS = {
    "uid": "@data-uid",
    "title": ".titre",
    "url": ".titre a@href",
    "start": ".date",
    "city": ".ville",
    "postal_code": ".cp",
    "description": ".desc",
}


def test_html_reads_every_item_with_selectors_and_absolute_urls(httpserver):
    httpserver.expect_request("/agenda/").respond_with_data(
        fixture_bytes("html", "agenda-region.html"), content_type="text/html; charset=utf-8"
    )
    source = _source(httpserver, id="bzh", kind="html", url="x", item="li.event", fields=HTML_FIELDS)
    _, records = _collect(source, httpserver.url_for("/agenda/"))
    assert [r["uid"] for r in records] == ["bzh-1", "bzh-2", "bzh-3", "bzh-4", "bzh-5"]
    first = records[0]
    assert first["title"] == "Atelier\xa0: écrire en langage clair"  # raw; cleaned by normalise
    assert first["start"] == "mardi 10 novembre 2026 à 14h30"
    assert (first["city"], first["postal_code"]) == ("Rennes", "35000")
    assert first["url"] == httpserver.url_for("/agenda/atelier-langage-clair?utm_source=newsletter&id=7")
    assert records[1]["url"] == "https://www.example.org/agenda/webinaire"
    assert records[2]["url"] == httpserver.url_for("/agenda/agenda/expo")
    assert records[3]["title"] is None  # an empty title is kept for the rejects table, not dropped
    assert "bzh-4" in records[3]["raw"]


def test_html_windows_1252_page_from_the_header(httpserver):
    page = "<ul><li class='e'><h2>Journée découverte à Évry</h2></li></ul>".encode("cp1252")
    httpserver.expect_request("/p").respond_with_data(page, content_type="text/html; charset=windows-1252")
    source = _source(httpserver, id="w", kind="html", url="x", item="li.e", fields={"title": "h2"})
    _, records = _collect(source, httpserver.url_for("/p"))
    assert records[0]["title"] == "Journée découverte à Évry"


def test_ical_events_times_and_locations(httpserver):
    httpserver.expect_request("/cal.ics").respond_with_data(
        fixture_bytes("ical", "lab-calendar.ics"), content_type="text/calendar"
    )
    source = _source(httpserver, id="lab", kind="ical", url="x")
    _, records = _collect(source, httpserver.url_for("/cal.ics"))
    by_uid = {r["uid"]: r for r in records}
    assert len(records) == 6
    tz = by_uid["tzid-1@fixture"]
    assert tz["title"] == "Atelier, design des politiques publiques"
    assert tz["start"] == "2026-11-03T14:00:00+01:00"
    assert tz["end"] == "2026-11-03T16:30:00+01:00"
    assert tz["venue_name"] == tz["street_address"] == "La Serre, 10 rue de la Loge, 34000 Montpellier"
    # The place as one text is split by normalisation (normalise/places.py).
    frame = pd.DataFrame([tz]).assign(
        source_id="lab", source_kind="ical", fetched_at=pd.Timestamp("2026-11-01", tz="UTC")
    )
    row = normalise(frame, {"lab": source}, reference=date(2026, 11, 1)).listings.iloc[0]
    assert (row["venue_name"], row["street_address"], row["postal_code"], row["city"], row["commune_insee"]) == (
        "La Serre",
        "10 rue de la Loge",
        "34000",
        "Montpellier",
        "34172",
    )
    assert tz["organizer"] == "Lab d'innovation"
    assert (tz["latitude"], tz["longitude"]) == ("43.6108", "3.8767")
    assert tz["keywords"] == "Atelier, Design"
    assert by_uid["utc-2@fixture"]["start"] == "2026-11-04T10:00:00+00:00"
    assert by_uid["utc-2@fixture"]["title"] == "Webinaire : les données publiques en pratique"  # folded line
    allday = by_uid["allday-3@fixture"]
    assert (allday["start"], allday["end"]) == (
        "2026-11-16",
        "2026-11-18",
    )  # DTEND exclusive -> last day
    floating = by_uid["floating-4@fixture"]
    assert (floating["start"], floating["timezone"]) == ("2026-11-20T09:00:00", "Europe/Paris")
    assert by_uid["cancelled-5@fixture"]["status"] == "cancelled"
    assert by_uid["broken-6@fixture"]["reject_reason"] == "the event has no start date: its VEVENT has no DTSTART"


def test_ical_garbage_is_a_clear_parse_error(httpserver):
    httpserver.expect_request("/cal.ics").respond_with_data(b"<html>not a calendar</html>")
    source = _source(httpserver, id="lab", kind="ical", url="x")
    with pytest.raises(ParseError, match=r"the ical kind reads an iCalendar file .*; found an HTML page$"):
        _collect(source, httpserver.url_for("/cal.ics"))


JSON_SOURCE = {
    "id": "api",
    "kind": "json",
    "url": "x",
    "records": "data",
    "next": "links.next",
    "fields": {
        "uid": "id",
        "title": "title",
        "start": "when.begin",
        "end": "when.end",
        "venue_name": "where.venue",
        "postal_code": "where.zip",
        "city": "where.town",
        "attendance_mode": "mode",
        "url": "link",
    },
}


def test_json_follows_next_links_over_three_pages(httpserver):
    for name in ("page1.json", "page2.json", "page3.json"):
        httpserver.expect_request(f"/api/{name}").respond_with_data(
            fixture_bytes("json", name), content_type="application/json"
        )
    source = _source(httpserver, **JSON_SOURCE)
    pages, records = _collect(source, httpserver.url_for("/api/page1.json"))
    assert len(pages) == 3
    assert [r.get("uid") for r in records] == ["a1", "a2", "a3", "a4", None, "a5"]
    assert records[0]["url"] == httpserver.url_for("/evenements/a1")
    assert records[0]["start"] == "2026-11-05T09:00:00+01:00"
    assert records[1]["venue_name"] is None
    assert records[4]["reject_reason"] == "the record is not a JSON object but a string"


def test_json_page_number_pagination_stops_on_an_empty_page(httpserver):
    for number, items in ((1, [{"t": "A"}, {"t": "B"}]), (2, [{"t": "C"}]), (3, [])):
        httpserver.expect_request("/list", query_string={"page": str(number), "size": "2"}).respond_with_json(
            {"items": items}
        )
    source = _source(
        httpserver,
        id="p",
        kind="json",
        url="x",
        records="items",
        page_param="page",
        params={"size": "2"},
        fields={"title": "t"},
    )
    pages, records = _collect(source, httpserver.url_for("/list"))
    assert [r["title"] for r in records] == ["A", "B", "C"]
    assert len(pages) == 2


def test_json_pagination_is_bounded(httpserver):
    httpserver.expect_request("/loop").respond_with_json({"data": [{"t": "x"}], "links": {"next": "/loop?again=1"}})
    source = _source(httpserver, **{**JSON_SOURCE, "max_pages": 4})
    pages, _ = _collect(source, httpserver.url_for("/loop"))
    assert len(pages) <= 4


def test_json_that_is_not_json_names_the_url(httpserver):
    httpserver.expect_request("/bad").respond_with_data("<html>", content_type="application/json")
    source = _source(httpserver, **JSON_SOURCE)
    with pytest.raises(ParseError, match=r"/bad: the json kind reads a JSON API response; found an HTML page$"):
        _collect(source, httpserver.url_for("/bad"))
    httpserver.expect_request("/shape").respond_with_data(json.dumps({"data": {"not": "a list"}}))
    with pytest.raises(ParseError, match="does not lead to a list"):
        _collect(source, httpserver.url_for("/shape"))


def test_a_list_with_nulls_keeps_its_values_and_its_record(httpserver):
    # A JSON export's empty slots (["Ville", null]): the record was rejected as holding "a list of objects".
    items = [{"t": "Forum", "org": ["Ville", None, "Région"]}, {"t": "Salon", "org": [None]}, {"t": "Bal", "org": [{}]}]
    httpserver.expect_request("/nulls").respond_with_json({"items": items})
    fields = {"title": "t", "organizer": "org"}
    source = _source(httpserver, id="n", kind="json", url="x", records="items", fields=fields)
    _, records = _collect(source, httpserver.url_for("/nulls"))
    assert [(r.get("title"), r.get("organizer")) for r in records[:2]] == [("Forum", "Ville, Région"), ("Salon", "")]
    assert "holds a list of objects or lists" in records[2]["reject_reason"]  # a real structure still is
