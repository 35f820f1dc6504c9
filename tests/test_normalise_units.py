"""Text, dates, geography and classification rules, table-driven, plus property-based checks."""

import contextlib
from datetime import date, datetime

import pandas as pd
import pyarrow as pa
import pytest
from conftest import attendance_mode, event_type, status
from hypothesis import example, given
from hypothesis import strategies as st

from aggregator.normalise.datecols import _read_column, _read_span
from aggregator.normalise.dates import DateParseError, parse_local, to_utc
from aggregator.normalise.text import (
    _clean,
    clean_column,
    clean_text,
    clean_url,
    fold,
    fold_column,
    fold_strings,
    join_words,
    place_key,
    place_keys,
)


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
        # Markup hidden under entities is stripped once decoded; scripts go with their code.
        ("&lt;script&gt;alert(1)&lt;/script&gt;&lt;b&gt;Atelier&lt;/b&gt;", "Atelier"),
        ("&amp;lt;i&amp;gt;Atelier&amp;lt;/i&amp;gt; 2026", "Atelier 2026"),
        ("<style>p {color: red}</style>Atelier", "Atelier"),
        ("1 &lt; 2 &amp;&amp; 3 &gt; 2", "1 < 2 && 3 > 2"),  # comparisons are not tags
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


@given(st.text())
def test_clean_text_fast_path_gives_what_the_full_cleaning_gives(value):
    assert clean_text(value) == _clean(value)


# Words of clean French text, and what makes a text unclean: markup, entities, whitespace but the
# space, a decomposed accent; then any character up to the euro sign.
WORDS = ["Atelier", "données", "L’État", "5 €", "«", "–", "…", "œ", " ", "9h30", "a-b", "Ÿ"]
UNCLEAN = [
    "<b>",
    "</p>",
    "&amp;",
    "&lt;i&gt;",
    "&#39;",
    "  ",
    "\n",
    "\t",
    "e\u0301",
    "\u00a0",
    "\u00ad",
    "\u202f",
    "<",
    ">",
]
PIECES = st.sampled_from([*WORDS, *UNCLEAN]) | st.characters(max_codepoint=0x20AC)
TEXTS = st.lists(PIECES, max_size=8).map("".join)


@given(st.lists(st.none() | TEXTS, max_size=30), st.integers(min_value=1, max_value=40))
@example(["Atelier : données", "Atelier : données", " Atelier", "Atelier ", "a  b", "Œuvre – 5 €", "", "x" * 50], 20)
@example(["<b>Atelier</b>", "Atelier &amp; données", "L&#39;État", "a&lt;i&gt;b", "a < b", "a > b"], 40)
@example(["Atelier", 7, None, "a<b"], 40)  # not only text: every value read by clean_text
def test_clean_column_is_clean_text_of_each_value_cut_to_the_longest(values, longest):
    series = pd.Series(values, index=range(5, 5 + len(values)), dtype=object)
    cleaned = clean_column(series, longest)
    assert cleaned.index.equals(series.index) and cleaned.dtype == object
    assert cleaned.tolist() == [clean_text(v[:longest] if isinstance(v, str) else v) for v in values]


def test_clean_column_finds_every_character_that_makes_a_text_unclean():
    # Each character of the Basic Multilingual Plane, alone, between words, doubled and at either
    # end: what Arrow keeps as it is must be what clean_text keeps.
    characters = [chr(c) for c in range(0x10000) if not 0xD800 <= c <= 0xDFFF]
    values = [form.format(c) for c in characters for form in ("{0}", "Atelier {0}b", "a{0}{0}b", " {0}", "{0} ")]
    series = pd.Series(values, dtype=object)
    assert clean_column(series, 100).tolist() == [clean_text(v) for v in values]


def test_fold_ignores_accents_case_punctuation():
    assert fold("ATELIER – Désign des services publics !") == fold("atelier : design des services publics")


def test_fold_separates_words_at_any_apostrophe():
    # "L’atelier" (typographic apostrophe, as word processors write it) must match "atelier".
    assert fold("L’Atelier") == fold("L'atelier") == "l atelier"
    assert fold("Œuvre ẞ Straße") == "oeuvre ss strasse"


# French text and then some: Latin-1, Latin Extended-A, typographic punctuation, ligatures, spaces.
FRENCH_ISH = st.text(
    st.characters(codec="utf-8", categories=("L", "M", "N", "P", "S", "Z", "Cc"), max_codepoint=0x24F)
    | st.sampled_from("’‘“”«»–—…œŒæÆßẞﬁﬂ\u00a0\u202f\u0301\u0327")
)


@given(st.lists(st.none() | FRENCH_ISH, max_size=20))
def test_fold_strings_is_fold_on_a_column(values):
    assert fold_strings(pa.array(values, pa.string())).to_pylist() == [fold(v) for v in values]


