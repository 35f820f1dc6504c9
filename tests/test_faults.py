"""Fault injection against a local HTTP server: each failure gets its expected, asserted outcome."""

from __future__ import annotations

import itertools
import json
import socket
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
import urllib3.util.retry
from conftest import FIXTURES, page_requests, write_config
from werkzeug import Response

from aggregator.collection import collect_source
from aggregator.config import load_config
from aggregator.http import FetchError, HttpClient
from aggregator.pipeline import run
from aggregator.settings import HttpSettings
from aggregator.state import health_path
from aggregator.throttle import HostLimiter

ICS = (FIXTURES / "ical" / "lab-calendar.ics").read_bytes()  # five events


def _client(**kwargs) -> HttpClient:
    return HttpClient(HttpSettings(backoff_s=0, **kwargs))


# --- the HTTP layer --------------------------------------------------------------------------


def test_timeout_is_a_clear_error(httpserver):
    release = threading.Event()

    def slow(_request):
        release.wait(10)
        return Response("late")

    httpserver.expect_request("/slow").respond_with_handler(slow)
    with pytest.raises(FetchError, match=r"timed out after 0.5 s"):
        _client(timeout_s=0.5, retries=0).get(httpserver.url_for("/slow"))
    release.set()  # let the handler finish inside this test, so its log line does not leak into the next
    deadline = time.monotonic() + 5
    while not any(r[0].path == "/slow" for r in httpserver.log) and time.monotonic() < deadline:
        time.sleep(0.05)


def test_connection_refused_is_a_clear_error():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, never listening: connections are refused
        with pytest.raises(FetchError, match="connection failed"):
            _client(retries=1).get(f"http://127.0.0.1:{port}/x")


def test_500_then_200_is_retried(httpserver):
    answers = iter([Response("down", status=500), Response("up")])
    httpserver.expect_request("/flaky").respond_with_handler(lambda _r: next(answers))
    assert _client(retries=2).get(httpserver.url_for("/flaky")).content == b"up"
    assert len(page_requests(httpserver)) == 2


def test_429_waits_as_long_as_retry_after_says(httpserver, monkeypatch):
    slept: list[float] = []
    # urllib3 does the waiting between retries: record what it asks for instead of waiting it.
    monkeypatch.setattr(urllib3.util.retry.time, "sleep", slept.append)
    answers = iter([Response("slow down", status=429, headers={"Retry-After": "120"}), Response("ok")])
    httpserver.expect_request("/limited").respond_with_handler(lambda _r: next(answers))
    assert _client(retries=2).get(httpserver.url_for("/limited")).content == b"ok"
    assert len(page_requests(httpserver)) == 2
    assert slept == [120]  # backoff_s=0: only Retry-After set the wait


def test_unchanged_page_costs_a_304_on_the_second_run(httpserver, tmp_path):
    conditional: list[str | None] = []

    def etagged(request):
        conditional.append(request.headers.get("If-None-Match"))
        if request.headers.get("If-None-Match") == '"v1"':
            return Response(status=304, headers={"ETag": '"v1"'})
        return Response(ICS, content_type="text/calendar", headers={"ETag": '"v1"'})

    httpserver.expect_request("/lab.ics").respond_with_handler(etagged)
    path = write_config(tmp_path, f"sources:\n  - {{id: lab, kind: ical, url: '{httpserver.url_for('/lab.ics')}'}}\n")
    source = load_config(path).sources[0]
    first = collect_source(source, path, tmp_path / "state")
    second = collect_source(source, path, tmp_path / "state")
    assert conditional == [None, '"v1"']  # the second request was conditional...
    assert (first.cache_hits, second.cache_hits) == (0, 1)  # ...answered 304, served from the cache
    assert len(second.records) == len(first.records) > 0
    assert second.records["title"].tolist() == first.records["title"].tolist()


def _shift_cache_clock(monkeypatch, delta: timedelta) -> None:
    """Move the HTTP cache's clock ``delta`` ahead, instead of waiting that long."""
    import requests_cache.models.response
    import requests_cache.policy.actions
    import requests_cache.policy.expiration

    for module in (requests_cache.models.response, requests_cache.policy.actions, requests_cache.policy.expiration):
        monkeypatch.setattr(module, "utcnow", lambda: datetime.now(UTC) + delta)


