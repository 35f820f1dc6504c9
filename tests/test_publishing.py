"""What communications and the public use: spreadsheets, calendars, GeoJSON, JSON-LD, maps, the data package."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from conftest import FIXTURES, write_config
from hypothesis import given, settings
from hypothesis import strategies as st
from icalendar import Calendar

from aggregator import feeds
from aggregator.config import load_config
from aggregator.pipeline import run
from aggregator.schema import EVENTS
from aggregator.spreadsheets import EVENT_COLUMNS
from aggregator.stats_schema import STATS_TABLES

ROOT = Path(__file__).resolve().parent.parent
LAB = FIXTURES / "ical" / "lab-calendar.ics"


@pytest.fixture(scope="module")
def published(tmp_path_factory) -> Path:
    """One run on the bundled samples (nine kinds, overseas regions included) plus the lab's calendar."""
    tmp = tmp_path_factory.mktemp("published")
    text = (ROOT / "sources.yaml").read_text(encoding="utf-8").replace("data/samples/", f"{ROOT}/data/samples/")
    text += f"  - {{id: lab, kind: ical, url: {LAB}}}\n"
    path = write_config(tmp, text)
    out = tmp / "out"
    assert run(load_config(path), out).status == "success"
    return out / "latest"


def _events(folder: Path) -> pd.DataFrame:
    events = pd.read_parquet(folder / "events.parquet")
    return events[events["removed_at"].isna()].reset_index(drop=True)


# Spreadsheets ------------------------------------------------------------------------------------------