PLACE_PARTS = st.sampled_from(
    ["L'", "Le ", "la ", "LES ", "St-", "Ste ", "sts ", " Cedex", " CEDEX 9", " cedex 12", "-"]
)


@given(st.lists(st.none() | st.integers() | FRENCH_ISH | st.lists(PLACE_PARTS | FRENCH_ISH).map("".join), max_size=20))
@example(["Bordeaux Cedex 9", "St-Émilion", "L'Haÿ-les-Roses", "Cedex", "La", None, "Cedex 9", "ŒUVRE", 7])
def test_place_keys_is_place_key_on_a_column(values):
    series = pd.Series(values, index=range(3, 3 + len(values)), dtype=object)
    keys = place_keys(series)
    assert keys.index.equals(series.index) and keys.dtype == object
    assert keys.tolist() == [None if v is None else place_key(v) for v in values]
    text = [v for v in values if not isinstance(v, int)]  # text alone: folded by Arrow
    assert place_keys(pd.Series(text, dtype="str")).tolist() == [None if v is None else place_key(v) for v in text]


@given(st.lists(st.tuples(st.none() | FRENCH_ISH, st.none() | FRENCH_ISH, st.none() | FRENCH_ISH), max_size=20))
def test_joined_folded_columns_are_the_fold_of_the_joined_text(rows):
    columns = [fold_column(pd.Series(list(column), dtype=object)) for column in zip(*rows, strict=True)] if rows else []
    expected = [fold(" ".join(part for part in row if part is not None)) for row in rows]
    assert (join_words(*columns).to_pylist() if rows else []) == expected


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
    assert attendance_mode(structured, text) == mode


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
    assert event_type(None, text) == kind


def test_status():
    assert status("CANCELLED", "x") == "cancelled"
    assert status("https://schema.org/EventPostponed", "x") == "postponed"
    assert status(None, "ANNULÉ – Atelier") == "cancelled"
    assert status(None, "Atelier") == "scheduled"


ZONES = ["Europe/Paris", "America/Cayenne", "Indian/Reunion", "Pacific/Noumea", "America/Santiago", "Asia/Beirut"]
# Dates around DST changes (including zones whose clocks change at midnight), valid or not.
ISO_TEXTS = st.builds(
    lambda y, m, d, time: f"{y:04d}-{m:02d}-{d:02d}{time}",
    st.sampled_from([1990, 2022, 2026]),
    st.sampled_from([1, 3, 4, 9, 10, 11]),
    st.integers(1, 31),
    st.sampled_from(
        ["", "T00:00", "T00:30", "T02:00", "T02:30", "T03:00", "T23:59", " 14:00:00", "T24:00", "T02:30:59"]
    ),
)


@given(st.lists(st.tuples(ISO_TEXTS, st.sampled_from(ZONES)), min_size=1, max_size=30))
@example([("2026-03-29T02:30", "Europe/Paris"), ("2026-10-25T02:30", "Europe/Paris"), ("2026-11-08", "Europe/Paris")])
@example(
    [("2022-09-11", "America/Santiago"), ("2022-09-10", "America/Santiago"), ("2022-09-11T00:30", "America/Santiago")]
)
@example([("2026-02-30", "Europe/Paris"), ("2026-11-01T24:00", "Pacific/Noumea")])
def test_bulk_reading_of_iso_dates_is_the_scalar_reading(rows):
    texts = pd.Series([t for t, _ in rows], dtype=object)
    zones = pd.Series([z for _, z in rows], dtype=object)
    reference = pd.Series([date(2026, 11, 1)] * len(rows), dtype=object)
    bulk = _read_column(texts, zones, reference, search=False)
    for i, (text, zone) in enumerate(rows):
        start, end, all_day, error = _read_span(text, zone, date(2026, 11, 1))
        row = bulk.iloc[i]
        assert (row["start"] if pd.notna(row["start"]) else None) == start, (text, zone)
        assert (row["end"] if pd.notna(row["end"]) else None) == end, (text, zone)
        assert (bool(row["all_day"]), None if pd.isna(row["error"]) else row["error"]) == (all_day, error), (text, zone)


@given(st.text(), st.integers(min_value=2, max_value=400))
def test_truncate_keeps_a_marked_prefix_within_the_limit(text, limit):
    from aggregator.normalise.text import truncate

    cut = truncate(text, limit)
    assert len(cut) <= limit
    if len(text) <= limit:
        assert cut == text
    else:
        assert cut.endswith("…") and text.startswith(cut[:-1])


def test_deeply_nested_entities_end_in_bounded_time_and_clean_text_stays_final():
    junk = "x &" + "amp;" * 100_000 + "lt;b&gt;"
    once = clean_text(junk)
    assert once is not None and "<" not in once and clean_text(once) == once