def test_robots_txt_is_reused_for_24_hours_without_a_request(httpserver, tmp_path, monkeypatch):
    httpserver.expect_request("/lab.ics").respond_with_data(ICS, content_type="text/calendar")
    path = write_config(tmp_path, f"sources:\n  - {{id: lab, kind: ical, url: '{httpserver.url_for('/lab.ics')}'}}\n")
    source = load_config(path).sources[0]

    def robots_reads() -> int:
        return sum(entry[0].path == "/robots.txt" for entry in httpserver.log)

    first = collect_source(source, path, tmp_path / "state")
    second = collect_source(source, path, tmp_path / "state")
    assert robots_reads() == 1  # the second run read its verdict from the cache: no request, no spacing
    assert (first.requests, second.requests) == (2, 1) and len(second.records) == len(first.records) > 0
    _shift_cache_clock(monkeypatch, timedelta(hours=23, minutes=59))
    collect_source(source, path, tmp_path / "state")
    assert robots_reads() == 1  # a day not yet over: still the cached copy
    _shift_cache_clock(monkeypatch, timedelta(hours=24, minutes=1))
    collect_source(source, path, tmp_path / "state")
    assert robots_reads() == 2  # a day later the copy has expired: read again


def _raw_server(payload: bytes) -> tuple[str, threading.Thread]:
    """A one-shot server that answers any request with ``payload`` and closes the connection."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)

    def serve() -> None:
        conn, _ = listener.accept()
        conn.recv(65536)
        conn.sendall(payload)
        conn.close()
        listener.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return f"http://127.0.0.1:{listener.getsockname()[1]}/page", thread


def test_truncated_body_is_an_error_not_half_a_page():
    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 1000\r\nConnection: close\r\n\r\n"
    url, thread = _raw_server(head + b"<html><body>only the beginning")
    with pytest.raises(FetchError, match="cut short"):
        _client(retries=0, respect_robots=False).get(url)
    thread.join(timeout=5)


def test_response_over_the_size_limit_is_aborted(httpserver):
    sent: list[int] = []

    def endless():
        for _ in range(1000):
            sent.append(1)
            yield b"x" * 10_000

    httpserver.expect_request("/huge").respond_with_response(Response(endless(), content_type="text/plain"))
    with pytest.raises(FetchError, match="exceeds the limit of 50000 bytes"):
        _client(max_bytes=50_000).get(httpserver.url_for("/huge"))


def test_wrong_charset_header_still_reads_the_accents(httpserver, tmp_path):
    page = """<html><head><title>Agenda</title><script type="application/ld+json">
    {"@context": "https://schema.org", "@type": "Event", "name": "Atelier « Données ouvertes » à Évry-Courcouronnes",
     "startDate": "2026-11-20T10:00:00+01:00", "location": {"@type": "Place", "name": "Médiathèque",
     "address": {"@type": "PostalAddress", "postalCode": "91000", "addressLocality": "Évry-Courcouronnes"}}}
    </script></head><body></body></html>"""
    # The server says Latin-1 but sends UTF-8, a misconfiguration seen on real sites.
    httpserver.expect_request("/event.html").respond_with_data(
        page.encode("utf-8"), content_type="text/html; charset=iso-8859-1"
    )
    path = write_config(
        tmp_path, f"sources:\n  - {{id: p, kind: jsonld, url: '{httpserver.url_for('/event.html')}'}}\n"
    )
    result = collect_source(load_config(path).sources[0], path)
    assert result.records["title"].tolist() == ["Atelier « Données ouvertes » à Évry-Courcouronnes"]
    assert result.records["city"].tolist() == ["Évry-Courcouronnes"]


def test_robots_disallow_is_obeyed_and_the_override_is_logged(httpserver, tmp_path):
    httpserver.clear()  # replace the fixture's allow-all robots.txt
    httpserver.expect_request("/robots.txt").respond_with_data("User-agent: *\nDisallow: /private/\n")
    httpserver.expect_request("/private/lab.ics").respond_with_data(ICS, content_type="text/calendar")
    url = httpserver.url_for("/private/lab.ics")
    with pytest.raises(FetchError, match=r"disallowed by robots\.txt"):
        _client().get(url)
    assert not any(r[0].path == "/private/lab.ics" for r in httpserver.log)  # never requested

    path = write_config(
        tmp_path, f"sources:\n  - {{id: lab, kind: ical, url: '{url}', http: {{respect_robots: false}}}}\n"
    )
    report = run(load_config(path), tmp_path / "out")
    assert report.status == "success" and report.counts["listings"] == 5
    assert any("robots.txt not consulted" in w and "lab" in w for w in report.warnings)


def test_robots_server_error_means_disallow(httpserver):
    httpserver.clear()
    httpserver.expect_request("/robots.txt").respond_with_data("down", status=503)
    with pytest.raises(FetchError, match=r"robots\.txt answered HTTP 503"):
        _client(retries=0).get(httpserver.url_for("/page"))


def test_redirect_loop_gives_up(httpserver):
    httpserver.expect_request("/a").respond_with_response(Response(status=302, headers={"Location": "/b"}))
    httpserver.expect_request("/b").respond_with_response(Response(status=302, headers={"Location": "/a"}))
    with pytest.raises(FetchError, match="more than 5 redirects"):
        _client().get(httpserver.url_for("/a"))


class FakeClock:
    """Monotonic time that only moves when someone sleeps or the test says so."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_requests_to_one_host_are_spaced_without_waiting_on_the_wall_clock():
    clock = FakeClock()
    limiter = HostLimiter(clock=clock, sleep=clock.sleep)
    starts = []
    for _ in range(4):
        with limiter.slot("example.org", interval=0.2):
            starts.append(clock())
            clock.now += 0.05  # the request itself takes 50 ms
    assert [round(b - a, 6) for a, b in itertools.pairwise(starts)] == [0.2, 0.2, 0.2]
    assert [round(s, 6) for s in clock.slept] == [0.15, 0.15, 0.15]  # only what the request had not used
    with limiter.slot("other.example", interval=0.2) as waited:
        assert waited == 0  # hosts have their own budgets
    clock.now += 5
    with limiter.slot("example.org", interval=0.2) as waited:
        assert waited == 0 and len(clock.slept) == 3  # long past the spacing: no wait