def test_events_csv_opens_in_a_french_spreadsheet(published):
    raw = (published / "events.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM: Excel reads the accents right
    header = raw[3:].split(b"\r\n", 1)[0].decode("utf-8")
    assert header.count(";") == len(EVENT_COLUMNS) - 1 and "," not in header
    assert '"Début (heure locale)"' in header and '"Code département"' in header
    frame = pd.read_csv(published / "events.csv", sep=";", dtype=str, encoding="utf-8-sig", keep_default_na=False)
    events = _events(published).set_index("event_id")
    assert len(frame) == len(events)
    row = frame.set_index("Identifiant").loc[events.index[0]]
    assert row["Titre"] == events.iloc[0]["title"]
    # Codes stay text: Guadeloupe's 971 and the Ain-style leading zeros survive a re-read.
    codes = set(frame["Code région"]) - {""}
    assert codes and all(len(code) == 2 for code in codes) and "01" in codes
    # Local wall-clock time of the event's place, French values, decimal comma.
    reunion = frame[frame["Fuseau horaire"] == "Indian/Reunion"].iloc[0]
    ev = events.loc[reunion["Identifiant"]]
    local = ev["start_at"].tz_convert("Indian/Reunion").strftime("%Y-%m-%d %H:%M:%S")
    assert reunion["Début (heure locale)"] == local
    assert set(frame["Format"]) <= {"Sur place", "En ligne", "Hybride", "Non précisé"}
    assert set(frame["Toute la journée"]) == {"oui", "non"}
    latitudes = [v for v in frame["Latitude"] if v]
    assert latitudes and all("," in v and "." not in v for v in latitudes)


def test_stats_csv_are_french_and_match_the_parquet(published):
    for name, table in STATS_TABLES.items():
        raw = (published / "stats" / f"{name}.csv").read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf"), name
        frame = pd.read_csv(io.BytesIO(raw), sep=";", dtype=str, encoding="utf-8-sig", keep_default_na=False)
        parquet = pd.read_parquet(published / "stats" / f"{name}.parquet")
        assert len(frame) == len(parquet), name
        assert list(parquet.columns) == table.names, name
    regions = pd.read_csv(published / "stats" / "by_region.csv", sep=";", dtype=str, encoding="utf-8-sig")
    assert regions["Code région"].tolist()[:3] == ["01", "02", "03"]
    quality = pd.read_csv(published / "stats" / "geo_quality.csv", sep=";", dtype=str, encoding="utf-8-sig")
    assert all("," in v for v in quality["Part rattachée"])  # 0,95: a number for a French spreadsheet
    by_day = pd.read_parquet(published / "stats" / "by_day.parquet")
    assert by_day["date"].map(type).eq(__import__("datetime").date).all()


def test_stats_parquet_carry_descriptions_and_schema_version(published):
    import pyarrow.parquet as pq

    for name, table in STATS_TABLES.items():
        schema = pq.read_schema(published / "stats" / f"{name}.parquet")
        assert schema.metadata[b"schema_version"] and schema.metadata[b"table"] == name.encode()
        for column in table.columns:
            assert schema.field(column.name).metadata[b"description"] == column.description.encode()
    assert str(pq.read_schema(published / "stats" / "by_day.parquet").field("date").type) == "date32[day]"


def test_events_xlsx_has_events_every_statistic_and_a_dictionary(published):
    book = openpyxl.load_workbook(published / "events.xlsx")
    assert book.sheetnames[0] == "Événements" and book.sheetnames[-1] == "Dictionnaire"
    assert len(book.sheetnames) == 2 + len(STATS_TABLES)
    sheet = book["Événements"]
    header = [c.value for c in sheet[1]]
    assert header[:3] == ["Identifiant", "Titre", "Début (heure locale)"]
    assert sheet["B1"].comment is not None and sheet["B1"].comment.text == EVENTS.column("title").description
    assert sheet.max_row - 1 == len(_events(published))
    start = sheet["C2"].value
    assert start.__class__.__name__ == "datetime" and start.tzinfo is None  # a real date cell, local time
    region_codes = [row[0].value for row in book["Par région"].iter_rows(min_row=2, max_col=1)]
    assert region_codes[0] == "01" and all(isinstance(c, str) for c in region_codes)  # text, not 1
    code_col = header.index("Code département") + 1
    cells = [r[0] for r in sheet.iter_rows(min_row=2, min_col=code_col, max_col=code_col) if r[0].value]
    assert cells and all(c.data_type == "s" and c.number_format == "@" for c in cells)
    dictionary = [[c.value for c in row] for row in book["Dictionnaire"].iter_rows(min_row=2)]
    assert ["Événements", "Titre", "title", EVENTS.column("title").description] in dictionary


# Feeds ------------------------------------------------------------------------------------------------


def test_calendars_are_rfc5545_with_stable_uids_time_zones_and_cancellations(published):
    events = _events(published)
    whole = Calendar.from_ical((published / "calendars" / "france.ics").read_bytes())
    vevents = whole.walk("VEVENT")
    assert len(vevents) == len(events)
    assert {str(v["UID"]) for v in vevents} == {f"{e}@aggregator.mois-innovation-publique" for e in events["event_id"]}
    assert {str(z["TZID"]) for z in whole.walk("VTIMEZONE")} >= {"Europe/Paris", "Indian/Reunion"}
    by_uid = {str(v["UID"]).split("@")[0]: v for v in vevents}
    for row in events.to_dict("records"):
        vevent = by_uid[row["event_id"]]
        assert "DTSTAMP" in vevent and str(vevent["SUMMARY"]) == row["title"]
        start = vevent.decoded("DTSTART")
        if row["all_day"]:
            assert start == row["start_at"].tz_convert(row["timezone"]).date()
        else:
            assert pd.Timestamp(start) == row["start_at"]  # the same instant
            assert str(start.tzinfo) == row["timezone"]  # written in the place's own zone (TZID)
        assert str(vevent["STATUS"]) == ("CANCELLED" if row["status"] == "cancelled" else "CONFIRMED")
        if isinstance(row["url"], str):
            assert str(vevent["URL"]) == row["url"]
    assert any(str(v["STATUS"]) == "CANCELLED" for v in vevents)  # the lab's cancelled round table
    assert any("LOCATION" in v for v in vevents)
    # One calendar per region, all 18, each holding exactly its region's events.
    regional = sorted(p.name for p in (published / "calendars").glob("*.ics") if p.name != "france.ics")
    assert len(regional) == 18 and "provence-alpes-cote-d-azur.ics" in regional
    na = Calendar.from_ical((published / "calendars" / "nouvelle-aquitaine.ics").read_bytes())
    assert len(na.walk("VEVENT")) == int((events["region_code"] == "75").sum()) > 0
    assert len(Calendar.from_ical((published / "calendars" / "mayotte.ics").read_bytes()).walk("VEVENT")) == 0


@pytest.mark.slow  # runs the pipeline again (make test runs it; make check leaves it)
def test_events_removed_from_every_source_leave_the_feeds_and_uids_stay(tmp_path):
    path = write_config(tmp_path, f"sources:\n  - {{id: lab, kind: ical, url: {tmp_path / 'lab.ics'}}}\n")
    ics = LAB.read_text(encoding="utf-8")
    (tmp_path / "lab.ics").write_text(ics, encoding="utf-8")
    out = tmp_path / "out"
    run(load_config(path), out)
    first = {str(v["UID"]) for v in Calendar.from_ical((out / "calendars" / "france.ics").read_bytes()).walk("VEVENT")}
    # The publisher withdraws the Toulouse exhibition.
    start = ics.index("BEGIN:VEVENT\nUID:allday-3")
    (tmp_path / "lab.ics").write_text(ics[:start] + ics[ics.index("END:VEVENT", start) + 11 :], encoding="utf-8")
    run(load_config(path), out)
    events = pd.read_parquet(out / "events.parquet")
    removed = set(events.loc[events["removed_at"].notna(), "event_id"])
    assert len(removed) == 1
    second = {str(v["UID"]) for v in Calendar.from_ical((out / "calendars" / "france.ics").read_bytes()).walk("VEVENT")}
    assert second == first - {f"{e}@aggregator.mois-innovation-publique" for e in removed}  # the others keep their UID
    geo = json.loads((out / "events.geojson").read_text(encoding="utf-8"))
    assert not removed & {f["properties"]["event_id"] for f in geo["features"]}


def test_geojson_is_rfc7946_with_centroids_where_the_point_is_unknown(published):
    data = json.loads((published / "events.geojson").read_text(encoding="utf-8"))
    assert data["type"] == "FeatureCollection" and "crs" not in data  # RFC 7946: WGS 84, no crs member
    events = _events(published).set_index("event_id")
    placeable = events["latitude"].notna() | events["commune_insee"].notna()
    assert len(data["features"]) == int(placeable.sum()) > 0
    for feature in data["features"]:
        assert feature["type"] == "Feature" and feature["geometry"]["type"] == "Point"
        lon, lat = feature["geometry"]["coordinates"]
        assert -180 <= lon <= 180 and -90 <= lat <= 90
        props = feature["properties"]
        row = events.loc[props["event_id"]]
        assert props["geo_precision"] == row["geo_precision"]
        if pd.notna(row["latitude"]):
            assert props["position"] == "event" and (round(row["longitude"], 6), round(row["latitude"], 6)) == (
                lon,
                lat,
            )
        else:
            assert props["position"] == "commune_centroid"
        if row["region_code"] == "04":  # La Réunion lies in the Indian Ocean, longitude first
            assert 55 < lon < 56 and -22 < lat < -20
    assert {f["properties"]["position"] for f in data["features"]} == {"event", "commune_centroid"}


@pytest.mark.slow  # runs the pipeline again (make test runs it; make check leaves it)
def test_jsonld_events_are_read_back_by_the_jsonld_adapter(published):
    data = json.loads((published / "events.jsonld").read_text(encoding="utf-8"))
    events = _events(published).set_index("event_id")
    assert data["@context"] == "https://schema.org" and len(data["@graph"]) == len(events)
    cancelled = [e for e in data["@graph"] if e["eventStatus"].endswith("EventCancelled")]
    assert len(cancelled) == int((events["status"] == "cancelled").sum()) > 0
    # Another aggregator (or this one) reading the file as a JSON-LD source gets the same events back.
    folder = published.parent.parent / "jsonld-back"
    folder.mkdir()
    path = write_config(folder, f"sources:\n  - {{id: back, kind: jsonld, url: {published / 'events.jsonld'}}}\n")
    assert run(load_config(path), folder / "out").status == "success"
    back = _events(folder / "out" / "latest")
    mine = events.reset_index()
    assert len(back) == len(mine)
    key = ["title", "start_at", "status", "attendance_mode", "postal_code"]
    assert back[key].sort_values(key).reset_index(drop=True).equals(mine[key].sort_values(key).reset_index(drop=True))


# Data package -----------------------------------------------------------------------------------------


@pytest.fixture
def frictionless_validate():
    """``validate(path)`` with frictionless; the csv module's global field size limit it raises is restored."""
    from frictionless import Package

    limit = csv.field_size_limit()

    def validate(path: Path):
        return Package(str(path)).validate()  # as `frictionless validate datapackage.json` does

    yield validate
    csv.field_size_limit(limit)  # the csv adapter's tests rely on the standard limit


def test_datapackage_describes_every_published_table_and_validates(published, frictionless_validate):
    descriptor = json.loads((published / "datapackage.json").read_text(encoding="utf-8"))
    paths = {r["path"] for r in descriptor["resources"]}
    on_disk = {str(p.relative_to(published)) for p in published.rglob("*") if p.suffix in (".parquet", ".csv")}
    assert paths == on_disk  # every table, stats included, in both forms
    report = frictionless_validate(published / "datapackage.json")
    errors = [(task.name, [e.message for e in task.errors][:3]) for task in report.tasks if not task.valid]
    assert report.valid, errors
    events = next(r for r in descriptor["resources"] if r["path"] == "events.parquet")
    assert [f["name"] for f in events["schema"]["fields"]] == EVENTS.names
    title = next(f for f in events["schema"]["fields"] if f["name"] == "title")
    assert title["description"] == EVENTS.column("title").description and title["constraints"]["required"]


def test_datapackage_validation_catches_a_broken_table(published, tmp_path, frictionless_validate):
    # The check above can fail: a CSV whose region code breaks its pattern is reported.
    copy = tmp_path / "copy"
    for path in published.rglob("*"):
        if path.is_file() and path.suffix in (".parquet", ".csv", ".json"):
            target = copy / path.relative_to(published)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(path.read_bytes())
    broken = copy / "stats" / "by_region.csv"
    broken.write_text(broken.read_text(encoding="utf-8-sig").replace('"01";', '"1";', 1), encoding="utf-8-sig")
    report = frictionless_validate(copy / "datapackage.json")
    assert not report.valid
    failing = [task.name for task in report.tasks if not task.valid]
    assert failing == ["stats-by-region-csv"]


# Maps and report --------------------------------------------------------------------------------------


def test_maps_sit_beside_the_report_as_png_and_svg(published):
    from PIL import Image

    for level in ("regions", "departements"):
        png = published / "maps" / f"{level}.png"
        with Image.open(png) as image:
            image.load()  # decodes every pixel
            assert image.size[0] > 1000 and image.size[1] > 1000
            colours = image.convert("RGB").getcolors(1_000_000)
            assert colours and len(colours) > 10  # a choropleth, not a blank page
        svg = (published / "maps" / f"{level}.svg").read_text(encoding="utf-8")
        assert svg.lstrip().startswith("<?xml") and "<svg" in svg and svg.count("<path") > 100


def test_map_colours_follow_the_counts():
    from aggregator.maps import NONE_COLOUR, SCALE, classes, france_map, outlines

    assert (
        classes([0, 0]) == [1] and classes([0, 3]) == [1, 2, 3] and classes([0, 250]) == [50 * i for i in range(1, 6)]
    )
    counts = {code: 0 for code in outlines()["regions"]} | {"75": 9, "11": 1}
    fig = france_map(counts, "regions", "Test", labels=True)
    try:
        collection = fig.axes[0].collections[0]
        collection.update_scalarmappable()  # colours are mapped from the counts at draw time
        colours = {tuple(round(c, 3) for c in rgba[:3]) for rgba in collection.get_facecolors()}
        from matplotlib.colors import to_rgb

        assert tuple(round(c, 3) for c in to_rgb(SCALE[-1])) in colours  # the most events: the State's blue
        assert tuple(round(c, 3) for c in to_rgb(NONE_COLOUR)) in colours  # none: grey
        labels = {t.get_text() for t in fig.axes[0].texts}
        assert {"9", "1", "0"} <= labels
        insets = [ax.get_title() for ax in fig.axes[1:6]]
        assert insets[0].startswith("Guadeloupe") and insets[3].startswith("La Réunion")
    finally:
        import matplotlib.pyplot as plt

        plt.close(fig)


def test_map_outlines_are_small_and_rebuilt_by_the_committed_script(tmp_path):
    source = ROOT.parent / "shared" / "data" / "reference" / "geojson"
    shipped = ROOT / "src" / "aggregator" / "data" / "outlines.json"
    assert shipped.stat().st_size < 500_000
    data = json.loads(shipped.read_text(encoding="utf-8"))
    assert len(data["regions"]) == 18 and len(data["departements"]) == 101
    if not source.exists():
        pytest.skip("../shared/data/reference/geojson absent: the outlines cannot be rebuilt here")
    import importlib.util

    spec = importlib.util.spec_from_file_location("build_maps", ROOT / "scripts" / "build_maps.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.build(source, tmp_path / "outlines.json")
    assert (tmp_path / "outlines.json").read_bytes() == shipped.read_bytes()  # reproducible


def test_report_lists_upcoming_events_from_the_data_date_in_the_chart_order(published):
    from aggregator.figures import ranked_regions
    from aggregator.report import upcoming

    html = (published / "report.html").read_text(encoding="utf-8")
    events = _events(published)
    totals = json.loads((published / "totals.json").read_text(encoding="utf-8"))
    as_of = pd.Timestamp(totals["data_as_of"])
    ahead = upcoming(events, as_of)
    ends = ahead["end_at"].fillna(ahead["start_at"])
    assert (ends >= as_of).all() and (ahead["status"] != "cancelled").all()
    # On 1 November every November event is ahead; on 1 December none of them is.
    november = events[events["start_at"].dt.month == 11]
    first_nov = pd.Timestamp(f"{november['start_at'].dt.year.max()}-11-01T00:00:00+01:00")
    assert len(upcoming(november, first_nov, limit=1000)) == int((november["status"] != "cancelled").sum())
    assert upcoming(november, first_nov + pd.DateOffset(months=1, days=5)).empty
    # The region table follows the chart: most events first.
    table = html[html.index("<h2>Par région</h2>") :]
    table = table[: table.index("</table>")]
    by_region = pd.read_parquet(published / "stats" / "by_region.parquet")
    order = [
        table.index(f"<td>{name.replace(chr(39), chr(0x2019))}</td>")
        for name in ranked_regions(by_region)["region_name"]
    ]
    assert order == sorted(order)
    assert "Source\u00a0: agrégation" in html and "<h2>Méthode</h2>" in html and "IGN Admin Express" in html
    for link in ("events.xlsx", "events.csv", "calendars/france.ics", "calendars/la-reunion.ics", "datapackage.json",
                 "events.geojson", "maps/regions.png"):  # fmt: skip
        assert f'href="{link}"' in html and (published / link).exists(), link


@pytest.mark.slow  # runs the pipeline again (make test runs it; make check leaves it)
def test_people_files_are_left_out_above_their_limit_and_the_run_says_so(tmp_path):
    path = write_config(
        tmp_path, f"run:\n  people_files_max_events: 2\nsources:\n  - {{id: lab, kind: ical, url: {LAB}}}\n"
    )
    report = run(load_config(path), tmp_path / "out")
    latest = tmp_path / "out" / "latest"
    assert report.status == "success" and len(_events(latest)) > 2
    assert any("people_files_max_events" in w and "events.xlsx" in w for w in report.warnings)
    for name in ("events.xlsx", "calendars", "events.geojson", "events.jsonld"):
        assert not (latest / name).exists() and not (tmp_path / "out" / name).exists(), name
    assert (latest / "events.csv").exists() and (latest / "maps" / "regions.png").exists()
    html = (latest / "report.html").read_text(encoding="utf-8")
    assert 'href="events.csv"' in html and 'href="events.xlsx"' not in html and ".ics" not in html


def test_the_departement_map_zooms_on_paris_and_its_petite_couronne():
    from aggregator.maps import PARIS_INSET, france_map, outlines

    counts = {code: 0 for code in outlines()["departements"]} | {"75": 120, "92": 30, "93": 12, "94": 5}
    fig = france_map(counts, "departements", "Test", labels=False)
    try:
        (inset,) = [ax for ax in fig.axes if ax.get_title() == "Paris et petite couronne"]
        assert {t.get_text() for t in inset.texts} == {"120", "30", "12", "5"}
        assert len(inset.collections[0].get_paths()) >= len(PARIS_INSET)
        assert not fig.axes[0].texts  # the national map itself carries no département labels
    finally:
        import matplotlib.pyplot as plt

        plt.close(fig)


# Feed records -------------------------------------------------------------------------------------

moments = st.datetimes(min_value=dt.datetime(1990, 1, 1), max_value=dt.datetime(2060, 1, 1)).map(
    lambda d: pd.Timestamp(d, tz="UTC")
)


def _same(x, y) -> bool:
    if type(x) is not type(y):
        return False
    if isinstance(x, float) and x != x:
        return y != y
    if x is None or x is pd.NA or x is pd.NaT:
        return x is y
    if isinstance(x, list | np.ndarray):
        return list(x) == list(y)
    return bool(x == y)


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_feed_records_are_what_to_dict_gives(data):
    """``feeds._records`` reads columns with ``tolist``: the values (and types) of ``to_dict``, NA of every kind."""
    n = data.draw(st.integers(0, 6))
    values = {
        "event_id": ("str", st.text("abc", min_size=1, max_size=3)),
        "start_at": ("datetime64[us, UTC]", moments),
        "end_at": ("datetime64[us, UTC]", st.none() | moments),
        "title": ("str", st.none() | st.text(max_size=8)),
        "n_sources": ("int64", st.integers(0, 5)),
        "maybe_n": ("Int64", st.none() | st.integers(-3, 3)),
        "flag": ("boolean", st.none() | st.booleans()),
        "all_day": ("bool", st.booleans()),
        "latitude": ("float64", st.none() | st.floats(-90, 90)),
        "source_ids": ("object", st.lists(st.text("xy", max_size=2), max_size=2)),
        "note": ("object", st.none() | st.text(max_size=3)),
    }
    frame = pd.DataFrame(
        {
            name: pd.Series(data.draw(st.lists(s, min_size=n, max_size=n)), dtype=dtype)
            for name, (dtype, s) in values.items()
        }
    )
    frame = frame.iloc[data.draw(st.permutations(range(n)))] if n else frame
    expected = frame.sort_values(["start_at", "event_id"]).to_dict("records")
    got = feeds._records(frame)
    assert [list(r) for r in got] == [list(r) for r in expected]
    for mine, theirs in zip(got, expected, strict=True):
        for name in theirs:
            assert _same(mine[name], theirs[name]), (name, mine[name], theirs[name])


def test_feed_records_of_published_events_are_what_to_dict_gives(published):
    events = pd.read_parquet(published / "events.parquet")
    expected = events.sort_values(["start_at", "event_id"]).to_dict("records")
    got = feeds._records(events)
    assert len(got) == len(expected) > 0
    assert all(_same(m[k], t[k]) for m, t in zip(got, expected, strict=True) for k in t)
