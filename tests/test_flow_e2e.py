"""The nightly Prefect flow on the bundled samples, checked against counts made here independently.

The expected figures are computed by reading the sample files with plain regular expressions and
json, not with the library, so that a bug in an adapter or a normaliser cannot hide itself.
"""

import csv
import html
import json
import logging
import re
import unicodedata
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "data" / "samples"
# The départements the samples use, with their regions (INSEE codes), written out by hand.
REGION_OF = {
    "33": "75", "86": "75", "87": "75", "64": "75", "17": "75", "24": "75", "75": "11", "31": "76",
    "34": "76", "30": "76", "66": "76", "21": "27", "67": "44", "59": "32", "44": "52", "35": "53",
    "2A": "94", "974": "04", "971": "01", "69": "84", "13": "93", "14": "28", "45": "24", "29": "53",
}  # fmt: skip
SOURCE_REGION = {
    "programme-national": None, "nouvelle-aquitaine-actualites": "75", "laboc-agenda": "76",
    "bretagne-prefecture": "53", "lab-normandie-blog": "28", "grand-est-agenda": None,
    "pays-de-la-loire-datatourisme": None, "idf-opendatasoft": "11", "aura-openagenda": None,
}  # fmt: skip


def _key(title: str) -> str:
    plain = "".join(c for c in unicodedata.normalize("NFKD", title) if not unicodedata.combining(c)).lower()
    return " ".join(re.findall(r"[a-z0-9]+", plain.replace("œ", "oe")))


def _dep(postal: str | None) -> str | None:
    if not postal:
        return None
    if postal.startswith("97"):
        return postal[:3]
    if postal.startswith("20"):
        return "2A" if postal < "20200" else "2B"
    return postal[:2]