def test_requests_in_flight_to_one_host_are_bounded():
    limiter = HostLimiter()
    in_flight: list[int] = []
    peak: list[int] = []
    changed = threading.Condition()
    release = threading.Event()

    def request() -> None:
        with limiter.slot("example.org", interval=0, concurrency=2):
            with changed:
                in_flight.append(1)
                peak.append(len(in_flight))
                changed.notify_all()
            release.wait(10)
            with changed:
                in_flight.pop()

    threads = [threading.Thread(target=request) for _ in range(4)]
    for t in threads:
        t.start()
    with changed:
        assert changed.wait_for(lambda: len(in_flight) == 2, timeout=10)
        # The other two are queued: give them a chance to (wrongly) get in before releasing.
        assert not changed.wait_for(lambda: len(in_flight) > 2, timeout=0.3)
    release.set()
    for t in threads:
        t.join()
    assert len(peak) == 4 and max(peak) == 2  # never more than host_concurrency in flight


# --- failure isolation and source health ----------------------------------------------------


def _two_sources(tmp_path, url: str):
    body = f"""
sources:
  - id: local
    kind: ical
    url: {FIXTURES / "ical" / "recurring.ics"}
  - id: lab
    kind: ical
    url: '{url}'
    http: {{retries: 0}}
"""
    return load_config(write_config(tmp_path, body))


def _lab_listings(out):
    listings = pd.read_parquet(out / "listings.parquet")
    return listings[listings["source_id"] == "lab"]


