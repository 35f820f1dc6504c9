"""Hostile input: XML bombs and XXE, compression bombs, SSRF redirects, fuzzed parsers, paths, secrets."""

from __future__ import annotations

import gzip
import json
import os
import sqlite3
import subprocess
import sys
import zlib
from pathlib import Path

import pandas as pd
import pytest
from conftest import FIXTURES, ROOT, write_config
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug import Response

from aggregator import http as http_module
from aggregator.collection import collect_or_fail
from aggregator.config import ConfigError, load_config, parse_config
from aggregator.http import Fetched, FetchError, HttpClient
from aggregator.pipeline import run
from aggregator.settings import HttpSettings
from aggregator.sources import KINDS, get_adapter
from aggregator.sources.base import ParseError
from aggregator.state import state_dir

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<rss version="2.0"><channel><title>t</title><item><title>&lol9;</title><link>https://x.fr/1</link></item></channel></rss>
"""


def _xxe(path: Path) -> bytes:
    return f"""<?xml version="1.0"?>
<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file://{path}">]>
<rss version="2.0"><channel><title>t</title>
<item><title>&xxe;</title><link>https://x.fr/1</link><description>Atelier le 12 novembre 2026</description></item>
</channel></rss>""".encode()


def _feed_source():
    config = parse_config(
        {"sources": [{"id": "f", "kind": "feed", "url": "https://x.example.org/feed"}]}, Path("s.yaml")
    )
    return config.sources[0]


# --- XML -------------------------------------------------------------------------------------


def test_billion_laughs_feed_is_refused():
    page = Fetched(url="https://x.example.org/feed", content=BILLION_LAUGHS)
    with pytest.raises(ParseError, match="declares entities"):
        get_adapter("feed").parse(page, _feed_source())


def test_xxe_feed_is_refused_and_reads_no_local_file(tmp_path, httpserver):
    secret_file = tmp_path / "secret.txt"
    secret_file.write_text("TOP-SECRET-CONTENT")
    httpserver.expect_request("/feed").respond_with_data(_xxe(secret_file), content_type="application/rss+xml")
    path = write_config(tmp_path, f"sources:\n  - {{id: f, kind: feed, url: '{httpserver.url_for('/feed')}'}}\n")
    config = load_config(path)
    result = collect_or_fail(config.sources[0], path)
    assert result.status == "failed" and "declares entities" in (result.error or "")
    report = run(config, tmp_path / "out")
    assert report.status == "failed"
    everything = "".join(p.read_text(errors="ignore") for p in (tmp_path / "out").rglob("*") if p.is_file())
    assert "TOP-SECRET-CONTENT" not in everything


def test_an_external_dtd_is_never_fetched(httpserver):
    # Old RSS 0.91 feeds legitimately reference Netscape's DTD: it is allowed, and never loaded.
    httpserver.expect_request("/x.dtd").respond_with_data('<!ENTITY title "INJECTED-FROM-DTD">')
    page = Fetched(
        url="https://x.example.org/feed",
        content=f'<?xml version="1.0"?><!DOCTYPE rss SYSTEM "{httpserver.url_for("/x.dtd")}"><rss version="2.0">'
        "<channel><item><title>Atelier &amp; débat</title><link>https://x.fr/1</link>"
        "<description>le 12 novembre 2026</description></item></channel></rss>".encode(),
    )
    records = get_adapter("feed").parse(page, _feed_source())
    assert [r["title"] for r in records] == ["Atelier & débat"]
    assert not any(r[0].path == "/x.dtd" for r in httpserver.log)


# --- compression bombs -----------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
def test_compressed_bodies_are_bounded_after_decompression(httpserver, encoding):
    plain = b"\0" * 20_000_000
    body = gzip.compress(plain) if encoding == "gzip" else zlib.compress(plain)
    assert len(body) < 100_000  # a small download that would inflate to 20 MB
    httpserver.expect_request("/bomb").respond_with_response(
        Response(body, headers={"Content-Encoding": encoding, "Content-Type": "text/html"})
    )
    client = HttpClient(HttpSettings(max_bytes=1_000_000, retries=0))
    with pytest.raises(FetchError, match="exceeds the limit of 1000000 bytes"):
        client.get(httpserver.url_for("/bomb"))


def test_small_compressed_body_is_read_whole(httpserver):
    httpserver.expect_request("/ok").respond_with_response(
        Response(gzip.compress(b"bonjour " * 1000), headers={"Content-Encoding": "gzip"})
    )
    assert HttpClient(HttpSettings(retries=0)).get(httpserver.url_for("/ok")).content == b"bonjour " * 1000


# --- redirects (SSRF) ------------------------------------------------------------------------


@pytest.fixture
def localhost_is_public(monkeypatch):
    """Pretend the test server's name, ``localhost``, is a public site; 127.0.0.1 stays loopback."""
    real = http_module.is_private_host
    monkeypatch.setattr(http_module, "is_private_host", lambda host: False if host == "localhost" else real(host))


