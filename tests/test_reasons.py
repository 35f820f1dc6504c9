"""Every reject reason the code can produce, produced from real input: sentences, never exception text."""

import json
import re
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from aggregator.config import parse_config
from aggregator.http import Fetched
from aggregator.normalise import normalise
from aggregator.reasons import TEMPLATES
from aggregator.sources import get_adapter


def _source(**fields):
    fields.setdefault("url", "x")
    fields.setdefault("id", "s")
    return parse_config({"sources": [fields]}, Path("sources.yaml"), {}).sources[0]


def _adapter_reasons(settings, content, url="https://example.org/f"):
    source = _source(**settings)
    records = get_adapter(source.kind).parse(Fetched(url, content), source)
    return [r["reject_reason"] for r in records if r.get("reject_reason")]


def _normalised_reasons(rows):
    source = _source(kind="json")
    frame = pd.DataFrame(rows).assign(
        source_id="s", source_kind="json", fetched_at=pd.Timestamp("2026-11-01", tz="UTC")
    )
    return normalise(frame, {"s": source}, reference=date(2026, 11, 1)).rejects["reason"].tolist()


VEVENT = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:{uid}\r\nSUMMARY:x\r\n{body}END:VEVENT\r\nEND:VCALENDAR\r\n"
)

PRODUCERS = {
    "no_title": lambda: _normalised_reasons([{"uid": "1", "title": None, "start": "2026-11-03"}]),
    "no_start": lambda: _normalised_reasons([{"uid": "1", "title": "t", "start": None}]),
    "bad_start": lambda: _normalised_reasons([{"uid": "1", "title": "t", "start": "bientôt"}]),
    "no_timings": lambda: _adapter_reasons(
        {"kind": "openagenda", "agenda": "1"}, b'{"events": [{"uid": 1, "title": {"fr": "t"}, "timings": []}]}'
    ),
    "no_periods": lambda: _adapter_reasons({"kind": "datatourisme"}, b'[{"@id": "x", "@type": ["schema:Event"]}]'),
    "no_start_fields": lambda: _adapter_reasons(
        {"kind": "opendatasoft", "dataset": "d"}, b'{"results": [{"uid": "1", "title_fr": "t", "timings": "[]"}]}'
    ),
    "not_object": lambda: _adapter_reasons({"kind": "json", "records": "items"}, b'{"items": ["a string"]}'),
    "not_text": lambda: _adapter_reasons(
        {"kind": "json", "records": "items", "fields": {"title": "name", "start": "date"}},
        b'{"items": [{"name": [[["Atelier"]]], "date": "2026-11-03"}]}',
    ),
    "unreadable": lambda: _adapter_reasons(
        {"kind": "openagenda", "agenda": "1"}, b'{"events": [{"uid": 1, "location": "not an object"}]}'
    ),
    "csv_cells": lambda: _adapter_reasons({"kind": "csv", "fields": {"title": "a"}}, b"a;b;c\n1;2\n"),
    "csv_line": lambda: _adapter_reasons(
        {"kind": "csv", "fields": {"title": "a"}, "delimiter": ","}, b"a,b,c\n" + b"x" * 200_000 + b",2,3\n1,2,3\n"
    ),  # a field past the csv module's size limit
    "ical_no_start": lambda: _adapter_reasons({"kind": "ical"}, VEVENT.format(uid="1", body="").encode()),
    "ical_event": lambda: _adapter_reasons(
        {"kind": "ical"}, VEVENT.format(uid="1", body="DTSTART:20261103T100000\r\nDTEND:garbage\r\n").encode()
    ),
    "ical_recurrence": lambda: _adapter_reasons(
        {"kind": "ical"}, VEVENT.format(uid="1", body="DTSTART:20261103T100000\r\nRRULE:FREQ=NEVER\r\n").encode()
    ),
    "jsonld_block": lambda: _adapter_reasons(
        {"kind": "jsonld"},
        b'<html><script type="application/ld+json">{"@type": "Event", "name": "x" "startDate": 1}</script>'
        b'<script type="application/ld+json">{"@type": "Event", "name": "y", "startDate": "2026-11-03"}</script></html>',
    ),
    "jsonl_line": lambda: _adapter_reasons(
        {"kind": "opendatasoft", "dataset": "d"},
        b'{"uid": "1", "title_fr": "t"}\n{broken\n',
        url="https://e.org/d.jsonl",
    ),
    "html_item": lambda: _adapter_reasons(
        {"kind": "html", "item": "li", "fields": {"title": "h2:nth-child(x)"}},
        b"<html><ul><li><h2>t</h2></li></ul></html>",
    ),
}

EXCEPTION_TEXT = re.compile(
    r"Traceback|has no attribute|object is not|Expecting (value|property|',')|NoneType|unexpected keyword|"
    r"invalid literal|index out of range|\bline \d+ column \d+ \(char"
)


def test_every_reason_has_a_producer():
    assert set(PRODUCERS) == set(TEMPLATES)


def _pattern(template):
    return re.compile(re.sub(r"\\\{\w+\\\}", ".+", re.escape(template)) + "$", re.DOTALL)


@pytest.mark.parametrize("key", sorted(TEMPLATES))
def test_each_reason_is_produced_as_its_sentence(key):
    produced = PRODUCERS[key]()
    matching = [r for r in produced if _pattern(TEMPLATES[key]).match(r)]
    assert matching, f"{key}: produced {produced!r}"
    for text in matching:
        assert not EXCEPTION_TEXT.search(text), text
        assert text[0].islower() or text[0].isupper()  # a sentence, not a blank or a symbol


def test_reasons_never_repeat_raw_content():
    (text,) = PRODUCERS["not_object"]()
    assert "a string" in text and json.dumps("a string") not in text
