"""The calendars' quick VEVENT writer gives the bytes icalendar gives, or leaves the event to it."""

import datetime as dt
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from aggregator import ical_lines
from aggregator.feeds import _properties, library_vevent, vevent_bytes
from aggregator.schema import ATTENDANCE_MODES, EVENT_STATUSES, EVENT_TYPES

TRICKY = ["\\", ";", ",", "\r", "\n", "\r\n", "\\N", "\\n", "^", "é", "€", "😀", " ", ":", '"', "\t", "a", "\ufeff"]
texts = st.lists(st.sampled_from(TRICKY) | st.text(max_size=12), max_size=60).map("".join)
some_text = st.none() | texts
# UTC as pandas gives it in memory (datetime.UTC) and once read back from Parquet (ZoneInfo("UTC")).
moments = st.builds(
    lambda d, zone: pd.Timestamp(d).tz_localize(zone),
    st.datetimes(min_value=dt.datetime(1990, 1, 1), max_value=dt.datetime(2060, 1, 1)),
    st.sampled_from([dt.UTC, ZoneInfo("UTC"), ZoneInfo("Etc/UTC")]),
)
ZONES = [*sorted(ical_lines.zones()), "UTC", "Etc/UTC", "GMT", "Europe/London", "Pacific/Noumea"]


@st.composite
def rows(draw: st.DrawFn) -> dict:
    start = draw(moments)
    return {
        "event_id": "ev-" + draw(st.text("0123456789abcdef", min_size=16, max_size=16)),
        "title": draw(texts.filter(bool)),
        "description": draw(some_text),
        "organizer": draw(some_text),
        "venue_name": draw(some_text),
        "street_address": draw(some_text),
        "postal_code": draw(st.none() | st.sampled_from(["75001", "97411"])),
        "city": draw(some_text),
        "attendance_mode": draw(st.sampled_from(ATTENDANCE_MODES)),
        "latitude": draw(st.none() | st.floats(-90, 90)),
        "longitude": draw(st.none() | st.floats(-180, 180)),
        "url": draw(some_text),
        "registration_url": draw(some_text),
        "online_url": draw(some_text),
        "status": draw(st.sampled_from(EVENT_STATUSES)),
        "event_type": draw(st.sampled_from([*EVENT_TYPES, "type, inconnu; \\x"])),
        "timezone": draw(st.sampled_from(ZONES)),
        "all_day": draw(st.booleans()),
        "start_at": start,
        "end_at": draw(st.none() | st.timedeltas(dt.timedelta(0), dt.timedelta(days=40)).map(lambda d: start + d)),
        "first_seen_at": draw(moments),
        "last_seen_at": draw(moments),
    }


def _library(properties):
    try:
        return library_vevent(properties)
    except Exception as exc:  # the error itself is what is compared
        return type(exc)


@settings(max_examples=700, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows(), moments)
def test_quick_vevent_is_byte_for_byte_the_library_s(row, stamp):
    properties = _properties(row, stamp)
    quick = ical_lines.vevent(properties)
    library = _library(properties)
    if quick is not None:
        assert quick == library
    utc = [row[n].tzinfo for n in ("first_seen_at", "last_seen_at")] + [stamp.tzinfo]
    common = all(getattr(z, "key", "UTC") == "UTC" for z in utc)  # Etc/UTC is left to the library
    if common and (row["timezone"] in ical_lines.zones() or row["all_day"]):
        assert quick is not None or not isinstance(library, bytes), "a common shape was left to the library"
    assert (vevent_bytes(row, stamp) == library) if isinstance(library, bytes) else True


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(TRICKY) | st.text(max_size=30), max_size=80).map("".join))
@example("\ufeff")  # the library drops one leading byte order mark of each value (found by a CI run)
@example("\ufeff\ufeffAtelier, a")
def test_folded_lines_are_the_library_s(text):
    properties = [("summary", text), ("url", text), ("categories", [text, text])]
    quick = ical_lines.vevent(properties)
    assert quick is None or quick == _library(properties)


@pytest.mark.parametrize(
    "value",
    [
        dt.datetime(2026, 11, 3, 10),  # naive
        dt.datetime(2026, 11, 3, 10, tzinfo=dt.timezone(dt.timedelta(hours=1))),  # a fixed offset
        "2026-11-03",
    ],
)
def test_shapes_it_does_not_know_go_to_the_library(value):
    properties = [("summary", "Atelier"), ("dtstart", value)]
    assert ical_lines.vevent(properties) is None


def test_a_lone_surrogate_fails_as_the_library_fails():
    properties = [("summary", "Atelier \ud800")]
    assert ical_lines.vevent(properties) is None
    assert _library(properties) is UnicodeEncodeError
