"""A document's list streamed one item at a time gives what decoding the whole document gives, or gives way."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from aggregator.http import Fetched
from aggregator.sources import datatourisme, json_api, json_items
from aggregator.sources.base import ParseError
from aggregator.sources.datatourisme import CONTAINERS, DatatourismeAdapter, DatatourismeSource, objects
from aggregator.sources.json_api import JsonAdapter, JsonSource
from aggregator.sources.json_items import NotStreamableError, items

FIXTURES = Path(__file__).parent / "fixtures" / "datatourisme"
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=6)  # "é", "€", "😀" and lone surrogates: one to four UTF-8 bytes, or not UTF-8 at all
)
VALUES = st.recursive(
    SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3)
)
KEYS = st.sampled_from(["@context", "@graph", "objects", "data", "meta", "é"]) | st.text(max_size=3)
SPACE = st.text(alphabet=" \t\n\r", max_size=2)


def picture(value: Any) -> str:
    """A comparable picture: 1 and 1.0 differ, NaN equals NaN, key order counts."""
    return json.dumps(value)


@st.composite
def documents(draw: st.DrawFn, usual: bool = False) -> bytes:
    """A JSON document with a list at the root, or an object of members, written in varied ways.

    With ``usual``, only the shapes that must be streamed: a root list, or one container key
    holding a list among other distinct keys, in valid UTF-8.
    """

    def dump(value: Any) -> str:
        return json.dumps(value, ensure_ascii=draw(st.booleans()), indent=draw(st.none() | st.integers(0, 2)))

    def listed(values: list[Any]) -> str:
        return "[" + draw(SPACE) + ",".join(draw(SPACE) + dump(v) + draw(SPACE) for v in values) + "]"

    values = VALUES.filter(lambda v: "\ud800" not in json.dumps(v, ensure_ascii=False)) if usual else VALUES
    if draw(st.booleans()):
        body = listed(draw(st.lists(values, max_size=5)))
    else:
        members = draw(st.lists(st.tuples(KEYS, values), max_size=4))
        if usual:
            members = [(k, v) for k, v in members if k not in CONTAINERS]
            members = list(dict(members).items())
            at = draw(st.integers(0, len(members)))
            members.insert(at, (draw(st.sampled_from(CONTAINERS)), draw(st.lists(values, max_size=5))))
        body = "{" + ",".join(f"{draw(SPACE)}{json.dumps(k)}{draw(SPACE)}:{draw(SPACE)}{dump(v)}" for k, v in members)
        body += draw(SPACE) + "}"
    text = draw(SPACE) + body + draw(SPACE)
    return text.encode("utf-8", errors="surrogatepass")


def whole(content: bytes) -> list[Any]:
    return objects(json.loads(content))


@given(documents(), st.integers(1, 40))
@example(b"[1234567, 2.5e10, true]", 3)  # a number or a literal cut by a block's end
@example(b'{"@graph": [1], "objects": [2]}', 4)  # two containers
@example(b'{"@graph": [1], "@graph": [2]}', 4)  # a duplicated key: json keeps the last
@example(b'\xef\xbb\xbf[{"a": 1}]', 64)  # a byte order mark
def test_streamed_items_are_the_whole_documents_objects_or_it_gives_way(content, block):
    try:
        streamed = list(items(content, CONTAINERS, block=block))
    except NotStreamableError:
        return  # the caller reads the document whole
    assert picture(streamed) == picture(whole(content))


@given(documents(usual=True), st.integers(1, 40))
@example(b"[0.0, 12.5e3, -1]", 1)  # numbers cut after "0", "0.", "12.5e": each must wait for its end
@example(b'{"@graph": [10.25]}', 3)
def test_the_usual_shapes_are_streamed(content, block):
    assert picture(list(items(content, CONTAINERS, block=block))) == picture(whole(content))


@given(documents(), st.data())
@example(b'[{"a": 1},]', None)
@example(b'{"@graph": [], }', None)
@example(b"[1] [2]", None)
@example(b"[1 22]", None)  # no comma between two items
@example(b'["\xe9"]', None)
def test_a_cut_or_damaged_document_never_streams_as_a_valid_one(content, data):
    if data is not None:
        at = data.draw(st.integers(0, len(content)))
        if data.draw(st.booleans()):
            content = content[:at]
        else:
            content = content[:at] + data.draw(st.binary(min_size=1, max_size=2)) + content[at + 1 :]
    try:
        expected = picture(whole(content))
    except (ValueError, TypeError):  # not JSON, or JSON that is not a list of objects' container
        expected = None
    try:
        streamed = picture(list(items(content, CONTAINERS, block=data.draw(st.integers(1, 40)) if data else 5)))
    except NotStreamableError:
        return
    assert streamed == expected


SOURCE = DatatourismeSource(id="dt", kind="datatourisme", url="https://example.org/export.json")


def _not_streamed(*args: Any, **kwargs: Any) -> Any:
    raise NotStreamableError
    yield  # pragma: no cover


@pytest.mark.parametrize("name", ["graph.json", "export-lists.json", "api-page.json"])
def test_an_export_is_read_one_object_at_a_time_and_gives_the_same_records(name):
    page = Fetched(url=SOURCE.url, content=(FIXTURES / name).read_bytes())
    with mock.patch.object(datatourisme, "load_json", side_effect=AssertionError("decoded whole")):
        streamed = DatatourismeAdapter().parse(page, SOURCE)
    with mock.patch.object(json_items, "items", _not_streamed):
        read_whole = DatatourismeAdapter().parse(page, SOURCE)
    assert streamed and streamed == read_whole


def test_a_streamed_list_of_other_objects_is_named_as_another_format():
    page = Fetched(url=SOURCE.url, content=b'[{"name": "a"}, {"name": "b"}]')
    with pytest.raises(ParseError, match=r"datatourisme kind reads DATAtourisme JSON-LD.*found JSON: a list of 2"):
        DatatourismeAdapter().parse(page, SOURCE)


def test_a_damaged_export_is_reported_as_it_was_before():
    content = (FIXTURES / "graph.json").read_bytes()
    page = Fetched(url=SOURCE.url, content=content[: len(content) // 2])
    with pytest.raises(ParseError, match="found text that starts like JSON but is not valid JSON"):
        DatatourismeAdapter().parse(page, SOURCE)


JSON_FIELDS = {"uid": "id", "title": "name", "start": "when.start", "city": "place.city"}
RECORDS = st.fixed_dictionaries(
    {},
    optional={
        "id": SCALARS,
        "name": SCALARS | st.lists(SCALARS, max_size=2),
        "when": st.fixed_dictionaries({}, optional={"start": SCALARS}),
        "place": VALUES,
    },
)


def _outcome(source: JsonSource, page: Fetched) -> Any:
    try:
        return JsonAdapter().parse(page, source)
    except ParseError as exc:
        return str(exc)


@given(
    st.lists(RECORDS | SCALARS, max_size=6),
    st.sampled_from(["", "items", "data.items", "0"]),
    st.booleans(),
    st.booleans(),
)
def test_the_json_kind_streams_its_records_and_gives_what_the_whole_document_gives(records, path, nest, indent):
    source = JsonSource(id="j", kind="json", url="https://example.org/agenda.json", records=path, fields=JSON_FIELDS)
    document: Any = records
    for step in reversed(path.split(".") if path and nest else []):  # not nested: the path leads nowhere
        document = {"meta": {"count": len(records)}, step: document}
    page = Fetched(url=source.url, content=json.dumps(document, indent=2 if indent else None).encode())
    with mock.patch.object(json_items, "items", _not_streamed):
        read_whole = _outcome(source, page)
    if "." in path or not isinstance(read_whole, list):  # read whole, or an error: as before
        assert _outcome(source, page) == read_whole
        return
    with mock.patch.object(json_api, "_load", side_effect=AssertionError("decoded whole")):
        assert _outcome(source, page) == read_whole
