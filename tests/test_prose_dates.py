"""French dates written as prose: at least 40 real-world phrasings, table-driven."""

from datetime import date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aggregator.normalise.dates import DateParseError
from aggregator.normalise.prose import parse_french

REF = date(2022, 10, 15)  # the listing pages were read in October 2022
D = datetime

# text -> (start, end or None, all_day)
CASES = [
    ("mardi 8 novembre 2022 de 14h à 16h30", (D(2022, 11, 8, 14), D(2022, 11, 8, 16, 30), False)),
    ("Le jeudi 03/11 de 16h15 à 18h15", (D(2022, 11, 3, 16, 15), D(2022, 11, 3, 18, 15), False)),
    ("du 2 au 30 novembre 2022", (D(2022, 11, 2), D(2022, 11, 30), True)),
    ("8 nov. 2022 - 9h30", (D(2022, 11, 8, 9, 30), None, False)),
    ("le 8/11 à 14 h", (D(2022, 11, 8, 14), None, False)),
    ("8 novembre 2022, toute la journée", (D(2022, 11, 8), None, True)),
    ("Mardi 8 novembre 2022 - Toute la journée", (D(2022, 11, 8), None, True)),
    ("Jeudi 10 novembre 2022", (D(2022, 11, 10), None, True)),
    ("10 novembre", (D(2022, 11, 10), None, True)),
    ("le 10 novembre à 9h", (D(2022, 11, 10, 9), None, False)),
    ("Le 10 novembre de 9h à 12h", (D(2022, 11, 10, 9), D(2022, 11, 10, 12), False)),
    ("10/11/2022 14:00 - 16:00", (D(2022, 11, 10, 14), D(2022, 11, 10, 16), False)),
    ("10/11/22 de 9h30 à 11h", (D(2022, 11, 10, 9, 30), D(2022, 11, 10, 11), False)),
    ("10.11.2022 à 14h", (D(2022, 11, 10, 14), None, False)),
    ("1er décembre 2022", (D(2022, 12, 1), None, True)),
    ("Jeudi 1er décembre à 18h30", (D(2022, 12, 1, 18, 30), None, False)),
    ("du 28 novembre au 2 décembre 2022", (D(2022, 11, 28), D(2022, 12, 2), True)),
    ("Du lundi 7 au vendredi 11 novembre 2022", (D(2022, 11, 7), D(2022, 11, 11), True)),
    ("du 28/11 au 02/12", (D(2022, 11, 28), D(2022, 12, 2), True)),
    ("du 28 décembre au 3 janvier", (D(2022, 12, 28), D(2023, 1, 3), True)),
    ("du 2 au 4 novembre 2022 de 9h à 17h", (D(2022, 11, 2, 9), D(2022, 11, 4, 17), False)),
    ("du 8 novembre 2022 à 14h au 9 novembre 2022 à 12h", (D(2022, 11, 8, 14), D(2022, 11, 9, 12), False)),
    ("8-9 novembre 2022", (D(2022, 11, 8), D(2022, 11, 9), True)),
    ("les 8 et 9 novembre 2022", (D(2022, 11, 8), D(2022, 11, 9), True)),
    ("Mercredi 16 novembre 2022, 14h – 17h", (D(2022, 11, 16, 14), D(2022, 11, 16, 17), False)),
    ("16 novembre 2022 | 14h00-17h00", (D(2022, 11, 16, 14), D(2022, 11, 16, 17), False)),
    ("Mer. 16 nov. 2022 14h", (D(2022, 11, 16, 14), None, False)),
    ("16 NOVEMBRE 2022 À 14H30", (D(2022, 11, 16, 14, 30), None, False)),
    ("Le 16 novembre 2022 à 14 h 30", (D(2022, 11, 16, 14, 30), None, False)),
    ("16 novembre 2022 de 9 h à 12 h 30", (D(2022, 11, 16, 9), D(2022, 11, 16, 12, 30), False)),
    ("16 novembre de 12h à 14h", (D(2022, 11, 16, 12), D(2022, 11, 16, 14), False)),
    ("le 16 novembre de midi à 14h", (D(2022, 11, 16, 12), D(2022, 11, 16, 14), False)),
    ("vendredi 18 novembre 2022 de 22h à 2h", (D(2022, 11, 18, 22), D(2022, 11, 19, 2), False)),
    ("Samedi 19 novembre 2022 entre 10h et 12h", (D(2022, 11, 19, 10), D(2022, 11, 19, 12), False)),
    ("18 nov 2022", (D(2022, 11, 18), None, True)),
    ("18 sept. 2022", (D(2022, 9, 18), None, True)),
    ("2 févr. 2023 à 10h", (D(2023, 2, 2, 10), None, False)),
    ("5 janvier", (D(2023, 1, 5), None, True)),  # closest to the reference: next January
    ("12 août", (D(2022, 8, 12), None, True)),  # closest: last August
    ("Jusqu'au 30 novembre 2022", (D(2022, 11, 30), None, True)),
    ("Le mardi 22 novembre 2022 à partir de 18h", (D(2022, 11, 22, 18), None, False)),
    ("Dès 9h le 24 novembre", (D(2022, 11, 24, 9), None, False)),
    ("24/11 9h-12h", (D(2022, 11, 24, 9), D(2022, 11, 24, 12), False)),
    ("jeudi 24 novembre, 9h30-12h30 (en ligne)", (D(2022, 11, 24, 9, 30), D(2022, 11, 24, 12, 30), False)),
    ("29 février 2024", (D(2024, 2, 29), None, True)),
    ("2022-11-16 16h", (D(2022, 11, 16, 16), None, False)),  # an ISO day joined with a French time
    ("2022-11-16 de 14h à 17h30", (D(2022, 11, 16, 14), D(2022, 11, 16, 17, 30), False)),
]

REJECTED = [
    ("14h-16h", "no date"),
    ("toute la journée", "no date"),
    ("prochainement", "no date"),
    ("les 8 et 15 novembre et le 2 décembre", "several dates"),
    ("31 novembre 2022", "invalid date"),
    ("29 février 2023", "invalid date"),
    ("le 8 à 14h", "no month"),
    ("8 novembre 2022 à 25h", "invalid time"),
    ("du 30 novembre 2022 au 2 novembre 2022", "ends before it starts"),
]


def test_there_are_at_least_forty_phrasings():
    assert len(CASES) >= 40


@pytest.mark.parametrize(("text", "expected"), CASES, ids=[c[0] for c in CASES])
def test_phrasing(text, expected):
    span = parse_french(text, REF)
    assert (span.start, span.end, span.all_day) == expected


@pytest.mark.parametrize(("text", "reason"), REJECTED, ids=[c[0] for c in REJECTED])
def test_refused_rather_than_guessed(text, reason):
    with pytest.raises(DateParseError, match=reason):
        parse_french(text, REF)


@given(st.text(max_size=80))
def test_any_text_gives_a_span_or_a_clean_error(text):
    try:
        span = parse_french(text, REF)
    except DateParseError:
        return
    assert span.end is None or span.end >= span.start
