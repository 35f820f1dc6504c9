"""Benchmark: fetching 500 sources, each on its own loopback address, cold (full downloads) and warm (all 304).

Run: ``.venv/bin/python bench/fetch_bench.py`` (``--sources 500 --latency-ms 20 --concurrency 32``).

One local HTTP server answers on every address of 127.0.0.0/8 (it listens on all interfaces, so run
it on a machine without untrusted neighbours), each response 20 ms late. Source ``i`` lives at
``127.0.x.y``: a host of its own, so the per-host politeness of production applies (robots.txt
first, then the page at least ``min_interval_s`` = 1 s later). Each source is a ``json`` source of
20 events with an ETag. Measured, each in a fresh state folder:

- the pipeline's collection (``collect_all``: robots.txt, the page, parsing), cold then warm (the
  page revalidated with If-None-Match and answered 304; robots.txt reused from the cache, RFC 9309);
- a plain ``requests`` + thread-pool loop over the same page URLs, with the same number of threads
  (no robots.txt, no spacing, no cache, no parsing): cold, then warm with If-None-Match.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import tempfile
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from multiprocessing.connection import Connection
from multiprocessing.sharedctypes import Synchronized
from pathlib import Path

import requests

from aggregator.collection import collect_all
from aggregator.config import parse_config

ROBOTS = b"User-agent: *\nAllow: /\n"


def address(i: int) -> str:
    """The loopback address of source ``i`` (127.0.1.1, 127.0.1.2, ...: 250 per third byte)."""
    return f"127.0.{1 + i // 250}.{1 + i % 250}"


def page(host: str) -> bytes:
    """Twenty events, different on each host."""
    events = [
        {"uid": f"{host}-{n}", "name": f"Atelier {n} sur {host}", "start": f"2026-11-{1 + n:02d}T14:00",
         "city": "Nantes", "postalCode": "44000"}
        for n in range(20)
    ]  # fmt: skip
    return json.dumps({"events": events}).encode()


class Server(ThreadingHTTPServer):
    """Every loopback address, ``latency`` seconds per response, ETags and 304s; counts requests.

    Runs in a process of its own (``start``), so that it does not compete with the client for the GIL.
    """

    daemon_threads = True
    request_queue_size = 1024

    def __init__(self, latency: float, count: Synchronized) -> None:  # type: ignore[type-arg]
        self.latency = latency
        self.count = count
        super().__init__(("0.0.0.0", 0), Handler)


def _serve(latency: float, count: Synchronized, port: Connection) -> None:  # type: ignore[type-arg]
    server = Server(latency, count)
    port.send(server.server_address[1])
    server.serve_forever()


def start(latency: float) -> tuple[multiprocessing.Process, int, Synchronized]:  # type: ignore[type-arg]
    """The server in a child process: (process, port, request counter)."""
    count = multiprocessing.Value("l", 0)
    receive, send = multiprocessing.Pipe(duplex=False)
    process = multiprocessing.Process(target=_serve, args=(latency, count, send), daemon=True)
    process.start()
    return process, receive.recv(), count


class Handler(BaseHTTPRequestHandler):
    """robots.txt and /events.json of the host asked for, late by the server's latency."""

    protocol_version = "HTTP/1.1"  # keep-alive: robots.txt and the page share a connection

    def do_GET(self) -> None:
        """Answer one GET: 200 with an ETag, 304 when If-None-Match has it, 404 elsewhere."""
        server = self.server
        assert isinstance(server, Server)
        with server.count.get_lock():
            server.count.value += 1
        time.sleep(server.latency)
        host = self.headers.get("Host", "").split(":")[0]
        body = ROBOTS if self.path == "/robots.txt" else page(host) if self.path == "/events.json" else None
        if body is None:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        etag = f'"{zlib.crc32(body):08x}"'
        if self.headers.get("If-None-Match") == etag:
            self.send_response(304)
            self.send_header("ETag", etag)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/plain" if self.path == "/robots.txt" else "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("ETag", etag)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Silence: one line per request would drown the figures."""


def pipeline_config(urls: list[str], concurrency: int, folder: Path):  # type: ignore[no-untyped-def]
    """sources.yaml's equivalent for the benchmark: one json source per URL."""
    sources = [
        {"id": f"source-{i:03d}", "kind": "json", "url": url, "records": "events",
         "fields": {"uid": "uid", "title": "name", "start": "start", "city": "city", "postal_code": "postalCode"}}
        for i, url in enumerate(urls)
    ]  # fmt: skip
    return parse_config({"run": {"concurrency": concurrency}, "sources": sources}, folder / "sources.yaml")


def plain_loop(urls: list[str], threads: int, etags: dict[str, str] | None = None) -> dict[str, str]:
    """GET every URL with requests in a thread pool (conditional with ``etags``); returns the ETags."""

    def get(url: str) -> tuple[str, str]:
        headers = {"If-None-Match": etags[url]} if etags else {}
        resp = requests.get(url, headers=headers, timeout=30)
        assert resp.status_code == (304 if etags else 200), resp.status_code
        return url, resp.headers.get("ETag", "")

    with ThreadPoolExecutor(max_workers=threads) as pool:
        return dict(pool.map(get, urls))


def timed(count: Synchronized, label: str, body):  # type: ignore[no-untyped-def, type-arg]
    before = count.value
    started = time.perf_counter()
    result = body()
    wall = time.perf_counter() - started
    requests_made = count.value - before
    print(f"{label:<44} {wall:6.2f} s  {requests_made:5d} requests  {requests_made / wall:7.1f} requests/s")
    return wall, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sources", type=int, default=500)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--concurrency", type=int, default=32, help="sources (or plain GETs) in flight")
    args = parser.parse_args()
    server, port, count = start(args.latency_ms / 1000)
    urls = [f"http://{address(i)}:{port}/events.json" for i in range(args.sources)]
    print(
        f"{args.sources} sources on 127.0.x.y:{port}, {args.latency_ms:.0f} ms per response, {args.concurrency} at a time"
    )
    with tempfile.TemporaryDirectory() as tmp:
        config = pipeline_config(urls, args.concurrency, Path(tmp))
        cold, results = timed(
            count, "pipeline, cold (robots.txt + page, parsed)", lambda: collect_all(config, Path(tmp))
        )
        failed = [r for r in results if r.status != "ok" or len(r.records) != 20]
        assert not failed, failed[:3]
        warm, results = timed(
            count, "pipeline, warm (page 304, robots.txt cached)", lambda: collect_all(config, Path(tmp))
        )
        assert all(r.status == "ok" and r.cache_hits == 1 and len(r.records) == 20 for r in results)
    plain_cold, etags = timed(count, "plain requests + thread pool, cold", lambda: plain_loop(urls, args.concurrency))
    plain_warm, _ = timed(
        count, "plain requests + thread pool, warm (304)", lambda: plain_loop(urls, args.concurrency, etags)
    )
    print(f"ratio pipeline / plain loop: cold {cold / plain_cold:.1f}x, warm {warm / plain_warm:.1f}x")
    server.terminate()


if __name__ == "__main__":
    main()
