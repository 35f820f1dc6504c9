"""Every source kind over real HTTP (a local server serving recorded fixtures), awkward cases included."""

import json
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from conftest import fixture_bytes, page_requests, serve_openagenda

from aggregator.collection import collect_source
from aggregator.config import ConfigError, parse_config
from aggregator.http import Fetched, HttpClient
from aggregator.normalise import normalise
from aggregator.settings import HttpSettings
from aggregator.sources import get_adapter
from aggregator.sources.base import ParseError
from aggregator.sources.encoding import decode, detect_encoding

REF = date(2026, 11, 1)


def _source(**fields):
    fields.setdefault("url", "x")
    return parse_config({"sources": [fields]}, Path("sources.yaml"), {}).sources[0]


def _collect(source, url):
    adapter = get_adapter(source.kind)
    http = HttpClient(HttpSettings(backoff_s=0, retries=0))
    pages = adapter.fetch(source, url, http)
    parse_all = getattr(adapter, "parse_all", None)
    records = parse_all(pages, source) if parse_all else [r for p in pages for r in adapter.parse(p, source)]
    return pages, records


def _normalised(source, records):
    frame = pd.DataFrame(records)
    frame["source_id"], frame["source_kind"], frame["fetched_at"] = (
        source.id,
        source.kind,
        pd.Timestamp("2026-11-01T02:00Z"),
    )
    return normalise(frame, {source.id: source}, reference=REF)


# --- encodings -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "declared", "expected"),
    [
        ("é".encode("utf-8-sig"), "windows-1252", "utf-8-sig"),  # BOM wins
        ("é".encode("cp1252"), "iso-8859-1", "windows-1252"),  # latin-1 read as browsers do
        (b'<meta charset="windows-1252"><p>\xe9</p>', None, "cp1252"),
        ("<p>é</p>".encode(), None, "utf-8"),
        (b"<p>d\xe9bat \x92</p>", None, "windows-1252"),  # nothing declared, not UTF-8
    ],
)
def test_encoding_detection(content, declared, expected):
    assert detect_encoding(content, declared) == expected


def test_windows_1252_quotes_come_out_right():
    assert decode(b"l\x92\xe9cole \x96 \x80", "iso-8859-1") == "l’école – €"


# --- csv -------------------------------------------------------------------------------------

CSV_FIELDS = {"title": "Titre", "start": "Date de début", "end": "Date de fin", "postal_code": "Code postal",
              "city": "Commune", "attendance_mode": "Format", "url": "Lien"}  # fmt: skip


def test_csv_semicolon_cp1252_with_a_broken_row(httpserver):
    httpserver.expect_request("/agenda.csv").respond_with_data(
        fixture_bytes("csv", "agenda-cp1252.csv"), content_type="text/csv"
    )
    source = _source(id="c", kind="csv", fields=CSV_FIELDS)
    _, records = _collect(source, httpserver.url_for("/agenda.csv"))
    assert len(records) == 4  # the blank line is skipped, the broken row kept as a reject
    assert records[0]["title"] == "Atelier « services publics numériques »"
    assert records[0]["url"] == httpserver.url_for("/evenements/1")
    assert records[2]["reject_reason"] == (
        "line 5 has 2 cells where the header has 7 columns (a missing or extra delimiter, or an unclosed quote?)"
    )
    result = _normalised(source, records)
    assert len(result.listings) == 3 and len(result.rejects) == 1
    lyon = result.listings[result.listings["city"] == "Lyon"].iloc[0]
    assert lyon["start_at"] == pd.Timestamp("2026-11-10T08:00Z") and lyon["end_at"] == pd.Timestamp("2026-11-10T11:00Z")
    assert set(result.listings["attendance_mode"]) == {"in_person", "online", "unknown"}


def test_csv_comma_utf8_bom(httpserver):
    httpserver.expect_request("/a.csv").respond_with_data(fixture_bytes("csv", "agenda-utf8-bom.csv"))
    source = _source(id="c", kind="csv", fields={"title": "title", "start": "start", "city": "city"})
    _, records = _collect(source, httpserver.url_for("/a.csv"))
    assert [r["title"] for r in records] == ["Visite du lab", "Débat, citoyen"]