def test_redirect_from_a_public_source_to_loopback_is_refused(httpserver, localhost_is_public):
    internal = httpserver.url_for("/internal").replace("localhost", "127.0.0.1")
    httpserver.expect_request("/start").respond_with_response(Response(status=302, headers={"Location": internal}))
    httpserver.expect_request("/internal").respond_with_data("internal admin page")
    with pytest.raises(FetchError, match=r"private or loopback address 127\.0\.0\.1 refused"):
        HttpClient(HttpSettings(retries=0)).get(httpserver.url_for("/start"))
    assert not any(r[0].path == "/internal" for r in httpserver.log)
    # Declared local, the same source may follow it.
    page = HttpClient(HttpSettings(retries=0, allow_private=True)).get(httpserver.url_for("/start"))
    assert page.content == b"internal admin page"


@pytest.mark.parametrize("target", ["file:///etc/passwd", "ftp://x.example.org/a", "gopher://127.0.0.1:25/"])
def test_redirect_to_another_scheme_is_refused(httpserver, target):
    httpserver.expect_request("/start").respond_with_response(Response(status=302, headers={"Location": target}))
    with pytest.raises(FetchError, match=r"redirect to .* URL refused"):
        HttpClient(HttpSettings(retries=0)).get(httpserver.url_for("/start"))


@pytest.mark.parametrize(
    ("host", "private"),
    [("127.0.0.1", True), ("10.1.2.3", True), ("192.168.0.1", True), ("169.254.169.254", True), ("::1", True),
     ("localhost", True), ("0.0.0.0", True), ("8.8.8.8", False), ("2001:4860:4860::8888", False),
     ("no-such-host.invalid", False)],
)  # fmt: skip
def test_private_addresses(host, private):
    assert http_module.is_private_host(host) is private


# --- fuzzed parsers --------------------------------------------------------------------------


def _sample_sources():
    """One configured source per kind, from the bundled sources.yaml (kinds it lacks are added)."""
    config = load_config(ROOT / "sources.yaml")
    by_kind = {s.kind: s for s in config.sources}
    assert set(by_kind) == set(KINDS), "every kind has a bundled sample source"
    return by_kind


SOURCES = _sample_sources()


@pytest.mark.parametrize("kind", sorted(KINDS))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(content=st.one_of(
    st.binary(max_size=2000),
    st.text(max_size=500).map(lambda t: t.encode("utf-8")),
    st.sampled_from([b"", b"{}", b"[]", b"null", b'{"events": [1, "x", null]}', b"<html></html>",
                     b"BEGIN:VCALENDAR\r\nEND:VCALENDAR", b'{"results": {"a": 1}}', b"\xff\xfe\x00",
                     b"<rss><channel><item></item></channel></rss>", b"a;b;c\n1;2", b'{"@graph": {}}']),
))  # fmt: skip
def test_every_parser_gives_records_or_a_clean_error(kind, content):
    source = SOURCES[kind]
    adapter = get_adapter(kind)
    page = Fetched(url="https://x.example.org/page", content=content, content_type=None)
    try:
        parse_all = getattr(adapter, "parse_all", None)
        records = parse_all([page], source) if parse_all else adapter.parse(page, source)
    except ParseError:
        return
    assert isinstance(records, list)
    assert all(isinstance(r, dict) for r in records)


