"""Text, dates, geography and classification rules, table-driven, plus property-based checks."""

import contextlib
from datetime import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aggregator.normalise import classify
from aggregator.normalise.dates import DateParseError, parse_local, to_utc
from aggregator.normalise.text import clean_text, clean_url, fold


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("<p>Atelier&nbsp;: <b>design</b></p>\n\n des   services", "Atelier : design des services"),
        ("Caf\u0065\u0301", "Café"),  # decomposed accent -> NFC
        ("  ", None),
        (None, None),
        ("a < b et c > d", "a < b et c > d"),
        ("L&#39;État &amp; vous", "L'État & vous"),
        ("ligne 1<br>ligne 2", "ligne 1 ligne 2"),
    ],
)
def test_clean_text(raw, expected):
    assert clean_text(raw) == expected


@given(st.text())
def test_clean_text_is_idempotent_and_never_crashes(value):
    once = clean_text(value)
    assert clean_text(once) == once
    if once is not None:
        assert once == once.strip()
        assert "  " not in once


def test_fold_ignores_accents_case_punctuation():
    assert fold("ATELIER – Désign des services publics !") == fold("atelier : design des services publics")


def test_clean_url_strips_tracking_and_refuses_non_http():
    assert clean_url(" https://ex.fr/a?utm_source=nl&id=3&fbclid=x ") == "https://ex.fr/a?id=3"
    assert clean_url("javascript:alert(1)") is None
    assert clean_url("mailto:a@b.fr") is None


@pytest.mark.parametrize(
    ("text", "local", "all_day"),
    [
        ("2026-11-08", datetime(2026, 11, 8), True),
        ("2026-11-08T14:00", datetime(2026, 11, 8, 14), False),
        ("2026-11-08 14:00:00", datetime(2026, 11, 8, 14), False),
        ("08/11/2026", datetime(2026, 11, 8), True),
        ("08/11/2026 14h30", datetime(2026, 11, 8, 14, 30), False),
        ("8/11/2026 à 9h", datetime(2026, 11, 8, 9), False),
        ("08.11.2026 14:30", datetime(2026, 11, 8, 14, 30), False),
        ("mardi 8 novembre 2026", datetime(2026, 11, 8), True),
        ("Le jeudi 3 nov. 2026 à 14h30", datetime(2026, 11, 3, 14, 30), False),
        ("1er décembre 2026 14:00", datetime(2026, 12, 1, 14), False),
        ("10 NOVEMBRE 2026 DE 9 H 30", datetime(2026, 11, 10, 9, 30), False),
        ("2 févr. 2027", datetime(2027, 2, 2), True),
    ],
)
def test_parse_local(text, local, all_day):
    parsed = parse_local(text)
    assert (parsed.value, parsed.all_day) == (local, all_day)


@pytest.mark.parametrize("text", ["", "bla", "31/02/2026", "32 novembre 2026", "8 brumaire 2026", "08/11/2026 25h00"])
def test_parse_local_refuses_instead_of_guessing(text):
    with pytest.raises(DateParseError):
        parse_local(text)


@given(st.text(max_size=60))
def test_parse_local_gives_a_date_or_a_clean_error(text):
    with contextlib.suppress(DateParseError):
        parse_local(text)


@pytest.mark.parametrize(
    ("text", "tz", "utc"),
    [
        ("2026-11-08T14:00", "Europe/Paris", "2026-11-08T13:00:00+00:00"),  # winter, UTC+1
        ("2026-07-08T14:00", "Europe/Paris", "2026-07-08T12:00:00+00:00"),  # summer, UTC+2
        ("2026-11-08T14:00", "Indian/Reunion", "2026-11-08T10:00:00+00:00"),
        ("2026-11-08T14:00", "America/Cayenne", "2026-11-08T17:00:00+00:00"),
        ("2026-11-08T14:00:00+01:00", "Indian/Reunion", "2026-11-08T13:00:00+00:00"),  # offset wins
        ("2026-11-08T13:00:00Z", "Europe/Paris", "2026-11-08T13:00:00+00:00"),
    ],
)
def test_to_utc(text, tz, utc):
    assert to_utc(parse_local(text).value, tz).isoformat() == utc


@pytest.mark.parametrize(
    ("structured", "text", "mode"),
    [
        ("offline", "", "in_person"), ("https://schema.org/OnlineEventAttendanceMode", "", "online"),
        ("mixed", "", "hybrid"), ("2", "", "online"), ("Hybride (sur place et en ligne)", "", "hybrid"),
        (None, "Webinaire : l'IA", "online"), (None, "Atelier en visio", "online"),
        (None, "Rencontre en présentiel", "in_person"), (None, "Atelier design", "unknown"),
    ],
)  # fmt: skip
def test_attendance_mode(structured, text, mode):
    assert classify.attendance_mode(structured, text) == mode


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("Atelier : design", "atelier"), ("Conférence d'ouverture", "conference"), ("Table ronde : achats", "table_ronde"),
        ("Webinaire IA", "webinaire"), ("Formation : entretien", "formation"), ("Exposition des lauréats", "exposition"),
        ("Visite du lab", "visite"), ("Démonstration du guichet", "demonstration"), ("Simplificathon", "hackathon"),
        ("Débat citoyen", "debat_citoyen"), ("Clôture du mois", "autre"),
    ],
)  # fmt: skip
def test_event_type(text, kind):
    assert classify.event_type(None, text) == kind


def test_status():
    assert classify.status("CANCELLED", "x") == "cancelled"
    assert classify.status("https://schema.org/EventPostponed", "x") == "postponed"
    assert classify.status(None, "ANNULÉ – Atelier") == "cancelled"
    assert classify.status(None, "Atelier") == "scheduled"