def _expected():
    items = []  # (source, title, local start "YYYY-MM-DDTHH:MM" or date, city, postal)
    for page in sorted(SAMPLES.glob("programme-national-p*.json")):
        for e in json.loads(page.read_text())["events"]:
            items.append(
                (
                    "programme-national",
                    e["name"],
                    e["dates"]["start"][:16],
                    e["place"]["city"],
                    e["place"]["postalCode"],
                )
            )
    page_html = (SAMPLES / "nouvelle-aquitaine-actualites.html").read_text()
    rejected = 0
    for block in re.findall(r'<article class="evenement".*?</article>', page_html, re.S):
        title = re.search(r"<h3><a [^>]*>(.*?)</a>", block).group(1)
        when = re.search(r'datetime="([^"]+)"', block)
        if not when:
            rejected += 1
            continue
        city = re.search(r'class="ville">([^<]+)', block)
        postal = re.search(r'class="cp">(\d{5})', block)
        items.append(("nouvelle-aquitaine-actualites", title.replace("&#x27;", "'"), when.group(1),
                      city and city.group(1), postal and postal.group(1)))  # fmt: skip
    ics = (SAMPLES / "laboc-agenda.ics").read_text().replace("\r\n ", "")
    for block in re.findall(r"BEGIN:VEVENT(.*?)END:VEVENT", ics, re.S):
        summary = re.search(r"^SUMMARY:(.*)$", block, re.M).group(1).replace("\\,", ",").strip()
        start = re.search(r"^DTSTART[^:]*:(\d{8})(?:T(\d{4}))?", block, re.M)
        day = f"{start.group(1)[:4]}-{start.group(1)[4:6]}-{start.group(1)[6:]}"
        when = f"{day}T{start.group(2)[:2]}:{start.group(2)[2:]}" if start.group(2) else day
        place = (
            re.search(r"(\d{5}) ([^\r\n]+)", block.split("LOCATION:")[1].splitlines()[0])
            if "LOCATION:" in block
            else None
        )
        items.append(
            (
                "laboc-agenda",
                summary,
                when,
                place and place.group(2).strip(),
                place and place.group(1),
            )
        )
    with open(SAMPLES / "bretagne-prefecture.csv", encoding="cp1252", newline="") as handle:
        for row in list(csv.reader(handle, delimiter=";"))[1:]:
            d, m, y = row[1].split("/")
            hours = re.findall(r"(\d+)h(\d+)", row[2])
            when = f"{y}-{m}-{d}" + (f"T{int(hours[0][0]):02d}:{hours[0][1]}" if hours else "")
            items.append(("bretagne-prefecture", row[0], when, row[6], row[5]))
    rss = (SAMPLES / "lab-normandie-blog.rss").read_text()
    for block in re.findall(r"<item>(.*?)</item>", rss, re.S):
        title = html.unescape(re.search(r"<title>(.*?)</title>", block).group(1))
        day, hour, minute = re.search(r"le (\d+) novembre 2026 de (\d+)h(\d+)", html.unescape(block)).groups()
        items.append(("lab-normandie-blog", title, f"2026-11-{int(day):02d}T{int(hour):02d}:{minute}", None, None))
    page = (SAMPLES / "grand-est-agenda.html").read_text()
    for node in json.loads(re.search(r'<script type="application/ld\+json">(.*?)</script>', page, re.S).group(1))[
        "@graph"
    ]:
        address = node["location"]["address"]
        items.append(
            (
                "grand-est-agenda",
                node["name"],
                node["startDate"][:16],
                address["addressLocality"],
                address["postalCode"],
            )
        )
    for poi in json.loads((SAMPLES / "pays-de-la-loire-datatourisme.json").read_text())["@graph"]:
        period = poi["takesPlaceAt"][0]
        when = period["startDate"] + (f"T{period['startTime'][:5]}" if period.get("startTime") else "")
        address = poi["isLocatedAt"][0]["schema:address"][0]
        items.append(("pays-de-la-loire-datatourisme", poi["rdfs:label"]["fr"][0], when,
                      address["schema:addressLocality"], address["schema:postalCode"]))  # fmt: skip
    ods = SAMPLES / "opendatasoft/api/explore/v2.1/catalog/datasets/mois-innovation-idf/records"
    for record in json.loads(ods.read_text())["results"]:
        for timing in json.loads(record["timings"]):
            items.append(("idf-opendatasoft", record["title_fr"], timing["begin"][:16], record["location_city"],
                          record["location_postalcode"]))  # fmt: skip
    agenda = SAMPLES / "openagenda/v2/agendas/mois-innovation-aura/events"
    for event in json.loads(agenda.read_text())["events"]:
        for timing in event["timings"]:
            items.append(("aura-openagenda", event["title"], timing["begin"][:16], event["location"]["city"],
                          event["location"]["postalCode"]))  # fmt: skip

    # The documented rule, applied by hand: same folded title and same local start, in the same
    # city when both listings name one (a listing without a city joins its namesake).
    groups: list[list[tuple]] = []
    for item in items:
        _source, title, when, city, _postal = item
        when = when[:16] if "T" in when else f"{when}T00:00"  # a date alone starts at local midnight
        key = (_key(title), when)
        home = next(
            (g for g in groups if g[0][0] == key and (not city or not g[0][1] or _key(g[0][1]) == _key(city))),
            None,
        )
        if home is None:
            groups.append([(key, city), item])
        else:
            home.append(item)
            if city and not home[0][1]:
                home[0] = (key, city)
    events = {i: g[1:] for i, g in enumerate(groups)}
    regions: dict[str, int] = {}
    for members in events.values():
        postal_region = next((REGION_OF[_dep(m[4])] for m in members if m[4]), None)
        region = postal_region or next((SOURCE_REGION[m[0]] for m in members if SOURCE_REGION[m[0]]), None)
        if region:
            regions[region] = regions.get(region, 0) + 1
    merged = sum(1 for members in events.values() if len(members) > 1)
    return {
        "listings": len(items),
        "rejects": rejected,
        "events": len(events),
        "regions": regions,
        "merged": merged,
    }


