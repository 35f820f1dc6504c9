"""The shapes real publishers write, one class of defect per test (fixtures written by the team in those shapes).

The files real publishers wrote are checked by tests/test_realworld.py when the corpus is present.
"""

from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from conftest import fixture_bytes

from aggregator.config import parse_config
from aggregator.http import Fetched
from aggregator.normalise import normalise
from aggregator.sources import get_adapter

REF = date(2026, 11, 1)


def _source(**fields):
    fields.setdefault("url", "x")
    return parse_config({"sources": [fields]}, Path("sources.yaml"), {}).sources[0]


def _parse(source, content, url="https://example.org/file", content_type=None):
    return get_adapter(source.kind).parse(Fetched(url, content, 200, content_type), source)


def _normalised(source, records):
    frame = pd.DataFrame(records).assign(
        source_id=source.id, source_kind=source.kind, fetched_at=pd.Timestamp("2026-11-01", tz="UTC")
    )
    return normalise(frame, {source.id: source}, reference=REF)


def _local(listings):
    return listings["start_at"].dt.tz_convert("Europe/Paris").dt.strftime("%Y-%m-%d %H:%M").tolist()


# --- DATAtourisme: lists, JSON-LD literals, language maps, bare keys -------------------------


def test_datatourisme_complete_export_with_list_values_and_literals():
    source = _source(id="dt", kind="datatourisme")
    records = _parse(source, fixture_bytes("datatourisme", "export-lists.json"))
    assert not [r for r in records if r.get("reject_reason")]
    assert [r["title"] for r in records] == [
        "Lecture publique : les services de demain",
        "Course des services publics",
        "Course des services publics",
    ]  # fmt: skip  (the hotel of the export is not an event and is left out)
    first = records[0]
    assert (first["commune_insee"], first["departement"], first["region"]) == ("31555", "31", "76")
    assert (first["venue_name"], first["street_address"], first["postal_code"], first["city"]) == (
        "Médiathèque José Cabanis", "1 allée Jacques Chaban-Delmas", "31500", "Toulouse",
    )  # fmt: skip
    assert (first["latitude"], first["longitude"]) == ("43.6112", "1.4509")
    assert first["url"] == "https://www.example.org/lecture-publique"
    assert first["uid"] == "FMAOCC031TEST01#2026-11-17T18:30:00"
    result = _normalised(source, records)
    assert result.rejects.empty
    assert _local(result.listings) == ["2026-11-17 18:30", "2026-11-21 09:00", "2026-11-28 09:00"]
    assert result.listings["end_at"].isna().tolist() == [False, True, True]
    assert result.listings["region_name"].tolist() == ["Occitanie"] * 3


def test_datatourisme_api_page_with_bare_keys_and_at_language_maps():
    source = _source(id="dt", kind="datatourisme")
    records = _parse(source, fixture_bytes("datatourisme", "api-page.json"))
    (record,) = records  # the museum is a place, not an event
    assert record["title"] == "Conférence : simplifier les démarches"
    assert record["description"] == "Retours d'expérience de trois collectivités."
    assert (record["start"], record["end"]) == ("2026-11-12T14:00", "2026-11-12T16:30")
    assert (record["commune_insee"], record["departement"], record["city"]) == ("35238", "35", "Rennes")
    assert (record["latitude"], record["longitude"]) == ("48.111", "-1.68")
    assert record["uid"].startswith("5f1c1e0e-0000-4000-8000-000000000001#")


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("plain", "plain"),
        ({"@value": "lit", "@language": "fr"}, "lit"),
        ([{"@value": "en", "@language": "en"}, {"@value": "fr", "@language": "fr"}], "fr"),
        ({"en": ["en"], "fr": ["fr"]}, "fr"),
        ({"@en": "en", "@fr": "fr"}, "fr"),
        ({"de": ["nur deutsch"]}, "nur deutsch"),
        ([], None),
        ({"@value": 43.6, "@type": "xsd:decimal"}, "43.6"),
    ],
)
def test_datatourisme_literals(value, text):
    from aggregator.sources.datatourisme import literal

    assert literal(value) == text


# --- OpenAgenda: the agenda JSON export as well as the API v2 response -------------------------


def test_openagenda_agenda_export_is_read_like_the_api():
    source = _source(id="oa", kind="openagenda", agenda="1")
    records = _parse(source, fixture_bytes("openagenda", "agenda-export.json"))
    result = _normalised(source, records)
    assert _local(result.listings) == ["2026-11-05 14:00", "2026-11-19 14:00", "2026-11-21 09:00"]
    assert result.listings["title"].tolist()[0] == "Atelier « facile à lire et à comprendre »"
    assert result.listings["url"].tolist()[0] == "https://openagenda.com/agendas/1/events/atelier-facile-a-lire"
    assert result.listings["postal_code"].tolist() == ["35000", "35000", "56100"]
    # The two-day hackathon is one session; the event without timings is rejected, with its reason.
    assert result.listings["end_at"].dt.tz_convert("Europe/Paris").dt.strftime("%d %H:%M").tolist()[2] == "22 17:00"
    assert result.rejects["reason"].tolist() == ["the event has no start date: its timings list is empty"]


# --- A kind pointed at a file of another format: one line, never the content ---------------------

ICS = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n"
HTML = b"<!doctype html><html><body><p>Erreur 404 : page introuvable</p></body></html>"
JSON_EXPORT = b'{"events": [{"uid": 1, "title": {"fr": "secret title"}}], "total": 1}'
RSS = b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>'