def test_csv_missing_column_is_a_clear_error(httpserver):
    httpserver.expect_request("/a.csv").respond_with_data(fixture_bytes("csv", "agenda-utf8-bom.csv"))
    source = _source(id="c", kind="csv", fields={"title": "Titre"})
    with pytest.raises(ParseError, match="column 'Titre' not in the header"):
        _collect(source, httpserver.url_for("/a.csv"))


# --- feeds -----------------------------------------------------------------------------------


def test_rss_dates_read_from_the_text(httpserver):
    httpserver.expect_request("/rss").respond_with_data(
        fixture_bytes("feed", "actualites.rss"), content_type="application/rss+xml"
    )
    source = _source(id="f", kind="feed")
    _, records = _collect(source, httpserver.url_for("/rss"))
    assert len(records) == 3
    assert records[0]["url"] == httpserver.url_for("/actualites/atelier-formulaire")
    result = _normalised(source, records)
    assert len(result.listings) == 2
    assert result.rejects.iloc[0]["reason"].startswith('the start date cannot be read: no date in "Le lab recrute')
    first = result.listings.iloc[0]
    assert (first["start_at"], first["end_at"]) == (
        pd.Timestamp("2026-11-10T13:00Z"),
        pd.Timestamp("2026-11-10T15:30Z"),
    )
    assert (first["postal_code"], first["city"]) == ("35000", "Rennes")  # "…, 35000 Rennes." in the text
    assert result.listings.iloc[1]["start_at"] == pd.Timestamp("2026-11-12T10:00Z")


def test_atom_date_from_a_configured_field(httpserver):
    httpserver.expect_request("/atom").respond_with_data(
        fixture_bytes("feed", "agenda.atom"), content_type="application/atom+xml"
    )
    source = _source(id="f", kind="feed", date_field="published")
    _, records = _collect(source, httpserver.url_for("/atom"))
    assert records[0]["start"] == "2026-11-14T09:00:00+01:00"
    assert records[0]["url"] == "https://agenda.example.org/hackathon"


def test_not_a_feed_is_a_parse_error(httpserver):
    httpserver.expect_request("/x").respond_with_data(b"\x00\x01 nothing", content_type="text/plain")
    with pytest.raises(ParseError, match="the feed kind reads an RSS or Atom feed; found binary data"):
        _collect(_source(id="f", kind="feed"), httpserver.url_for("/x"))


# --- JSON-LD ---------------------------------------------------------------------------------


def test_jsonld_graph_arrays_places_and_followed_pages(httpserver):
    httpserver.expect_request("/agenda").respond_with_data(
        fixture_bytes("jsonld", "listing.html"), content_type="text/html"
    )
    httpserver.expect_request("/evenements/atelier.html").respond_with_data(fixture_bytes("jsonld", "event-page.html"))
    httpserver.expect_request("/evenements/absent.html").respond_with_data("gone", status=404)
    source = _source(id="j", kind="jsonld", follow="a.event-link", max_follow=5)
    pages, records = _collect(source, httpserver.url_for("/agenda"))
    assert len(pages) == 2  # the listing and the one event page that exists
    by_title = {r.get("title"): r for r in records}
    assert records[0]["reject_reason"].startswith("JSON-LD block 3 of the page is not valid JSON (error at line ")
    opening = by_title["Conférence d'ouverture"]
    assert (opening["postal_code"], opening["city"], opening["online_url"]) == (
        "33000",
        "Bordeaux",
        "https://live.ex.org/ouverture",
    )
    assert opening["attendance_mode"] == "https://schema.org/MixedEventAttendanceMode"
    assert opening["registration_url"] == httpserver.url_for("/inscription/1")
    assert opening["organizer"] == "Région Exemple"
    expo = by_title["Exposition des prototypes"]
    assert expo["street_address"] == "8 cours Victor Hugo, 64100 Bayonne"  # as written
    assert by_title["Hackathon en ligne"]["attendance_mode"] == "online"
    assert by_title["Atelier &quot;langage clair&quot;"]["city"] == "Rennes"
    result = _normalised(source, records)
    modes = dict(zip(result.listings["title"], result.listings["attendance_mode"], strict=True))
    assert modes["Conférence d'ouverture"] == "hybrid" and modes["Hackathon en ligne"] == "online"
    statuses = dict(zip(result.listings["title"], result.listings["status"], strict=True))
    assert statuses["Exposition des prototypes"] == "postponed"
    types = dict(zip(result.listings["title"], result.listings["event_type"], strict=True))
    assert types["Exposition des prototypes"] == "exposition" and types["Hackathon en ligne"] == "hackathon"
    # An address written as text is split by normalisation into street, postal code and city.
    expo_row = result.listings.set_index("title").loc["Exposition des prototypes"]
    assert (expo_row["street_address"], expo_row["postal_code"], expo_row["city"], expo_row["commune_insee"]) == (
        "8 cours Victor Hugo",
        "64100",
        "Bayonne",
        "64102",
    )
    assert 'Atelier "langage clair"' in set(result.listings["title"])