@pytest.mark.prefect
def test_nightly_flow_on_the_samples(prefect_harness, tmp_path):
    from flows.nightly import nightly

    expected = _expected()
    assert expected["merged"] >= 5  # the samples do give dedup some work
    report = nightly(sources=str(ROOT / "sources.yaml"), out=str(tmp_path))
    assert report["status"] == "success", report["errors"]
    assert report["engine"] == "prefect"

    events = pd.read_parquet(tmp_path / "events.parquet")
    listings = pd.read_parquet(tmp_path / "listings.parquet")
    rejects = pd.read_parquet(tmp_path / "rejects.parquet")
    assert len(listings) == expected["listings"]
    assert len(rejects) == expected["rejects"]
    assert len(events) == expected["events"]
    assert set(listings["event_id"]) == set(events["event_id"])
    assert events["n_listings"].sum() == len(listings)
    assert str(events["start_at"].dtype) == "datetime64[us, UTC]"
    assert str(events["region_code"].dtype) == "str"

    by_region = pd.read_csv(
        tmp_path / "stats" / "by_region.csv", sep=";", encoding="utf-8-sig", dtype={"Code région": str}
    )
    assert len(by_region) == 18
    counted = {code: n for code, n in zip(by_region["Code région"], by_region["Événements"], strict=True) if n}
    assert counted == expected["regions"]
    for name in ("by_departement", "by_event_type", "by_attendance_mode", "by_day", "by_source"):
        assert (tmp_path / "stats" / f"{name}.parquet").exists()
        assert (tmp_path / "stats" / f"{name}.csv").exists()
    for name in ("events.xlsx", "calendars/france.ics", "events.geojson", "events.jsonld", "maps/regions.svg"):
        assert (tmp_path / name).exists(), name  # the flow publishes what the library does

    totals = json.loads((tmp_path / "totals.json").read_text())
    assert totals["events"] == expected["events"]
    assert totals["listings"] == expected["listings"]
    na = next(r for r in totals["regions"] if r["code"] == "75")
    assert na["events"] == expected["regions"]["75"]
    md = (tmp_path / "totals.md").read_text()
    assert f"- {expected['regions']['75']} événements en Nouvelle-Aquitaine" in md
    assert totals["headline"].startswith(f"{expected['events']} événements ({expected['listings']} annonces")

    run = json.loads((tmp_path / "run.json").read_text())
    assert {s["id"]: s["status"] for s in run["sources"]} == dict.fromkeys(SOURCE_REGION, "ok")
    assert (tmp_path / "report.html").read_text().count('<img src="data:image/png;base64,') == 6  # 2 maps, 4 charts

    # The run published its figures to the Prefect UI.
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey
    from prefect.client.schemas.sorting import ArtifactSort

    # Newest first: other flow tests of the session publish artifacts under the same keys.
    with get_client(sync_client=True) as client:
        table = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["events-per-region"])),
            sort=ArtifactSort.CREATED_DESC,
        )
        totals_md = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["totals"])), sort=ArtifactSort.CREATED_DESC
        )
    assert table and table[0].type == "table"
    rows = json.loads(table[0].data) if isinstance(table[0].data, str) else table[0].data
    assert len(rows) == 18 and sum(r["événements"] for r in rows) == sum(expected["regions"].values())
    assert totals_md and totals_md[0].type == "markdown" and "Nouvelle-Aquitaine" in str(totals_md[0].data)
    assert run["counts"] == {
        "listings": expected["listings"],
        "events": expected["events"],
        "rejects": expected["rejects"],
    }


@pytest.mark.prefect
def test_flow_records_a_failing_source_and_publishes_the_others(prefect_harness, tmp_path):
    from flows import nightly as module

    config = tmp_path / "sources.yaml"
    config.write_text(
        f"sources:\n"
        f"  - {{id: lab, kind: ical, url: {ROOT / 'data' / 'samples' / 'laboc-agenda.ics'}}}\n"
        f"  - {{id: gone, kind: ical, url: {tmp_path / 'missing.ics'}}}\n"
    )
    module.collect.retry_delay_seconds = [0, 0]  # keep the retries, skip the waiting
    state = module.nightly(sources=str(config), out=str(tmp_path / "out"), return_state=True)
    # Published with a source missing: completed, but never plain "Completed".
    assert state.is_completed() and state.name == module.PARTIAL_STATE == "Completed with warnings"
    report = state.result()
    assert report["status"] == "partial"
    gone = next(s for s in report["sources"] if s["id"] == "gone")
    assert gone["status"] == "failed" and "cannot read file" in gone["error"]
    assert len(pd.read_parquet(tmp_path / "out" / "events.parquet")) > 0


@pytest.mark.prefect
def test_flow_that_publishes_nothing_fails(prefect_harness, tmp_path):
    from flows import nightly as module

    config = tmp_path / "sources.yaml"
    config.write_text(f"sources:\n  - {{id: gone, kind: ical, url: {tmp_path / 'missing.ics'}}}\n")
    module.collect.retry_delay_seconds = [0, 0]
    state = module.nightly(sources=str(config), out=str(tmp_path / "out"), return_state=True)
    assert state.is_failed()
    assert "nothing published" in (state.message or "")
    assert json.loads((tmp_path / "out" / "run.json").read_text())["status"] == "failed"