# --- paths -----------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["../etc", "a/b", "..", "/abs", "a\\b", "UPPER", "x" * 80, "", "a..b/../c"])
def test_source_ids_that_could_escape_the_output_folder_are_refused(bad):
    with pytest.raises(ConfigError, match=r"\.id"):
        parse_config({"sources": [{"id": bad, "kind": "ical", "url": "https://x.example.org/c.ics"}]}, Path("s.yaml"))


@given(st.from_regex(r"[a-z0-9](?:[a-z0-9_-]{0,62}[a-z0-9])?", fullmatch=True))
def test_paths_derived_from_valid_ids_stay_inside_the_output_folder(source_id):
    out = Path("/srv/out")
    for path in (state_dir(out) / source_id / "openagenda.json", state_dir(out) / source_id / "http-cache.sqlite"):
        assert path.resolve().is_relative_to(out)


# --- secrets ---------------------------------------------------------------------------------


def _strings_in(path: Path) -> str:
    """Every value a file holds, as text: Parquet decoded (it is compressed), SQLite rows, raw bytes."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:  # a SQLite -shm/-wal file its database just checkpointed away
        return ""
    parts = [raw.decode("latin-1")]
    if path.suffix == ".parquet":
        parts.append(pd.read_parquet(path).astype(str).to_csv())
    if path.suffix in (".sqlite", ".db"):
        with sqlite3.connect(path) as db:
            for (table,) in db.execute("select name from sqlite_master where type='table'"):
                parts.extend(repr(row) for row in db.execute(f"select * from {table}"))
    return "\n".join(parts)


@pytest.mark.slow
def test_planted_keys_never_reach_outputs_logs_cache_or_errors(httpserver, tmp_path):
    key, token = "oa-KEY-0123456789", "ods-TOKEN-9876543210"
    oa_page = (FIXTURES / "openagenda" / "events-page2.json").read_bytes()
    httpserver.expect_request("/v2/agendas/12345/events").respond_with_data(
        oa_page, content_type="application/json", headers={"ETag": '"oa1"'}
    )
    httpserver.expect_request("/broken.ics").respond_with_data("nope", status=500)
    body = f"""
sources:
  - id: oa
    kind: openagenda
    url: "{httpserver.url_for("/")}"
    agenda: "12345"
    key: "${{OA_KEY}}"
  - id: cal
    kind: ical
    url: "{httpserver.url_for("/broken.ics")}?token=${{CAL_TOKEN}}"
    http: {{retries: 0, headers: {{X-Api-Token: "${{CAL_TOKEN}}"}}}}
"""
    path = write_config(tmp_path, body)
    env = {"OA_KEY": key, "CAL_TOKEN": token}
    out = tmp_path / "out"
    outputs = []
    for _ in range(2):  # the second run goes through the HTTP cache
        proc = subprocess.run(
            [sys.executable, "-m", "aggregator.cli", "run", "--sources", str(path), "--out", str(out),
             "--engine", "local"],
            capture_output=True, text=True, check=False, env={**os.environ, **env, "COLUMNS": "200"},
        )  # fmt: skip
        assert proc.returncode == 3, proc.stderr  # published; the calendar failed
        outputs.append(proc.stdout + proc.stderr)
    requests_seen = [r[0] for r in httpserver.log if r[0].path.startswith("/v2/")]
    assert requests_seen and all(r.headers.get("key") == key for r in requests_seen)  # the key was really sent
    assert (out / ".state" / "sources" / "oa" / "http-cache.sqlite").exists()
    report = json.loads((out / "run.json").read_text())
    assert "token=***" in json.dumps(report)  # the failing URL is reported, masked
    files = [p for p in out.rglob("*") if p.is_file()]
    for secret in (key, token):
        assert not any(secret in text for text in outputs)
        for file in files:
            assert secret not in _strings_in(file), file


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["local", pytest.param("prefect", marks=pytest.mark.prefect)])
def test_keys_planted_in_a_url_query_a_path_a_header_and_an_error_leave_no_byte_anywhere(httpserver, tmp_path, engine):
    keys = {"Q_KEY": "query-KEY-5551234567", "P_KEY": "path-KEY-5559876543", "H_KEY": "head-KEY-5550001111"}
    ics = (FIXTURES / "ical" / "lab-calendar.ics").read_bytes()
    httpserver.expect_request("/query.ics").respond_with_data(ics, content_type="text/calendar")
    httpserver.expect_request(f"/p/{keys['P_KEY']}/path.ics").respond_with_data(ics, content_type="text/calendar")
    # Transient (retried by Prefect): the exception, with the URL and its key, travels through the
    # orchestrator's state messages and logs.
    httpserver.expect_request("/down.ics").respond_with_data("down", status=503)
    body = f"""