# --- DATAtourisme ----------------------------------------------------------------------------


def test_datatourisme_graph(httpserver):
    httpserver.expect_request("/dt.json").respond_with_data(fixture_bytes("datatourisme", "graph.json"))
    source = _source(id="d", kind="datatourisme")
    _, records = _collect(source, httpserver.url_for("/dt.json"))
    reasons = [r.get("reject_reason") for r in records]
    assert reasons.count("the DATAtourisme record is not a JSON object but a string") == 1
    events = [r for r in records if not r.get("reject_reason")]
    assert [(r["title"], r["start"], r["end"]) for r in events] == [
        ("Rencontre des tiers-lieux", "2026-11-19T09:30:00", "2026-11-19T17:00:00"),
        ("Rencontre des tiers-lieux", "2026-11-26", "2026-11-26"),
        ("Festival de l'innovation", "2026-11-06", "2026-11-08"),
    ]
    assert events[0]["commune_insee"] == "49007"


def test_real_datatourisme_record_is_accounted_for(shared_dir):
    content = (shared_dir / "data" / "real" / "datatourisme-event-saumur.json").read_bytes()
    source = _source(id="d", kind="datatourisme")
    records = get_adapter("datatourisme").parse(
        __import__("aggregator.http", fromlist=["Fetched"]).Fetched("file:///saumur.json", content), source
    )
    result = _normalised(source, records)
    assert len(result.listings) + len(result.rejects) == len(records) >= 1
    row = result.listings.iloc[0]
    assert (row["commune_insee"], row["departement_code"], row["region_name"]) == ("49328", "49", "Pays de la Loire")
    assert row["title"] == 'EXPOSITION : "ÉMOTIONS ENFOUIES" D\'ANNA-EVA BERGE'
    assert row["event_type"] == "exposition" and row["all_day"]
    assert row["start_at"] == pd.Timestamp("2023-11-08T23:00Z")


# --- Opendatasoft ----------------------------------------------------------------------------


def _serve_ods(httpserver, records, dataset="evenements-publics-openagenda"):
    path = f"/api/explore/v2.1/catalog/datasets/{dataset}/records"

    def handler(request):
        from werkzeug import Response

        limit = int(request.args.get("limit", 10))
        offset = int(request.args.get("offset", 0))
        assert limit <= 100 and offset + limit <= 10_000
        body = {"total_count": len(records), "results": records[offset : offset + limit]}
        return Response(json.dumps(body), content_type="application/json")

    httpserver.expect_request(path).respond_with_handler(handler)


def test_opendatasoft_pages_through_records(httpserver):
    records = json.loads(fixture_bytes("opendatasoft", "dataset-250.json"))
    _serve_ods(httpserver, records)
    source = _source(id="o", kind="opendatasoft", url=httpserver.url_for("/"), dataset="evenements-publics-openagenda",
                     apikey="k-123456", where="location_region = 'Nouvelle-Aquitaine'")  # fmt: skip
    pages, out = _collect(source, httpserver.url_for("/"))
    assert len(pages) == 3 and len(out) == 250
    request = page_requests(httpserver)[0][0]
    assert request.headers["Authorization"] == "Apikey k-123456" and "apikey" not in request.url
    assert request.args["where"] == "location_region = 'Nouvelle-Aquitaine'"
    result = _normalised(source, out)
    assert len(result.listings) == 250
    assert result.listings.iloc[0]["registration_url"] == "https://inscription.example.org/0"
    assert result.listings["status"].value_counts()["cancelled"] == 1


