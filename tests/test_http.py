import pytest
from conftest import page_requests
from werkzeug import Response

from aggregator.http import FetchError, HttpClient, resolve_url
from aggregator.settings import HttpSettings


def _client(**kwargs) -> HttpClient:
    return HttpClient(HttpSettings(backoff_s=0, **kwargs))


def test_sends_the_configured_user_agent(httpserver):
    httpserver.expect_request("/a", headers={"User-Agent": "agg-test (+https://example.org)"}).respond_with_data("ok")
    page = _client(user_agent="agg-test (+https://example.org)").get(httpserver.url_for("/a"))
    assert page.content == b"ok"
    assert page.status == 200


def test_retries_a_500_then_succeeds(httpserver):
    httpserver.expect_ordered_request("/flaky").respond_with_data("down", status=500)
    httpserver.expect_ordered_request("/flaky").respond_with_data("up")
    # Ordered expectations refuse any other request: robots.txt is not read here.
    assert _client(retries=2, respect_robots=False).get(httpserver.url_for("/flaky")).content == b"up"


def test_gives_up_after_the_retries(httpserver):
    httpserver.expect_request("/down").respond_with_data("down", status=503)
    with pytest.raises(FetchError, match=r"/down: HTTP 503"):
        _client(retries=1).get(httpserver.url_for("/down"))
    assert len(page_requests(httpserver)) == 2  # the first try and one retry


def test_http_error_names_url_and_status(httpserver):
    httpserver.expect_request("/missing").respond_with_data("no", status=404)
    with pytest.raises(FetchError, match=r"/missing: HTTP 404"):
        _client().get(httpserver.url_for("/missing"))


def test_body_over_the_size_limit_is_refused(httpserver):
    # Streamed without Content-Length, so the limit must be enforced while reading.
    httpserver.expect_request("/big").respond_with_response(
        Response((b"x" * 1000 for _ in range(10)), content_type="text/plain")
    )
    with pytest.raises(FetchError, match="exceeds the limit of 5000 bytes"):
        _client(max_bytes=5000).get(httpserver.url_for("/big"))


def test_declared_length_over_the_limit_is_refused(httpserver):
    httpserver.expect_request("/big").respond_with_data(b"y" * 6000)
    with pytest.raises(FetchError, match="6000 bytes exceeds"):
        _client(max_bytes=5000).get(httpserver.url_for("/big"))


def test_connection_refused_is_a_fetch_error():
    with pytest.raises(FetchError, match="connection failed"):
        _client(retries=0).get("http://127.0.0.1:9/nothing")


def test_charset_from_header(httpserver):
    httpserver.expect_request("/p").respond_with_data(
        "é".encode("cp1252"), content_type="text/html; charset=windows-1252"
    )
    assert _client().get(httpserver.url_for("/p")).charset == "windows-1252"


def test_local_files_and_paths(tmp_path):
    (tmp_path / "cal.ics").write_bytes(b"BEGIN:VCALENDAR")
    url = resolve_url("cal.ics", str(tmp_path / "sources.yaml"))
    assert url == (tmp_path / "cal.ics").as_uri()
    assert _client().get(url).content == b"BEGIN:VCALENDAR"
    with pytest.raises(FetchError, match="cannot read file"):
        _client().get((tmp_path / "absent.ics").as_uri())


def test_resolve_url_keeps_absolute_urls_and_joins_relative_links():
    assert resolve_url("https://a.example.org/x") == "https://a.example.org/x"
    assert resolve_url("p2.json", "https://a.example.org/api/p1.json") == "https://a.example.org/api/p2.json"


def test_user_agent_carries_the_contact(httpserver):
    expected = "agg-test/1.0 (contact: https://example.org/contact)"
    httpserver.expect_request("/a", headers={"User-Agent": expected}).respond_with_data("ok")
    page = _client(user_agent="agg-test/1.0", contact="https://example.org/contact").get(httpserver.url_for("/a"))
    assert page.content == b"ok"
    assert all(entry[0].headers["User-Agent"] == expected for entry in httpserver.log)  # robots.txt too