defaults: {{http: {{retries: 0, backoff_s: 0}}}}
sources:
  - {{id: query, kind: ical, url: "{httpserver.url_for("/query.ics")}?key=${{Q_KEY}}"}}
  - {{id: path, kind: ical, url: "{httpserver.url_for("/p/${P_KEY}/path.ics")}", priority: 60}}
  - id: down
    kind: ical
    url: "{httpserver.url_for("/down.ics")}?key=${{Q_KEY}}&p=${{P_KEY}}"
    http: {{headers: {{Authorization: "Bearer ${{H_KEY}}"}}}}
"""
    path = write_config(tmp_path, body)
    home = tmp_path / "prefect-home"
    env = {
        **os.environ,
        **keys,
        "PREFECT_HOME": str(home),
        "PREFECT_LOGGING_LEVEL": "DEBUG",
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180",
    }  # a fresh home is migrated first
    out = tmp_path / "out"
    printed = ""
    for _ in range(2):  # the second run goes through the HTTP cache and the last good data
        proc = subprocess.run(
            [sys.executable, "-m", "aggregator.cli", "run", "-v", "--sources", str(path), "--out", str(out),
             "--engine", engine],
            capture_output=True, text=True, check=False, env=env, timeout=600, cwd=tmp_path,
        )  # fmt: skip
        assert proc.returncode == 3, proc.stdout + proc.stderr  # published; one source down
        printed += proc.stdout + proc.stderr
    seen = [entry[0] for entry in httpserver.log]
    assert any(r.args.get("key") == keys["Q_KEY"] for r in seen)  # the keys were really sent
    assert any(r.headers.get("Authorization") == f"Bearer {keys['H_KEY']}" for r in seen)
    listings = pd.read_parquet(out / "listings.parquet")
    assert set(listings["source_id"]) == {"query", "path"}
    assert listings["page_url"].str.contains("key=***", regex=False).any()  # masked, not dropped
    report = json.loads((out / "run.json").read_text())
    assert "key=***" in next(s for s in report["sources"] if s["id"] == "down")["error"]
    files = [p for p in [*out.rglob("*"), *home.rglob("*")] if p.is_file()]
    if engine == "prefect":  # the Prefect database was written here, masked error messages and all
        assert any("key=***" in _strings_in(p) for p in files if p.suffix == ".db")
    for name, secret in keys.items():
        assert secret not in printed, name
        for file in files:
            assert secret not in _strings_in(file), (name, file)


def test_a_key_written_into_the_url_itself_is_masked_like_an_environment_one(tmp_path):
    from aggregator.config import load_config
    from aggregator.pipeline import run

    literal = "pasted-KEY-7778889990"
    calendar = FIXTURES / "ical" / "lab-calendar.ics"
    path = write_config(
        tmp_path, f"sources:\n  - {{id: lab, kind: ical, url: '{calendar.as_uri()}?api_key={literal}'}}\n"
    )
    config = load_config(path)
    assert config.secrets.contains(literal)
    out = tmp_path / "out"
    report = run(config, out)
    assert literal not in json.dumps(report.to_dict(config.secrets))
    for file in (p for p in out.rglob("*") if p.is_file()):
        assert literal not in _strings_in(file), file