def test_opendatasoft_switches_to_the_export_past_ten_thousand(httpserver):
    path = "/api/explore/v2.1/catalog/datasets/big"
    httpserver.expect_request(f"{path}/records").respond_with_json({"total_count": 25_000, "results": [{"uid": "1"}]})
    lines = "\n".join(
        json.dumps({"uid": str(i), "title_fr": f"E{i}", "firstdate_begin": "2026-11-03T10:00:00+00:00"})
        for i in range(3)
    )
    httpserver.expect_request(f"{path}/exports/jsonl").respond_with_data(lines + "\n{broken\n")
    source = _source(id="o", kind="opendatasoft", url=httpserver.url_for("/"), dataset="big")
    pages, out = _collect(source, httpserver.url_for("/"))
    assert len(pages) == 1 and pages[0].url.split("?")[0].endswith("/exports/jsonl")
    assert [r.get("title") for r in out[:3]] == ["E0", "E1", "E2"]
    assert out[3]["reject_reason"] == "line 4 of the export is not valid JSON (error at column 2)"


def test_real_opendatasoft_dataset_all_500_records_come_through(httpserver, shared_dir):
    records = json.loads((shared_dir / "data" / "real" / "openagenda-opendatasoft-idf-500.json").read_text())
    _serve_ods(httpserver, records)
    source = _source(
        id="idf", kind="opendatasoft", url=httpserver.url_for("/"), dataset="evenements-publics-openagenda"
    )
    _, out = _collect(source, httpserver.url_for("/"))
    result = _normalised(source, out)
    listings, rejects = result.listings, result.rejects
    uids = listings["source_uid"].str.split("#").str[0]
    assert set(uids) | set(rejects["source_uid"].dropna().str.split("#").str[0]) == {r["uid"] for r in records}
    # Rejected only for a real reason: the two records that have no title in the dataset.
    untitled = {r["uid"] for r in records if not (r.get("title_fr") or "").strip()}
    assert set(rejects["reason"]) <= {"the event has no title: the title field is empty or missing"}
    assert set(rejects["source_uid"].str.split("#").str[0]) == untitled
    expected_mode = {"1": "in_person", "2": "online", "3": "hybrid"}
    for record in records:
        if record["uid"] in untitled:
            continue
        mine = listings[uids == record["uid"]]
        timings = [pd.Timestamp(t["begin"]).tz_convert("UTC") for t in json.loads(record["timings"])]
        assert set(mine["start_at"]) <= set(timings), record["uid"]  # every start is one of its timings, in UTC
        assert min(timings) in set(mine["start_at"])
        assert set(mine["attendance_mode"]) == {expected_mode[str(json.loads(record["attendancemode"])["id"])]}


# --- OpenAgenda ------------------------------------------------------------------------------


def _serve_openagenda(httpserver, pages):
    serve_openagenda(httpserver, pages, key="oa-secret-key")