WRONG = [
    ({"kind": "openagenda", "agenda": "1"}, HTML, "the openagenda kind reads .*; found an HTML page"),
    ({"kind": "openagenda", "agenda": "1"}, ICS, "the openagenda kind reads .*; found an iCalendar file"),
    ({"kind": "openagenda", "agenda": "1"}, b'{"results": []}', "found JSON: an object with keys results"),
    ({"kind": "ical"}, JSON_EXPORT, "the ical kind reads an iCalendar file .*; found JSON: an object with keys events, total"),
    ({"kind": "ical"}, RSS, "found an RSS feed"),
    ({"kind": "json"}, HTML, "the json kind reads a JSON API response; found an HTML page"),
    ({"kind": "opendatasoft", "dataset": "d"}, HTML, "the opendatasoft kind reads .*; found an HTML page"),
    ({"kind": "datatourisme"}, HTML, "the datatourisme kind reads .*; found an HTML page"),
    ({"kind": "datatourisme"}, b'{"results": [{"title_fr": "x"}]}', "the datatourisme kind reads .*; found JSON"),
    ({"kind": "feed"}, JSON_EXPORT, "the feed kind reads an RSS or Atom feed; found JSON"),
    ({"kind": "feed"}, HTML, "the feed kind reads an RSS or Atom feed; found an HTML page"),
    ({"kind": "html", "item": "li", "fields": {"title": "h2"}}, JSON_EXPORT, "the html kind reads an HTML page; found JSON"),
    ({"kind": "jsonld"}, ICS, "the jsonld kind reads .*; found an iCalendar file"),
    ({"kind": "csv", "fields": {"title": "Titre"}}, HTML, "the csv kind reads delimited text .*; found an HTML page"),
    ({"kind": "csv", "fields": {"title": "Titre"}}, b"%PDF-1.7 ...", "found a PDF document"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("settings", "content", "message"), WRONG, ids=[f"{w[0]['kind']}-{i}" for i, w in enumerate(WRONG)]
)
def test_a_file_of_another_format_is_named_in_one_line(settings, content, message):
    from aggregator.sources.base import ParseError

    source = _source(id="s", **settings)
    with pytest.raises(ParseError, match=message) as error:
        _parse(source, content, url="https://example.org/file")
    text = str(error.value)
    assert "\n" not in text and "secret title" not in text and "introuvable" not in text
    assert text.startswith("https://example.org/file: ")


def test_jsonld_reads_a_json_ld_file_as_well_as_a_page():
    source = _source(id="s", kind="jsonld")
    content = b'{"@context": "https://schema.org", "@type": "Event", "name": "Forum", "startDate": "2026-11-20T10:00"}'
    (record,) = _parse(source, content)
    assert (record["title"], record["start"]) == ("Forum", "2026-11-20T10:00")


# --- Feeds: machine-readable dates first, the event's own phrase, never before publication ---------


def test_feed_dates_as_real_items_write_them():
    source = _source(id="cave", kind="feed", reference_date="2013-10-01")
    records = _parse(source, fixture_bytes("feed", "agenda-caviste.rss"))
    result = _normalised(source, records)
    assert result.rejects.empty, result.rejects["reason"].tolist()
    rows = result.listings.set_index("title")
    local = dict(zip(rows.index, _local(rows), strict=True))
    assert local == {
        "Soirée dégustation": "2014-04-19 19:00",  # the event's phrase, not "31 mars … 2012"
        "Repas des aînés": "2013-11-19 19:00",  # not the booking deadline of 18 November
        "Concert de Noël": "2014-12-19 00:00",  # published in January 2014: never the December before
        "Conférence sur le vin": "2013-11-19 19:00",  # hCalendar
        "Marché aux livres": "2013-11-23 08:00",  # RSS event module
        "Bal": "2013-11-30 21:00",  # xCal, basic format
        "Portes ouvertes": "2013-12-07 10:00",  # schema.org microdata inside the item
    }
    end = rows["end_at"].dt.tz_convert("Europe/Paris").dt.strftime("%H:%M")
    assert (end["Conférence sur le vin"], end["Marché aux livres"]) == ("21:00", "13:00")
    assert (rows.loc["Repas des aînés", "postal_code"], rows.loc["Repas des aînés", "city"]) == ("40440", "Ondres")
    assert rows.loc["Repas des aînés", "venue_name"] == "Salle des fêtes"
    assert rows.loc["Repas des aînés", "departement_code"] == "40"
    assert rows.loc["Marché aux livres", "city"] == "Capbreton"


# --- JSON-LD: address as text, coordinates on the Place, the page's URL ---------------------------


def test_jsonld_place_with_text_address_and_coordinates_on_the_place():
    source = _source(id="douai", kind="jsonld")
    url = "https://www.example.org/agenda/cine-debat"
    (record,) = _parse(source, fixture_bytes("jsonld", "douai-event.html"), url=url)
    assert record["street_address"] == "Rue Camille Guérin, 59500 Douai"  # as written; normalisation splits it
    assert (record["latitude"], record["longitude"]) == ("50.3696", "3.0789")
    assert (record["url"], record["uid"]) == (url, url)  # the event's own page, which names no url nor @id
    result = _normalised(source, [record])
    row = result.listings.iloc[0]
    assert (row["venue_name"], row["street_address"], row["postal_code"], row["city"]) == (
        "Cinéma Majestic",
        "Rue Camille Guérin",
        "59500",
        "Douai",
    )
    assert (row["commune_insee"], row["departement_code"]) == ("59178", "59")