@pytest.mark.prefect
def test_flow_retries_only_what_may_pass_and_prints_no_traceback(prefect_harness, httpserver, tmp_path, capfd):
    from werkzeug import Response

    from flows import nightly as module

    ics = (ROOT / "data" / "samples" / "laboc-agenda.ics").read_bytes()
    hits = {"flaky": 0}

    def flaky(_request):
        hits["flaky"] += 1
        return Response("busy", status=503) if hits["flaky"] <= 2 else Response(ics, content_type="text/calendar")

    httpserver.expect_request("/flaky.ics").respond_with_handler(flaky)
    httpserver.expect_request("/gone.ics").respond_with_data("no such page", status=404)
    httpserver.expect_request("/broken.ics").respond_with_data("<html>not a calendar</html>")
    config = tmp_path / "sources.yaml"
    config.write_text(
        "defaults: {http: {retries: 0, backoff_s: 0}}\nsources:\n"
        + "".join(f"  - {{id: {n}, kind: ical, url: '{httpserver.url_for(f'/{n}.ics')}'}}\n" for n in hits | {
            "gone": 0, "broken": 0})
    )  # fmt: skip
    module.collect.retry_delay_seconds = [0, 0]
    # What the task runs log, after the logger's own filters, whatever handlers and propagation
    # Prefect and pytest have set up (they differ with the tests run before this one).
    logged: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: logged.append(record.getMessage())  # type: ignore[method-assign]
    logging.getLogger("prefect.task_runs").addHandler(handler)
    try:
        state = module.nightly(sources=str(config), out=str(tmp_path / "out"), return_state=True)
    finally:
        logging.getLogger("prefect.task_runs").removeHandler(handler)
    report = state.result()
    by_id = {s["id"]: s for s in report["sources"]}
    assert by_id["flaky"]["status"] == "ok" and hits["flaky"] == 3  # 503 twice: retried by Prefect
    assert by_id["gone"]["status"] == "failed" and "HTTP 404" in by_id["gone"]["error"]
    assert by_id["broken"]["status"] == "failed"
    requests = [entry[0].path for entry in httpserver.log]
    assert requests.count("/gone.ics") == 1  # a 404 is tried once
    assert requests.count("/broken.ics") == 1  # so is a file that cannot be parsed
    console = capfd.readouterr()
    assert "Traceback" not in console.out + console.err
    # The flow's warnings are logged, Prefect's notice on threads' timeouts is not.
    assert any("gone failed" in message for message in logged), logged
    assert not any("running in a worker thread" in message for message in logged)


@pytest.mark.slow  # a flow run in a process of its own: seconds
def test_quiet_prints_nothing_on_a_good_run_through_the_flow(prefect_harness, tmp_path):
    import os
    import subprocess
    import sys

    from prefect.settings import PREFECT_API_URL

    config = tmp_path / "sources.yaml"
    config.write_text(f"sources:\n  - {{id: lab, kind: ical, url: '{SAMPLES / 'laboc-agenda.ics'}'}}\n")
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_LOGGING_LEVEL"}  # Prefect's default: INFO
    env["PREFECT_API_URL"] = str(PREFECT_API_URL.value())  # the session's server, not a temporary one
    command = [sys.executable, "-m", "aggregator.cli", "run", "--sources", str(config), "--out"]
    quiet = subprocess.run([*command, str(tmp_path / "q"), "-q"], env=env, capture_output=True, text=True, check=False)
    assert quiet.returncode == 0 and quiet.stdout == "" and quiet.stderr == "", quiet.stderr
    plain = subprocess.run([*command, str(tmp_path / "p")], env=env, capture_output=True, text=True, check=False)
    assert plain.returncode == 0 and "Finished in state Completed" in plain.stderr  # Prefect's lines otherwise
    assert "running in a worker thread" not in plain.stderr


def test_task_and_flow_time_limits_follow_the_settings(tmp_path):
    from aggregator.config import load_config
    from flows import nightly as module

    body = "run: {concurrency: 2}\nsources:\n" + "".join(
        f"  - {{id: s{i}, kind: ical, url: x.ics, http: {{deadline_s: {60 * (i + 1)}}}}}\n" for i in range(3)
    )
    config_path = tmp_path / "sources.yaml"
    config_path.write_text(body)
    config = load_config(config_path)
    assert [module.source_timeout(s) for s in config.sources] == [180.0, 240.0, 300.0]  # deadline + parse
    # Two waves of sources, each up to three attempts of the longest, their backoff, then building.
    expected = 2 * (3 * 300.0 + 2 + 4) + module.BUILD_ALLOWANCE_S
    assert module.flow_timeout(config) == expected
    assert module.configured(config).timeout_seconds == expected
    many = load_config(
        _write(tmp_path, "sources:\n" + "".join(f"  - {{id: s{i}, kind: ical, url: x.ics}}\n" for i in range(400)))
    )
    assert module.flow_timeout(many) == module.MAX_FLOW_TIMEOUT_S  # never into the next night


def _write(tmp_path, text):
    path = tmp_path / "many.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize("environment", [{}, {"PREFECT_FLOWS_HEARTBEAT_FREQUENCY": "60"}])
def test_the_cli_flow_program_sends_no_heartbeats_unless_asked(tmp_path, monkeypatch, environment):
    from prefect.settings import get_current_settings

    from flows import nightly as module

    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    seen = []
    before = get_current_settings().flows.heartbeat_frequency
    monkeypatch.setattr(
        module, "run_flow", lambda *a, **k: seen.append(get_current_settings().flows.heartbeat_frequency)
    )
    config = tmp_path / "sources.yaml"
    config.write_text(f"sources:\n  - {{id: one, kind: ical, url: {tmp_path / 'one.ics'}}}\n")
    assert module.main([str(config), str(tmp_path / "out"), "run-1"]) == 0
    assert seen == [60 if environment else None]
    assert get_current_settings().flows.heartbeat_frequency == before  # only for the run