def test_openagenda_cursor_pagination_and_mapping(httpserver):
    pages = [json.loads(fixture_bytes("openagenda", f"events-page{i}.json")) for i in (1, 2)]
    _serve_openagenda(httpserver, pages)
    source = _source(id="oa", kind="openagenda", url=httpserver.url_for("/"), agenda="12345", key="oa-secret-key")
    fetched, records = _collect(source, httpserver.url_for("/"))
    assert len(fetched) == 2
    assert records[-1]["reject_reason"] == "the event is not a JSON object but a string"
    result = _normalised(source, records)
    titles = result.listings["title"].value_counts()
    assert titles["Atelier design de services"] == 3  # three weekly sessions: three listings
    assert titles["Exposition des labs"] == 1  # open every day but Mondays: one session
    expo = result.listings[result.listings["title"] == "Exposition des labs"].iloc[0]
    assert expo["end_at"] == pd.Timestamp("2026-11-28T17:00Z")
    web = result.listings[result.listings["title"] == "Webinaire IA et administration"].iloc[0]
    assert (web["attendance_mode"], web["online_url"]) == ("online", "https://visio.example.org/r")
    assert pd.isna(web["region_code"])  # online, no place, no territory declared: no region
    cancelled = result.listings[result.listings["title"] == "Table ronde annulée"].iloc[0]
    assert cancelled["status"] == "cancelled"
    atelier = result.listings[result.listings["title"] == "Atelier design de services"].iloc[0]
    assert atelier["registration_url"] == "https://inscription.example.org/111"
    assert atelier["commune_insee"] == "31555"


def test_openagenda_reads_a_saved_export_or_api_response_as_one_file(tmp_path):
    # An agenda's export downloaded by hand, and an API page saved with curl: no agenda uid, no API.
    (tmp_path / "exports").mkdir()
    (tmp_path / "exports" / "agenda.json").write_bytes(fixture_bytes("openagenda", "agenda-export.json"))
    (tmp_path / "exports" / "page.json").write_bytes(fixture_bytes("openagenda", "events-page1.json"))
    config_path = tmp_path / "sources.yaml"
    for name, fixture in (("agenda.json", "agenda-export.json"), ("page.json", "events-page1.json")):
        source = parse_config(
            {"sources": [{"id": "oa", "kind": "openagenda", "url": f"exports/{name}"}]}, config_path, {}
        ).sources[0]
        result = collect_source(source, config_path)
        assert result.status == "ok" and result.pages == 1
        expected = get_adapter("openagenda").parse(
            Fetched(result.records["page_url"].iloc[0], fixture_bytes("openagenda", fixture)), source
        )
        read = result.records.drop(columns=["source_id", "source_kind", "fetched_at"])
        read = read.astype(object).where(read.notna(), None)
        assert read.to_dict("records") == [{k: r.get(k) for k in read.columns} for r in expected]
        assert len(expected) >= 3


def test_openagenda_settings_say_what_a_saved_file_and_the_api_each_need(tmp_path):
    with pytest.raises(ConfigError, match=r"sources\[0\] \(id=oa\)\.agenda: .*required when url is the API"):
        parse_config({"sources": [{"id": "oa", "kind": "openagenda"}]}, tmp_path / "s.yaml", {})
    with pytest.raises(ConfigError, match=r"sources\[0\] \(id=oa\)\.incremental: .*a saved file is read whole"):
        parse_config(
            {"sources": [{"id": "oa", "kind": "openagenda", "url": "export.json", "incremental": True}]},
            tmp_path / "s.yaml",
            {},
        )
    api = parse_config({"sources": [{"id": "oa", "kind": "openagenda", "agenda": "1"}]}, tmp_path / "s.yaml", {})
    assert api.sources[0].url == "https://api.openagenda.com"


def test_openagenda_incremental_runs_update_and_remove(httpserver, tmp_path):
    pages = [json.loads(fixture_bytes("openagenda", f"events-page{i}.json")) for i in (1, 2)]
    _serve_openagenda(httpserver, pages)
    config = parse_config(
        {
            "sources": [
                {
                    "id": "oa",
                    "kind": "openagenda",
                    "url": httpserver.url_for("/"),
                    "agenda": "12345",
                    "key": "oa-secret-key",
                    "incremental": True,
                }
            ]
        },
        tmp_path / "sources.yaml",
        {},
    )
    source = config.sources[0]
    first = collect_source(source, config.path, tmp_path / "state")
    assert not any("updatedAt[gte]" in r[0].url for r in httpserver.log)
    titles = set(first.records["title"].dropna())
    assert "Table ronde annulée" in titles
    # Between runs: event 444 is deleted from the agenda, event 111 is retitled.
    pages[1]["events"] = [e for e in pages[1]["events"] if not (isinstance(e, dict) and e["uid"] == 444)]
    pages[0]["events"][0]["title"] = "Atelier design de services (complet)"
    httpserver.clear_log()
    second = collect_source(source, config.path, tmp_path / "state")
    assert any("updatedAt%5Bgte%5D" in r[0].url or "updatedAt[gte]" in r[0].url for r in httpserver.log)
    titles = set(second.records["title"].dropna())
    assert "Table ronde annulée" not in titles
    assert "Atelier design de services (complet)" in titles and "Atelier design de services" not in titles


