"""One pagination loop for every kind: strategies, guards, and notes when paging stops early."""

import json
from pathlib import Path

from conftest import page_requests

from aggregator.collection import collect_source
from aggregator.config import parse_config
from aggregator.http import HttpClient
from aggregator.settings import HttpSettings
from aggregator.sources import get_adapter


def _source(**fields):
    fields.setdefault("url", "x")
    return parse_config({"sources": [fields]}, Path("sources.yaml"), {}).sources[0]


def _fetch(source, url):
    http = HttpClient(HttpSettings(backoff_s=0, retries=0))
    adapter = get_adapter(source.kind)
    pages = adapter.fetch(source, url, http)
    return pages, [r for p in pages for r in adapter.parse(p, source)], http.notes


def _records(n, start=0):
    return [
        {"uid": str(i), "title_fr": f"E{i}", "firstdate_begin": "2026-11-03T10:00:00+00:00"} for i in range(start, n)
    ]


def test_a_server_that_ignores_the_offset_is_read_once_with_a_note(httpserver):
    # A saved /records response served for every offset: total_count says 636, the body holds 106.
    body = {"total_count": 636, "results": _records(106)}
    httpserver.expect_request("/api/explore/v2.1/catalog/datasets/d/records").respond_with_json(body)
    source = _source(id="o", kind="opendatasoft", url=httpserver.url_for("/"), dataset="d")
    pages, records, notes = _fetch(source, httpserver.url_for("/"))
    assert len(records) == 106 and len(pages) == 1
    assert len(page_requests(httpserver)) == 2  # the second answer was the first again: paging stopped
    assert notes and "the same page came back" in notes[0]


def test_a_saved_records_file_is_read_once(tmp_path):
    saved = tmp_path / "records.json"
    saved.write_text(json.dumps({"total_count": 636, "results": _records(106)}), encoding="utf-8")
    source = _source(id="o", kind="opendatasoft", url=str(saved), dataset="d")
    pages, records, _ = _fetch(source, saved.as_uri())
    assert (len(pages), len(records)) == (1, 106)


def test_a_saved_json_export_and_jsonl_export_are_read(tmp_path):
    listed = tmp_path / "export.json"
    listed.write_text(json.dumps(_records(5)), encoding="utf-8")
    lines = tmp_path / "export.jsonl"
    lines.write_text("\n".join(json.dumps(r) for r in _records(4)), encoding="utf-8")
    source = _source(id="o", kind="opendatasoft", url="x", dataset="d")
    assert len(_fetch(source, listed.as_uri())[1]) == 5
    assert len(_fetch(source, lines.as_uri())[1]) == 4


def test_page_numbers_stop_at_the_empty_page_and_at_a_repeated_page(httpserver):
    def handler(request):
        from werkzeug import Response

        page = int(request.args["p"])
        items = [{"id": page, "t": f"item {page}"}] if page <= 3 else []
        return Response(json.dumps({"items": items}), content_type="application/json")

    httpserver.expect_request("/api").respond_with_handler(handler)
    fields = {"uid": "id", "title": "t"}
    source = _source(id="j", kind="json", records="items", fields=fields, page_param="p", max_pages=50)
    pages, records, notes = _fetch(source, httpserver.url_for("/api"))
    assert [r["uid"] for r in records] == ["1", "2", "3"] and len(pages) == 3 and notes == []

    httpserver.expect_request("/same").respond_with_json({"items": [{"id": 1, "t": "again"}]})
    pages, records, notes = _fetch(source, httpserver.url_for("/same"))
    assert len(records) == 1 and "the same page came back" in notes[0]


def test_max_pages_is_said_when_pages_remain(httpserver):
    def handler(request):
        from werkzeug import Response

        page = int(request.args["p"])
        return Response(json.dumps({"items": [{"id": page, "t": f"item {page}"}]}), content_type="application/json")

    httpserver.expect_request("/api").respond_with_handler(handler)
    source = _source(
        id="j", kind="json", records="items", fields={"uid": "id", "title": "t"}, page_param="p", max_pages=2
    )
    pages, _, notes = _fetch(source, httpserver.url_for("/api"))
    assert len(pages) == 2 and "paging stopped after max_pages (2)" in notes[0]


def test_paging_notes_reach_the_run_warnings(httpserver, tmp_path):
    httpserver.expect_request("/api/explore/v2.1/catalog/datasets/d/records").respond_with_json(
        {"total_count": 636, "results": _records(106)}
    )
    source = _source(id="o", kind="opendatasoft", url=httpserver.url_for("/"), dataset="d")
    result = collect_source(source, tmp_path / "sources.yaml")
    assert len(result.records) == 106
    assert any("the same page came back" in note for note in result.notes)
