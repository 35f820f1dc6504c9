"""Shared test helpers: fixture paths, a local HTTP server serving recorded pages, the shared data."""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SHARED = ROOT.parent / "shared"


def realworld_dir() -> Path:
    """Where the real-world corpus is looked for: $AGGREGATOR_REALWORLD, else ../shared/data/realworld."""
    return Path(os.environ.get("AGGREGATOR_REALWORLD") or SHARED / "data" / "realworld")


def raw_frame(rows: list[dict], kind: str = "ical", fetched_at: str = "2026-11-25T02:00:00Z") -> Any:
    """Raw records as an adapter of ``kind`` gives them to normalisation, with their JSON in ``raw``."""
    import json

    import pandas as pd

    frame = pd.DataFrame(rows)
    frame["source_kind"] = kind
    frame["fetched_at"] = pd.Timestamp(fetched_at)
    frame["raw"] = [json.dumps(r, ensure_ascii=False) for r in rows]
    return frame


def fixture_bytes(kind: str, name: str) -> bytes:
    """Bytes of a recorded page under tests/fixtures/<kind>/."""
    return (FIXTURES / kind / name).read_bytes()


@pytest.fixture
def shared_dir() -> Path:
    """../shared, or a skip with the reason when this checkout has no copy beside it."""
    if not (SHARED / "data").is_dir():
        pytest.skip("../shared is absent: tests on the shared reference data are skipped")
    return SHARED


def write_config(tmp_path: Path, text: str) -> Path:
    """Write a sources.yaml in ``tmp_path`` and return its path."""
    path = tmp_path / "sources.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def prefect_harness():
    """One temporary Prefect server for the whole session (each start costs seconds)."""
    import random

    import websockets.asyncio.connection
    from prefect.testing.utilities import prefect_test_harness

    # Prefect's events client keeps a websocket to this server open for the rest of the session, and its
    # keepalive pings (every 20 s, on Prefect's own thread) draw from the global random module. A ping
    # landing while Hypothesis generates an example changes that state under it: a HypothesisDeprecationWarning
    # ("do not use the random module inside strategies") in whichever property test runs then. The
    # pings get a generator of their own; the global one is left to Hypothesis.
    patch = pytest.MonkeyPatch()
    patch.setattr(websockets.asyncio.connection, "random", random.Random())
    try:
        with prefect_test_harness(server_startup_timeout=90):
            yield
    finally:
        patch.undo()


ROBOTS_ALLOW_ALL = "User-agent: *\nAllow: /\n"


@pytest.fixture
def httpserver(httpserver):
    """pytest-httpserver's server, publishing a robots.txt that allows everything.

    Every client reads robots.txt first; without this, the server's "no handler" 500 would mean
    "disallow everything" (RFC 9309). Tests of robots.txt itself register their own rules first.
    """
    httpserver.expect_request("/robots.txt").respond_with_data(ROBOTS_ALLOW_ALL, content_type="text/plain")
    return httpserver


@pytest.fixture(autouse=True)
def _no_request_spacing(monkeypatch):
    """Requests are not spaced in tests: the one-second default would cost minutes.

    The spacing itself is tested with its own ``HostLimiter``.
    """
    from aggregator import http
    from aggregator.throttle import HostLimiter

    class NoSpacing(HostLimiter):
        def slot(self, host, interval, concurrency=1):  # type: ignore[override]
            return super().slot(host, 0.0, concurrency)

    monkeypatch.setattr(http, "LIMITER", NoSpacing())


def page_requests(server) -> list:
    """The requests a test server received, robots.txt left out."""
    return [entry for entry in server.log if entry[0].path != "/robots.txt"]


# --- classification of one value, for tests (the library classifies whole columns) ------------


def _classify_one(name: str, structured: str | None, text: str) -> str:
    import pandas as pd

    from aggregator.normalise import classify
    from aggregator.normalise.text import fold_column

    by_column = getattr(classify, name)
    folded = fold_column(pd.Series([text], dtype=object))
    return str(by_column(pd.Series([structured], dtype=object), folded).iloc[0])


def attendance_mode(structured: str | None, text: str) -> str:
    """``classify.attendance_modes`` for one value."""
    return _classify_one("attendance_modes", structured, text)


def event_type(structured: str | None, text: str) -> str:
    """``classify.event_types`` for one value."""
    return _classify_one("event_types", structured, text)


def status(structured: str | None, title: str) -> str:
    """``classify.statuses`` for one value."""
    return _classify_one("statuses", structured, title)


@contextmanager
def raw_server(answer: Callable[[socket.socket], None]) -> Iterator[str]:
    """A TCP server on 127.0.0.1 answering every request but robots.txt with ``answer``; yields its base URL.

    For what an HTTP server library will not do: drip headers, or never answer at all.
    """
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    stop = threading.Event()

    def serve() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            threading.Thread(target=_handle, args=(conn,), daemon=True).start()

    def _handle(conn: socket.socket) -> None:
        with conn:
            try:
                request = conn.recv(65536)
                if request.startswith(b"GET /robots.txt "):  # none published: everything allowed
                    conn.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                    return
                answer(conn)
            except OSError:
                pass  # the client hung up: what a deadline does

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(2)
        listener.close()


@pytest.fixture
def s3_endpoint(monkeypatch):
    """A local S3-compatible endpoint (moto's server on loopback) with a bucket ``mip``; the AWS variables point at it."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "eu-west-3",
        "AWS_ENDPOINT_URL": endpoint, "FSSPEC_S3_ENDPOINT_URL": endpoint,
    }.items():  # fmt: skip
        monkeypatch.setenv(name, value)
    import boto3
    import requests

    # moto's backends live in the process: another test's buckets and objects would still be there.
    requests.post(f"{endpoint}/moto-api/reset", timeout=10).raise_for_status()
    boto3.client("s3", endpoint_url=endpoint).create_bucket(
        Bucket="mip", CreateBucketConfiguration={"LocationConstraint": "eu-west-3"}
    )
    yield endpoint
    server.stop()


def serve_openagenda(httpserver, pages: list[dict], key: str) -> None:
    """An OpenAgenda API v2 agenda 12345 answering with ``pages`` (``after`` cursors), checking the key.

    A request with ``includeFields[]=uid`` (the incremental read's listing of what is alive) gets
    every uid of the pages at once.
    """
    import json

    from werkzeug import Response

    def handler(request):
        assert request.headers.get("key") == key
        assert request.args["detailed"] in ("1", "0") and request.args["monolingual"] == "fr"
        assert int(request.args["size"]) <= 300
        if request.args.get("includeFields[]") == "uid":
            alive = [{"uid": e["uid"]} for p in pages for e in p["events"] if isinstance(e, dict)]
            return Response(json.dumps({"events": alive, "after": None}), content_type="application/json")
        body = pages[1] if request.args.getlist("after[]") == pages[0]["after"] else pages[0]
        return Response(json.dumps(body), content_type="application/json")

    httpserver.expect_request("/v2/agendas/12345/events").respond_with_handler(handler)