# --- richer HTML and iCal --------------------------------------------------------------------


def test_html_pagination_several_dates_and_detail_pages(httpserver):
    httpserver.expect_request("/agenda", query_string="").respond_with_data(
        fixture_bytes("html", "paged-1.html"), content_type="text/html"
    )
    httpserver.expect_request("/agenda", query_string="page=2").respond_with_data(
        fixture_bytes("html", "paged-2-cp1252-undeclared.html"), content_type="text/html"
    )
    httpserver.expect_request("/fiche/c1.html").respond_with_data(
        fixture_bytes("html", "fiche-c1.html"), content_type="text/html"
    )
    httpserver.expect_request("/fiche/c2.html").respond_with_data("missing", status=404)
    httpserver.expect_request("/fiche/c3.html").respond_with_data(
        fixture_bytes("html", "fiche-c3.html"), content_type="text/html"
    )
    source = _source(
        id="h", kind="html", item="div.card", fields={"uid": "@data-id", "title": "h2", "url": "h2 a@href"},
        next="a[rel=next]@href", max_pages=5, dates="ul.dates time@datetime",
        detail={"link": "h2 a@href", "fields": {"venue_name": ".lieu", "postal_code": ".cp", "city": ".ville",
                                                "registration_url": "a.inscription@href"}},
    )  # fmt: skip
    pages, records = _collect(source, httpserver.url_for("/agenda"))
    assert len([p for p in pages if "/agenda" in p.url]) == 2  # the loop back to page 2 is not followed
    assert [(r["uid"], r["start"]) for r in records] == [
        ("c1#1", "2026-11-03T14:00"), ("c1#2", "2026-11-10T14:00"), ("c2", "2026-11-05T10:00"), ("c3", "2026-11-20T18:00")
    ]  # fmt: skip
    assert records[0]["title"] == "Atelier créativité"
    assert records[3]["title"] == "Débat : l’école de demain"  # windows-1252 with nothing declared
    assert (records[0]["city"], records[0]["registration_url"]) == ("Bordeaux", httpserver.url_for("/inscription/c1"))
    assert records[2].get("city") is None  # its detail page is missing: the item stays as listed
    assert records[3]["postal_code"] == "69003"


def test_ical_recurrences_expanded_within_the_window(httpserver):
    httpserver.expect_request("/r.ics").respond_with_data(
        fixture_bytes("ical", "recurring.ics"), content_type="text/calendar"
    )
    source = _source(id="i", kind="ical", reference_date="2026-11-01", window_before_days=31, window_after_days=60)
    _, records = _collect(source, httpserver.url_for("/r.ics"))
    weekly = sorted(r["start"] for r in records if r["uid"].startswith("weekly@fixture"))
    # COUNT=4 from Nov 3, minus the EXDATE of Nov 10, with Nov 17 moved to the afternoon.
    assert weekly == ["2026-11-03T10:00:00+01:00", "2026-11-17T14:00:00+01:00", "2026-11-24T10:00:00+01:00"]
    monthly = sorted(r["start"] for r in records if r["uid"].startswith("forever@fixture"))
    assert monthly == ["2026-10-01", "2026-11-01", "2026-12-01"]  # bounded by the window
    salon = next(r for r in records if r["uid"] == "multiday@fixture")
    assert (salon["start"], salon["end"]) == ("2026-11-23", "2026-11-25")
    result = _normalised(source, records)
    row = result.listings[result.listings["source_uid"] == "multiday@fixture"].iloc[0]
    assert row["end_at"] == pd.Timestamp("2026-11-25T23:00Z")  # exclusive end after the last day
    assert row["postal_code"] == "67000"  # from LOCATION, split by normalisation