def test_failing_source_keeps_its_last_good_data_flagged_stale(httpserver, tmp_path):
    state = {"mode": "ok"}

    def lab(_request):
        return Response(ICS, content_type="text/calendar") if state["mode"] == "ok" else Response("x", status=500)

    httpserver.expect_request("/lab.ics").respond_with_handler(lab)
    config, out = _two_sources(tmp_path, httpserver.url_for("/lab.ics")), tmp_path / "out"

    first = run(config, out)
    assert first.status == "success"
    assert len(_lab_listings(out)) == 5 and _lab_listings(out)["stale_since"].isna().all()
    events_before = len(pd.read_parquet(out / "events.parquet"))

    state["mode"] = "down"
    second = run(config, out)
    assert second.status == "partial"
    entry = next(s for s in second.to_dict(config.secrets)["sources"] if s["id"] == "lab")
    assert entry["status"] == "failed" and entry["stale_listings"] == 5
    kept = _lab_listings(out)
    assert len(kept) == 5 and kept["stale_since"].notna().all()
    assert len(pd.read_parquet(out / "events.parquet")) == events_before  # its events did not vanish
    assert any("source lab failed" in w and "last good data (5 listings)" in w for w in second.warnings)
    stale_since = kept["stale_since"].iloc[0]
    assert stale_since == second.started_at

    third = run(config, out)  # still down: still stale since the first failing run
    assert third.status == "partial"
    assert (_lab_listings(out)["stale_since"] == stale_since).all()

    state["mode"] = "ok"
    fourth = run(config, out)
    assert fourth.status == "success"
    assert _lab_listings(out)["stale_since"].isna().all()
    history = pd.read_parquet(health_path(out))
    lab_rows = history[history["source_id"] == "lab"].sort_values("run_at")
    assert lab_rows["status"].tolist() == ["ok", "failed", "failed", "ok"]
    assert lab_rows["stale_since"].isna().tolist() == [True, False, False, True]
    assert lab_rows["http_status"].tolist() == [200, 500, 500, 200]


def test_page_suddenly_without_items_raises_the_alarm_and_keeps_last_good_data(httpserver, tmp_path):
    empty = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//lab//x//FR\r\nEND:VCALENDAR\r\n"
    pages = {"body": ICS}
    httpserver.expect_request("/lab.ics").respond_with_handler(
        lambda _r: Response(pages["body"], content_type="text/calendar")
    )
    config, out = _two_sources(tmp_path, httpserver.url_for("/lab.ics")), tmp_path / "out"
    assert run(config, out).status == "success"

    pages["body"] = empty  # the layout changed: HTTP 200, no error, zero items
    proc = subprocess.run(
        [sys.executable, "-m", "aggregator.cli", "run", "--sources", str(config.path), "--out", str(out),
         "--engine", "local"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert proc.returncode == 3, proc.stderr  # published, with warnings
    assert "source lab looks broken: returned zero items" in proc.stderr
    report = json.loads((out / "run.json").read_text())
    assert report["status"] == "partial"
    entry = next(s for s in report["sources"] if s["id"] == "lab")
    assert entry["status"] == "broken" and entry["alarm"] == "returned zero items"
    assert entry["stale_listings"] == 5
    assert len(_lab_listings(out)) == 5  # never silently zero
    history = pd.read_parquet(health_path(out))
    last = history[history["source_id"] == "lab"].sort_values("run_at").iloc[-1]
    assert last["status"] == "broken" and last["items_fetched"] == 0 and last["items_published"] == 5


def test_killed_while_publishing_leaves_readable_outputs(tmp_path):
    path = write_config(
        tmp_path, f"sources:\n  - {{id: lab, kind: ical, url: {FIXTURES / 'ical' / 'lab-calendar.ics'}}}\n"
    )
    out = tmp_path / "out"
    first = run(load_config(path), out)
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*.parquet")}
    # A second run dies (no clean-up, like a kill -9) in the middle of writing one of its tables.
    script = f"""
import os
from pathlib import Path
import aggregator.publish as publish
import aggregator.pipeline as pipeline
from aggregator.config import load_config
real = publish.pq.write_table
calls = []
def dying(table, path, *args, **kwargs):
    calls.append(path)
    if len(calls) == 2:
        with open(path, "wb") as half:
            half.write(b"PAR1 half a file")
        os._exit(9)
    return real(table, path, *args, **kwargs)
publish.pq.write_table = dying
pipeline.run(load_config({str(path)!r}), Path({str(out)!r}))
"""
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False)
    assert proc.returncode == 9, proc.stderr
    for relative in before:
        frame = pd.read_parquet(out / relative)  # every output still reads as a whole table
        assert frame is not None
    assert json.loads((out / "run.json").read_text())["run_id"] == first.run_id  # the last finished run's
    # The half-written file is only ever a hidden temporary file, which the next run removes.
    halves = [p for p in out.rglob("*") if p.is_file() and p.read_bytes().startswith(b"PAR1 half")]
    assert halves and all(p.name.startswith(".") and p.name.endswith(".tmp") for p in halves)
    assert run(load_config(path), out).status == "success"
    assert not [p for p in out.rglob("*.tmp")]
