"""French typography: the one function, table-driven, and every French sentence the project writes."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import pytest
from conftest import FIXTURES, write_config
from hypothesis import given
from hypothesis import strategies as st

from aggregator.config import load_config
from aggregator.french import NBSP, NNBSP, typography
from aggregator.pipeline import run
from aggregator.run_report import outputs_sentence

CASES = [
    # (as written, as French typography wants it)
    ("Données au 1 décembre 2026", f"Données au 1er{NBSP}décembre 2026"),
    ("le 1 mai", f"le 1er{NBSP}mai"),
    ("le 11 décembre, le 21 mai", "le 11 décembre, le 21 mai"),  # only the first of the month
    ("à 06 h 00", f"à 6{NBSP}h{NBSP}00"),
    ("à 18 h 37", f"à 18{NBSP}h{NBSP}37"),
    ("à 00 h 15", f"à 0{NBSP}h{NBSP}15"),
    ("Mois de l'innovation publique", "Mois de l\u2019innovation publique"),
    ("aujourd'hui d'abord", "aujourd\u2019hui d\u2019abord"),
    ("'guillemets simples'", "'guillemets simples'"),  # not between letters: left alone
    ("Par région : 4", f"Par région{NBSP}: 4"),
    ("Lieu: Paris", f"Lieu{NBSP}: Paris"),
    ("https://exemple.fr/a?b=1", "https://exemple.fr/a?b=1"),  # URLs untouched
    ("de 18:30 à 20:00", "de 18:30 à 20:00"),  # clock times untouched
    ("un ; deux", f"un{NNBSP}; deux"),
    ("Vraiment ?", f"Vraiment{NNBSP}?"),
    ("Attention!", f"Attention{NNBSP}!"),
    ("12,5 %", f"12,5{NNBSP}%"),
    ("« citation »", f"«{NBSP}citation{NBSP}»"),
    ("«citation»", f"«{NBSP}citation{NBSP}»"),
    ("12 345 événements", f"12{NNBSP}345 événements"),
    ("1 234 567 annonces", f"1{NNBSP}234{NNBSP}567 annonces"),
    ("en 2025 et 2026", "en 2025 et 2026"),
    ("0 événement en Guyane", "Aucun événement en Guyane"),
    ("10 événements. 0 annonce", "10 événements. Aucune annonce"),
    ("Guyane (973) : 0 événement", f"Guyane (973){NBSP}: aucun événement"),
    ("10 événements, 20 doublons", "10 événements, 20 doublons"),
    ("0 ligne écartée", "Aucune ligne écartée"),
    ("1,0 événement", "1,0 événement"),  # a decimal is no count of zero
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_typography(text, expected):
    assert typography(text) == expected
    assert typography(expected) == expected  # idempotent


@given(st.text(alphabet="ab '0123456789:;!?%«»h.,éàdécembre", max_size=40))
def test_typography_is_idempotent(text):
    once = typography(text)
    assert typography(once) == once


def badly_set(text: str) -> list[str]:
    """What French typography forbids in ``text`` (empty when it is well set)."""
    faults = []
    if re.search(r"[^\W\d_]'[^\W\d_]", text):
        faults.append("straight apostrophe")
    if re.search(r"(?<!\d) [:;!?»%]|« ", text):
        faults.append("breaking space around punctuation")
    if re.search(r"\b1 (janvier|février|mars|avril|mai|juin|juillet|août|septembre|octobre|novembre|décembre)", text):
        faults.append("1 instead of 1er")
    if re.search(r"\b0\d\s?h\s?\d\d", text):
        faults.append("hour with a leading zero")
    if re.search(r"(?<![\d,])\b0\s(événement|annonce|doublon|ligne)", text):
        faults.append("0 instead of aucun")
    if typography(text) != text:
        faults.append("not a fixed point of typography()")
    return faults


class _Text(HTMLParser):
    """The report's own text: everything but the cells of the upcoming events (titles are the sources')."""

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []
        self.section = ""
        self.in_td = False
        self.in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.in_td = tag == "td"
        self.in_style = tag == "style"
        if tag == "img":
            self.texts.append(dict(attrs).get("alt") or "")

    def handle_data(self, data: str) -> None:
        if (self.section == "Prochains événements" and self.in_td) or self.in_style:
            return
        if data.strip():
            self.texts.append(data.strip())

    def handle_endtag(self, tag: str) -> None:
        if tag == "h2":
            self.section = self.texts[-1]
        self.in_td = self.in_style = False


def test_every_french_sentence_the_project_writes_is_well_set(tmp_path):
    # One source placing events in a few regions: Guyane, Martinique and Mayotte get no event ("aucun").
    path = write_config(
        tmp_path, f"sources:\n  - {{id: lab, kind: ical, url: {FIXTURES / 'ical' / 'lab-calendar.ics'}}}\n"
    )
    out = tmp_path / "out"
    assert run(load_config(path), out).status == "success"
    totals = json.loads((out / "totals.json").read_text(encoding="utf-8"))
    sentences = [totals["data_as_of_fr"], totals["headline"], *totals["sentences"].values()]
    sentences += [r["sentence"] for r in totals["regions"]]
    assert any(s.startswith("Aucun événement") for s in sentences)
    lines = [line for line in (out / "totals.md").read_text(encoding="utf-8").splitlines() if line.strip()]
    parser = _Text()
    parser.feed((out / "report.html").read_text(encoding="utf-8"))
    assert len(parser.texts) > 60 and any("Méthode" in t for t in parser.texts)
    cli = [outputs_sentence("/data"), outputs_sentence("/data", people_files=False)]
    everything = sentences + lines + parser.texts + cli
    faults = {text: badly_set(text) for text in everything if badly_set(text)}
    assert not faults


def test_the_fault_finder_finds_faults():
    # The check above must be able to fail: each old way of writing is caught.
    for text in ("Mois de l'innovation", "Par région : 4", "1 décembre", "06 h 00", "0 événement en Guyane"):
        assert badly_set(text), text
