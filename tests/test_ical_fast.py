"""The iCalendar fast path reads exactly what the icalendar library reads, or hands the file over to it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import FIXTURES
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aggregator.http import Fetched
from aggregator.records import raw_json
from aggregator.sources import ical as ical_module
from aggregator.sources import ical_fast
from aggregator.sources.base import ParseError
from aggregator.sources.ical import IcalAdapter, IcalSource
from aggregator.sources.ical_fast import read

SOURCE = IcalSource(id="cal", kind="ical", url="https://example.org/cal.ics")
REALWORLD = Path(
    os.environ.get("AGGREGATOR_REALWORLD", Path(__file__).resolve().parents[2] / "shared" / "data" / "realworld")
)


def _page(content: bytes) -> Fetched:
    return Fetched(url="https://example.org/cal.ics", content=content, status=200)


def _library(content: bytes, monkeypatch) -> list[dict]:
    with monkeypatch.context() as patch:
        patch.setattr(ical_module, "read_fast", lambda _: None)  # the full library, as before the fast path
        return IcalAdapter().parse(_page(content), SOURCE)


def _same(fast: list[dict], slow: list[dict]) -> None:
    strip = lambda records: [{k: v for k, v in r.items() if k != "raw"} for r in records]  # noqa: E731
    assert strip(fast) == strip(slow)  # every field but raw (the original lines, not a re-serialisation)


def _files() -> list[Path]:
    files = sorted(FIXTURES.glob("ical/*.ics")) + sorted((FIXTURES.parent.parent / "data" / "samples").glob("*.ics"))
    return files + (sorted(REALWORLD.glob("ical/*.ics")) if REALWORLD.exists() else [])


@pytest.mark.parametrize("path", _files(), ids=lambda p: p.name)
def test_fast_path_equals_the_library_on_real_and_fixture_files(path, monkeypatch):
    content = path.read_bytes()
    fast = IcalAdapter().parse(_page(content), SOURCE)
    _same(fast, _library(content, monkeypatch))


def test_fast_path_takes_the_common_shapes_and_leaves_recurrence_to_the_library():
    assert read((FIXTURES / "ical" / "lab-calendar.ics").read_bytes()) is not None
    assert read((FIXTURES / "ical" / "recurring.ics").read_bytes()) is None  # RRULE: expanded by the library
    assert read(b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART;TZID=W. Europe Standard Time:20261103T100000\r\n"
                b"END:VEVENT\r\nEND:VCALENDAR\r\n") is None  # fmt: skip
    assert read(b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nSUMMARY:a\r\nSUMMARY:b\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n") is None


TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")) | st.sampled_from(",;:\\\"'\n"), max_size=30)
ZONES = st.sampled_from(["Europe/Paris", "Indian/Reunion", "America/Cayenne", "UTC", "Europe/London"])


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def _fold(line: str) -> str:
    out, chunk = [], ""
    for char in line:
        if len((chunk + char).encode()) > 74:
            out.append(chunk)
            chunk = " "
        chunk += char
    return "\r\n".join([*out, chunk])


@st.composite
def calendars(draw) -> bytes:
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//test//EN"]
    if draw(st.booleans()):
        lines.append(f"X-WR-TIMEZONE:{draw(ZONES)}")
    for n in range(draw(st.integers(0, 4))):
        day = draw(
            st.dates(
                min_value=__import__("datetime").date(2020, 1, 1), max_value=__import__("datetime").date(2030, 12, 31)
            )
        )
        event = ["BEGIN:VEVENT", f"UID:{_escape(draw(TEXT))}-{n}", "DTSTAMP:20261001T000000Z"]
        shape = draw(st.sampled_from(["date", "utc", "floating", "zoned", "none"]))
        stamp = f"{day:%Y%m%d}T{draw(st.integers(0, 23)):02d}{draw(st.integers(0, 59)):02d}00"
        if shape == "date":
            event.append(f"DTSTART;VALUE=DATE:{day:%Y%m%d}")
            if draw(st.booleans()):
                event.append(
                    f"DTEND;VALUE=DATE:{day + __import__('datetime').timedelta(days=draw(st.integers(0, 3))):%Y%m%d}"
                )
        elif shape == "utc":
            event.append(f"DTSTART:{stamp}Z")
        elif shape == "floating":
            event.append(f"DTSTART:{stamp}")
        elif shape == "zoned":
            event.append(f"DTSTART;TZID={draw(ZONES)}:{stamp}")
            if draw(st.booleans()):
                event.append(
                    draw(st.sampled_from(["DURATION:PT1H30M", "DURATION:P1D", f"DTEND;TZID=Europe/Paris:{stamp}"]))
                )
        for name in ("SUMMARY", "DESCRIPTION", "LOCATION"):
            if draw(st.booleans()):
                event.append(f"{name}:{_escape(draw(TEXT))}")
        if draw(st.booleans()):
            event.append(
                draw(
                    st.sampled_from(
                        [
                            'ORGANIZER;CN="Lab d\'innovation: Paris":mailto:lab@example.org',
                            "ORGANIZER:mailto:x@example.org",
                            "ORGANIZER;CN=Mairie:MAILTO:m@x.fr",
                        ]
                    )
                )
            )
        if draw(st.booleans()):
            event.append(draw(st.sampled_from(["GEO:43.6108;3.8767", "GEO:-21.1151;55.5364"])))
        if draw(st.booleans()):
            event.append(f"CATEGORIES:{_escape(draw(TEXT))},Atelier")
        if draw(st.booleans()):
            event.append(f"STATUS:{draw(st.sampled_from(['CANCELLED', 'CONFIRMED', 'TENTATIVE', 'cancelled']))}")
        if draw(st.booleans()):
            event.append("URL:https://example.org/e?a=1&b=2")
        if draw(st.booleans()):
            event += ["BEGIN:VALARM", "ACTION:DISPLAY", "TRIGGER:-PT15M", "DESCRIPTION:rappel", "END:VALARM"]
        lines += [*event, "END:VEVENT"]
    lines.append("END:VCALENDAR")
    separator = draw(st.sampled_from(["\r\n", "\n"]))
    return (separator.join(_fold(line) for line in lines) + separator).encode("utf-8")


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(calendars())
def test_fast_path_equals_the_library_on_generated_calendars(monkeypatch, content):
    fast = read(content)
    assert fast is not None  # these are the common shapes: the fast path must take them
    _same(IcalAdapter().parse(_page(content), SOURCE), _library(content, monkeypatch))


def test_one_instant_in_two_zones_keeps_each_zone(monkeypatch):
    """Times decoded once per text: 09:00 Paris and 08:00 UTC are one instant, yet two different starts."""
    content = (
        b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:a\r\nDTSTART;TZID=Europe/Paris:20261101T090000\r\nEND:VEVENT\r\n"
        b"BEGIN:VEVENT\r\nUID:b\r\nDTSTART:20261101T080000Z\r\nEND:VEVENT\r\n"
        b"BEGIN:VEVENT\r\nUID:c\r\nDTSTART;TZID=Europe/Paris:20261101T090000\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    fast = IcalAdapter().parse(_page(content), SOURCE)
    assert [r["start"] for r in fast] == ["2026-11-01T09:00:00+01:00", "2026-11-01T08:00:00+00:00",
                                          "2026-11-01T09:00:00+01:00"]  # fmt: skip
    _same(fast, _library(content, monkeypatch))


def test_a_property_line_the_fast_path_cannot_read_goes_to_the_library():
    unterminated = b'BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART;TZID="Europe/Paris:20261101T090000\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n'
    assert read(unterminated) is None


def test_the_collector_paused_while_parsing_is_always_restored():
    import gc

    from aggregator.gc_policy import gc_paused

    assert gc.isenabled()
    assert read(b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nRRULE:FREQ=DAILY\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n") is None
    assert gc.isenabled()  # restored after the fast path gave up half-way

    def fails_while_paused() -> None:
        with gc_paused():
            assert not gc.isenabled()
            raise ZeroDivisionError

    with pytest.raises(ZeroDivisionError):
        fails_while_paused()
    assert gc.isenabled()
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()  # left as the caller had it
    finally:
        gc.enable()


@given(st.text(alphabet="\\nN,;a é\n", max_size=12))
def test_text_unescaping_reads_every_escape_as_the_pattern_does(value):
    by_pattern = ical_fast._TEXT_ESCAPES.sub(lambda m: "\n" if m.group(1) in "nN" else m.group(1), value)
    assert ical_fast._unescape(value) == by_pattern


def test_a_repeated_property_of_a_later_event_sends_the_file_to_the_library():
    event = "BEGIN:VEVENT\r\nUID:{0}\r\nDTSTART:20261103T100000Z\r\nCATEGORIES:a\r\nCATEGORIES:b\r\n{1}END:VEVENT\r\n"
    content = "BEGIN:VCALENDAR\r\n" + event.format(1, "") + event.format(2, "URL:https://a.fr\r\nURL:https://b.fr\r\n")
    assert read((content + "END:VCALENDAR\r\n").encode()) is None
    assert read((content.replace("URL:https://b.fr\r\n", "") + "END:VCALENDAR\r\n").encode()) is not None


@given(st.text())
def test_the_raw_event_text_is_serialised_as_raw_json_serialises_it(text):
    assert ical_fast.encode_basestring(text) == raw_json(text)


# Component lines in any order, well nested or not: the fast path must take a file only as the library reads it.
# Valid values only: a broken value in an event's VALARM is the one case where they differ (the fast
# path's docstring says why), and a line of spaces would make one by unfolding.
STRUCTURE = st.sampled_from(
    ["BEGIN:VCALENDAR", "END:VCALENDAR", "BEGIN:VEVENT", "END:VEVENT", "BEGIN:VALARM", "END:VALARM",
     "BEGIN:VTIMEZONE", "END:VTIMEZONE", "BEGIN:VTODO", "END:VTODO", "BEGIN:VEVENT ", "END:VEVENT\t",
     "UID:x", "DTSTART:20261101T100000Z", "DTSTAMP:20261001T000000Z", "SUMMARY:a", "LOCATION:x", "CATEGORIES:a,b",
     "DESCRIPTION:BEGIN:VEVENT", "X-WR-TIMEZONE:Europe/Paris", ""]
)  # fmt: skip


@settings(max_examples=400, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(STRUCTURE, max_size=12), st.booleans(), st.sampled_from(["\r\n", "\n"]))
def test_a_file_the_fast_path_takes_is_read_as_the_library_reads_it_whatever_its_structure(
    monkeypatch, lines, wrapped, separator
):
    body = ["BEGIN:VCALENDAR", *lines, "END:VCALENDAR"] if wrapped else lines
    content = (separator.join(body) + separator).encode()
    if read(content) is None:
        return  # left to the library: whatever it does is the answer
    try:
        slow = _library(content, monkeypatch)
    except Exception as exc:  # the library refuses the file: the fast path must not have taken it
        pytest.fail(f"the fast path read a file the library refuses ({exc})")
    _same(IcalAdapter().parse(_page(content), SOURCE), slow)


def test_components_closed_out_of_order_or_a_second_calendar_go_to_the_library():
    crossed = (
        b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART:20261101T100000Z\r\nBEGIN:VALARM\r\nEND:VEVENT\r\nEND:VALARM\r\n"
    )
    assert read(crossed + b"END:VCALENDAR\r\n") is None
    assert read(b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\nBEGIN:VTIMEZONE\r\nEND:VTIMEZONE\r\nEND:VCALENDAR\r\n") is None
    one = b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:a\r\nDTSTART:20261101T100000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    assert read(one) is not None
    assert read(one + one) is None  # the library refuses two calendars: so does the adapter, then


@pytest.mark.parametrize(
    "outside",
    ["DTSTAMP:not a date\r\n", "BEGIN:VTODO\r\nUID:t\r\nDTSTAMP:not a date\r\nEND:VTODO\r\n"],
    ids=["calendar property", "other component"],
)
def test_a_broken_value_outside_the_events_goes_to_the_library_which_refuses_the_file(outside, monkeypatch):
    content = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n" + outside
        + "BEGIN:VEVENT\r\nUID:a\r\nDTSTART:20261101T100000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    ).encode()  # fmt: skip
    assert read(content) is None
    with pytest.raises(ParseError, match="not a valid iCalendar file"):
        IcalAdapter().parse(_page(content), SOURCE)
