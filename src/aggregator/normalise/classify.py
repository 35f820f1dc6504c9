"""Attendance mode, event type and status from structured values or French keywords."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from aggregator.frames import map_distinct
from aggregator.normalise.text import fold, fold_column, join_words

# Structured values seen in sources (schema.org, OpenAgenda codes, French words), folded.
ATTENDANCE_VALUES = {
    "offline": "in_person", "in person": "in_person", "in_person": "in_person", "presentiel": "in_person",
    "sur place": "in_person", "offlineeventattendancemode": "in_person", "1": "in_person",
    "online": "online", "en ligne": "online", "distanciel": "online", "onlineeventattendancemode": "online",
    "2": "online", "virtual": "online",
    "mixed": "hybrid", "hybrid": "hybrid", "hybride": "hybrid", "mixedeventattendancemode": "hybrid",
    "3": "hybrid",
}  # fmt: skip
# Attendance from words only where they name the event's format: "webinaire", "en visio", "conférence
# en ligne", "format hybride", "en présentiel ou à distance". An adjective ("œuvre hybride", "orchestre
# live") or an online service around an event ("inscription en ligne", "présence en ligne") is not one.
# Texts are folded (accents off, lowercase, punctuation as spaces); RE2 syntax (no look-behind).
FORMAT_NOUNS = (
    r"(evenement|evenements|conference|conferences|atelier|ateliers|session|sessions|formation|formations|reunion|"
    r"reunions|rencontre|rencontres|table ronde|seminaire|seminaires|cours|visite|visites|exposition|expo|"
    r"projection|permanence|debat|echange|echanges|quiz|concert|salon|forum|journee|colloque|soiree|live|"
    r"presentation|meetup|masterclass|entretien|entretiens|jeu)"
)
REMOTE = r"(en ligne|a distance|en distanciel|distanciel|en visio|en visioconference|visio|en virtuel)"
PRESENT = r"(en presentiel|presentiel|sur place|en physique)"
# Registration, tickets and the like done online say nothing of how the event is attended.
ONLINE_SERVICES = re.compile(
    r"\b(inscriptions?|reservations?|billetterie|billets?|tickets?|achat|vente|paiement|candidatures?|"
    r"formulaire|demarches?|presence|references|catalogue|disponibles?|consultables?|publiee?s?|boutique)"
    r"( [a-z]+){0,3} (sur place (et|ou) en ligne|en ligne (et|ou) sur place|en ligne)\b"
)
ONLINE_WORDS = re.compile(
    r"\b(webinaires?|webinars?|visioconferences?|en visio|par visio|visio de|^visio|en distanciel|a distance|"
    rf"{FORMAT_NOUNS} (100 )?(en ligne|virtuelle?s?|a distance|en distanciel|en visio)|"
    r"(100|entierement|uniquement|exclusivement) en ligne|en ligne (uniquement|seulement|via|sur zoom|sur teams)|"
    r"(se deroule|se deroulera|aura lieu|a suivre|a lieu|participez|participer|rejoignez|rejoindre|suivez|suivre)"
    r" (en ligne|a distance|en visio)|"
    r"zoom us|via zoom|sur zoom|lien zoom|teams microsoft|via teams|sur teams|lien teams|meet google|google meet|"
    r"jitsi|webex|livestorm|whereby|gotomeeting|livestream|live stream|"
    r"en live sur|(en direct|live) (sur|via) (youtube|facebook|twitch|instagram|linkedin)|"
    r"exposition virtuelle|visite virtuelle|salon virtuel|evenement virtuel|en virtuel)\b"
)
HYBRID_WORDS = re.compile(
    rf"\b(format hybride|en hybride|mode hybride|formule hybride|{FORMAT_NOUNS} (en )?hybride|hybride {PRESENT}|"
    rf"hybride {REMOTE}|{PRESENT} (et|ou|ou bien) {REMOTE}|{REMOTE} (et|ou|ou bien) {PRESENT}|"
    r"presentiel distanciel|presentiel visio|(en agence|sur site) (et|ou) en (format )?(webinaire|visio|ligne))\b"
)
# A place that is itself a way of attending remotely ("En ligne", "Visioconférence", "Zoom").
REMOTE_PLACE = re.compile(
    r"^(en ligne|online|internet|webinaire|webinar|visio|visioconference|a distance|distanciel|en distanciel|"
    r"zoom|teams|google meet|youtube|twitch)$"
)
INPERSON_WORDS = re.compile(r"\b(en presentiel|sur place)\b")

# Ordered: the first matching rule wins, so specific formats come before generic ones.
TYPE_RULES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(pattern))
    for name, pattern in (
        ("hackathon", r"\b(hackathon|simplificathon|datathon|game jam|marathon du code)\b"),
        ("webinaire", r"\b(webinaire|webinar|web conference)\b"),
        ("table_ronde", r"\b(table ronde|tables rondes|panel)\b"),
        (
            "debat_citoyen",
            r"\b(debat|debats|concertation|consultation citoyenne|convention citoyenne)\b",
        ),
        ("formation", r"\b(formation|mooc|apprendre a|initiation|courseinstance|educationevent)\b"),
        (
            "atelier",
            r"\b(atelier|ateliers|workshop|design sprint|co construction|coconstruction|fresque)\b",
        ),
        (
            "conference",
            r"\b(conference|conferences|keynote|colloque|seminaire|rencontre|rencontres)\b",
        ),
        ("exposition", r"\b(exposition|expo|exhibition|exhibitionevent)\b"),
        ("visite", r"\b(visite|visites|portes ouvertes|porte ouverte)\b"),
        ("demonstration", r"\b(demonstration|demo|showroom|presentation de|salon)\b"),
    )
)
STATUS_VALUES = {
    "scheduled": "scheduled", "confirmed": "scheduled", "1": "scheduled", "eventscheduled": "scheduled",
    "programme": "scheduled",
    "rescheduled": "rescheduled", "2": "rescheduled", "eventrescheduled": "rescheduled", "reporte": "postponed",
    "moved_online": "moved_online", "3": "moved_online", "eventmovedonline": "moved_online",
    "postponed": "postponed", "4": "postponed", "eventpostponed": "postponed",
    "full": "scheduled", "5": "scheduled", "complet": "scheduled",
    "cancelled": "cancelled", "canceled": "cancelled", "6": "cancelled", "eventcancelled": "cancelled",
    "annule": "cancelled",
}  # fmt: skip
CANCELLED_WORDS = re.compile(r"^(annule|annulation|cancelled)\b")


def _last_segment(value: str) -> str:
    # "https://schema.org/OnlineEventAttendanceMode" -> "onlineeventattendancemode"
    return fold(value.rstrip("/").rsplit("/", 1)[-1]).replace(" ", "")


def _known_mode(structured: object) -> str | None:
    if not isinstance(structured, str) or not structured:
        return None
    return ATTENDANCE_VALUES.get(fold(structured)) or ATTENDANCE_VALUES.get(_last_segment(structured))


def _known_status(structured: object) -> str | None:
    if not isinstance(structured, str) or not structured:
        return None
    return STATUS_VALUES.get(fold(structured).replace(" ", "_")) or STATUS_VALUES.get(_last_segment(structured))


def _first_type(folded: str) -> str | None:
    return next((name for name, pattern in TYPE_RULES if pattern.search(folded)), None)


def _matches(folded: pa.ChunkedArray, pattern: re.Pattern[str]) -> np.ndarray:
    # The patterns use only what RE2 shares with ``re`` (alternation, \b on ASCII text, ^).
    hits = pc.fill_null(pc.match_substring_regex(folded, pattern.pattern), False)
    return np.asarray(hits.to_numpy(zero_copy_only=False), dtype=bool)


def attendance_modes(
    structured: pd.Series, folded_text: pa.ChunkedArray, folded_place: pa.ChunkedArray | None = None
) -> pd.Series:
    """Attendance mode per row: the structured value when known, else French words of the text.

    A structured value that is not a known code is read as free text in front of the text
    ("Hybride (sur place et en ligne)").

    Args:
        structured: The source's attendance field (codes, schema.org URLs, French words) or None.
        folded_text: Folded text to search (``fold_column``/``join_words`` of title, keywords,
            description, venue), aligned with ``structured``.
        folded_place: Folded venue names: a venue that is a way of attending remotely ("En ligne")
            makes the row online.

    Returns:
        ``in_person``, ``online``, ``hybrid`` or ``unknown`` per row.
    """
    known = map_distinct(structured, _known_mode)
    free = known.isna() & structured.notna() & (structured.astype("object") != "")
    folded = join_words(fold_column(structured.where(free)), folded_text)
    folded = pc.replace_substring_regex(folded, ONLINE_SERVICES.pattern, " ")
    result = np.where(_matches(folded, INPERSON_WORDS), "in_person", "unknown").astype(object)
    result[_matches(folded, ONLINE_WORDS)] = "online"  # later rules win: hybrid > online > in person
    if folded_place is not None:
        result[_matches(folded_place, REMOTE_PLACE)] = "online"
    result[_matches(folded, HYBRID_WORDS)] = "hybrid"
    return known.where(known.notna(), pd.Series(result, index=structured.index))


def event_types(structured: pd.Series, folded_text: pa.ChunkedArray) -> pd.Series:
    """Event type per row from the taxonomy: the structured value's keywords first, then the text's.

    Args:
        structured: The source's category field, or None.
        folded_text: Folded title and keywords, aligned with ``structured``.

    Returns:
        A ``TYPE_RULES`` name or ``autre`` per row.
    """
    from_structured = map_distinct(structured, lambda v: _first_type(fold(v)))
    result = np.full(len(structured), "autre", dtype=object)
    for name, pattern in reversed(TYPE_RULES):  # reversed: the first rule that matches is written last
        result[_matches(folded_text, pattern)] = name
    return from_structured.where(from_structured.notna(), pd.Series(result, index=structured.index))


def statuses(structured: pd.Series, folded_title: pa.ChunkedArray) -> pd.Series:
    """Status per row: the structured value when known, else 'ANNULÉ' at the start of the title.

    Args:
        structured: The source's status field, or None.
        folded_title: Folded titles, aligned with ``structured``.

    Returns:
        A schema status per row (``scheduled`` unless told otherwise).
    """
    known = map_distinct(structured, _known_status)
    cancelled = _matches(folded_title, CANCELLED_WORDS)
    guessed = pd.Series(np.where(cancelled, "cancelled", "scheduled"), index=structured.index, dtype=object)
    return known.where(known.notna(), guessed)
