"""Deadlines: a source's requests end by ``http.deadline_s`` whatever the server does, and waits are bounded."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable

import pytest
from conftest import raw_server
from werkzeug import Response

from aggregator.http import FetchError, HttpClient
from aggregator.settings import HttpSettings

HEADERS = b"HTTP/1.1 200 OK\r\nContent-Type: text/calendar\r\nConnection: close\r\n\r\n"


def drip(data: bytes, every_s: float = 0.1) -> Callable[[socket.socket], None]:
    """An answer sending ``data`` one byte at a time, then one byte forever."""

    def answer(conn: socket.socket) -> None:
        for byte in data:
            conn.sendall(bytes([byte]))
            time.sleep(every_s)
        while True:
            conn.sendall(b"x")
            time.sleep(every_s)

    return answer


def silent(conn: socket.socket) -> None:
    """An answer that never comes (the connection stays open)."""
    time.sleep(30)


def _client(**kwargs: float | int | bool) -> HttpClient:
    return HttpClient(HttpSettings(backoff_s=0, respect_robots=False, **kwargs))  # type: ignore[arg-type]


def _timed_get(client: HttpClient, url: str) -> tuple[float, str]:
    started = time.monotonic()
    with pytest.raises(FetchError) as caught:
        client.get(url)
    return time.monotonic() - started, str(caught.value)


@pytest.mark.parametrize(
    ("what", "answer"),
    [
        ("headers dripping", drip(HEADERS[:20] + b"X-Pad: " + b"a" * 1000)),
        ("body dripping", drip(HEADERS)),
        ("never answering", silent),
    ],
)
def test_a_source_s_requests_end_at_its_deadline(what: str, answer: Callable[[socket.socket], None]) -> None:
    # Every byte comes well within the read timeout: only the deadline can end these.
    with raw_server(answer) as base:
        elapsed, message = _timed_get(_client(timeout_s=5, deadline_s=1.5, retries=2), f"{base}/agenda.ics")
    assert "deadline of 1.5 s passed" in message, (what, message)
    assert elapsed < 3.5, (what, elapsed)


def test_the_deadline_spans_every_request_of_the_source(httpserver) -> None:
    httpserver.expect_request("/slow").respond_with_handler(lambda _r: (time.sleep(0.4), Response("ok"))[1])
    client = _client(deadline_s=1.0)
    url = httpserver.url_for("/slow")
    started = time.monotonic()
    pages = 0
    with pytest.raises(FetchError, match="deadline of 1 s passed"):  # noqa: PT012 (pages of one source)
        while pages < 10:
            client.get(url)
            pages += 1
    assert 1 <= pages <= 3  # the third or fourth page ran out of time
    assert time.monotonic() - started < 2.0


def test_retry_after_is_capped(httpserver) -> None:
    calls = []

    def busy(_request):
        calls.append(time.monotonic())
        if len(calls) == 1:
            return Response("busy", status=503, headers={"Retry-After": "21600"})  # six hours
        return Response("ok")

    httpserver.expect_request("/busy").respond_with_handler(busy)
    client = _client(retries=1, retry_after_max_s=0.3, deadline_s=10)
    assert client.get(httpserver.url_for("/busy")).content == b"ok"
    assert 0.25 < calls[1] - calls[0] < 2


def test_a_wait_past_the_deadline_is_not_started(httpserver) -> None:
    httpserver.expect_request("/busy").respond_with_data("busy", status=503, headers={"Retry-After": "60"})
    elapsed, message = _timed_get(_client(retries=3, deadline_s=2), httpserver.url_for("/busy"))
    assert "deadline of 2 s passed" in message
    assert elapsed < 1.5  # gave up at once instead of sleeping 60 s


@pytest.mark.parametrize(
    ("status", "transient"), [(404, False), (403, False), (410, False), (429, True), (500, True), (503, True)]
)
def test_only_errors_that_may_pass_are_transient(httpserver, status: int, transient: bool) -> None:
    httpserver.expect_request("/x").respond_with_data("no", status=status)
    with pytest.raises(FetchError) as caught:
        _client(retries=0).get(httpserver.url_for("/x"))
    assert caught.value.transient is transient
    assert caught.value.status == status


def test_oversize_robots_refusal_and_deadline_are_not_transient(httpserver) -> None:
    httpserver.expect_request("/big").respond_with_data(b"x" * 2000)
    with pytest.raises(FetchError) as big:
        _client(max_bytes=100).get(httpserver.url_for("/big"))
    httpserver.clear()  # replace the fixture's allow-all robots.txt
    httpserver.expect_request("/robots.txt").respond_with_data("User-agent: *\nDisallow: /*.ics$\n")
    refused = HttpClient(HttpSettings(backoff_s=0))
    with pytest.raises(FetchError) as robots:
        refused.get(httpserver.url_for("/agenda.ics"))
    with raw_server(silent) as base, pytest.raises(FetchError) as late:
        _client(deadline_s=0.5).get(f"{base}/x")
    assert not big.value.transient and not robots.value.transient and not late.value.transient
    assert "disallowed by robots.txt" in str(robots.value)


def test_connection_refused_is_transient() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        with pytest.raises(FetchError) as caught:
            _client(retries=0).get(f"http://127.0.0.1:{port}/x")
    assert caught.value.transient
