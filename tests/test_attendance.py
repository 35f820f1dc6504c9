"""Attendance mode from words only in context, measured on 500 real events labelled by hand.

The texts are the OpenAgenda records of ../shared/data/real/ (not committed); the labels are ours
(tests/fixtures/attendance/idf-500-labels.csv: the publisher's value, overridden where the text says
otherwise, every record with a remote or hybrid word reviewed by hand). Only the words are judged
here: the publisher's structured value is not given to the classifier.
"""

import csv
import json

import pandas as pd
import pytest
from conftest import FIXTURES, attendance_mode

from aggregator.normalise import classify
from aggregator.normalise.text import clean_text, fold_column, join_words

LABELS = FIXTURES / "attendance" / "idf-500-labels.csv"


def _texts(shared_dir):
    records = json.loads((shared_dir / "data" / "real" / "openagenda-opendatasoft-idf-500.json").read_text())

    def keywords(value):
        return ", ".join(value) if isinstance(value, list) else value

    frame = pd.DataFrame(
        {
            "uid": [r["uid"] for r in records],
            "title": [r.get("title_fr") for r in records],
            "keywords": [keywords(r.get("keywords_fr")) for r in records],
            "description": [clean_text(r.get("longdescription_fr") or r.get("description_fr")) for r in records],
            "venue": [r.get("location_name") for r in records],
        }
    )
    return frame


def test_the_labelled_set_is_large_enough():
    with LABELS.open(encoding="utf-8") as handle:
        labels = list(csv.DictReader(handle))
    assert len(labels) >= 300
    assert {row["label"] for row in labels} == {"in_person", "online", "hybrid"}


def test_online_and_hybrid_from_words_are_precise(shared_dir):
    frame = _texts(shared_dir)
    labels = pd.read_csv(LABELS, dtype=str).set_index("uid")["label"]
    venue = fold_column(frame["venue"])
    # As normalisation does: title, keywords, the description's first 500 characters, the venue.
    description = fold_column(frame["description"].str.slice(0, 500))
    text = join_words(fold_column(frame["title"]), fold_column(frame["keywords"]), description, venue)
    predicted = classify.attendance_modes(pd.Series([None] * len(frame), dtype=object), text, venue)
    truth = frame["uid"].map(labels)
    report = {}
    for mode in ("online", "hybrid"):
        said = predicted == mode
        right = said & (truth == mode)
        report[mode] = (int(said.sum()), int(right.sum()), int((truth == mode).sum()))
    print("predicted, right, labelled:", report)
    online_said, online_right, _ = report["online"]
    hybrid_said, hybrid_right, _ = report["hybrid"]
    assert online_said and online_right / online_said >= 0.98
    assert hybrid_said == 0 or hybrid_right / hybrid_said >= 0.98
    # Adjectives and online services never make an event online or hybrid.
    wrong = frame[(predicted.isin(["online", "hybrid"])) & (truth == "in_person")]
    assert wrong.empty, wrong["title"].tolist()


@pytest.mark.parametrize(
    ("text", "mode"),
    [
        ("Conférence : la guerre hybride", "unknown"), ("Une œuvre hybride entre danse et vidéo", "unknown"),
        ("Récital de l'accordéoniste hybride", "unknown"), ("Orchestre live", "unknown"),
        ("NUIT ÉLECTRO LIVE AU SHOWCASE", "unknown"), ("Inscription en ligne obligatoire", "unknown"),
        ("Développer votre présence en ligne", "unknown"), ("Billetterie en ligne", "unknown"),
        ("Conférence en ligne : l'IA", "online"), ("Atelier en visio", "online"), ("Webinaire RH", "online"),
        ("Rejoignez-nous via Zoom", "online"), ("Exposition virtuelle", "online"), ("100 % en ligne", "online"),
        ("Format hybride", "hybrid"), ("En présentiel ou à distance", "hybrid"), ("Sur place et en ligne", "hybrid"),
        ("Réunion hybride (présentiel et visio)", "hybrid"),
    ],
)  # fmt: skip
def test_format_phrases_not_adjectives(text, mode):
    assert attendance_mode(None, text) == mode
