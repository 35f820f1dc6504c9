"""Attendance mode, event type and status from structured values or French keywords."""

from __future__ import annotations

import re

from aggregator.normalise.text import fold

# Structured values seen in sources (schema.org, OpenAgenda codes, French words), folded.
ATTENDANCE_VALUES = {
    "offline": "in_person", "in person": "in_person", "in_person": "in_person", "presentiel": "in_person",
    "sur place": "in_person", "offlineeventattendancemode": "in_person", "1": "in_person",
    "online": "online", "en ligne": "online", "distanciel": "online", "onlineeventattendancemode": "online",
    "2": "online", "virtual": "online",
    "mixed": "hybrid", "hybrid": "hybrid", "hybride": "hybrid", "mixedeventattendancemode": "hybrid",
    "3": "hybrid",
}  # fmt: skip
ONLINE_WORDS = re.compile(r"\b(en ligne|webinaire|webinar|visio|visioconference|distanciel|a distance|live)\b")
HYBRID_WORDS = re.compile(r"\b(hybride|presentiel et (en ligne|distanciel)|sur place et en ligne)\b")
INPERSON_WORDS = re.compile(r"\b(presentiel|sur place)\b")

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


def attendance_mode(structured: str | None, text: str) -> str:
    """Attendance mode from a structured value when known, else from French words in ``text``."""
    if isinstance(structured, str) and structured:
        key = fold(structured)
        mode = ATTENDANCE_VALUES.get(key) or ATTENDANCE_VALUES.get(_last_segment(structured))
        if mode:
            return mode
        text = f"{structured} {text}"  # free text in a structured field ("Hybride (sur place...)")
    folded = fold(text)
    if HYBRID_WORDS.search(folded):
        return "hybrid"
    if ONLINE_WORDS.search(folded):
        return "online"
    if INPERSON_WORDS.search(folded):
        return "in_person"
    return "unknown"


def event_type(structured: str | None, text: str) -> str:
    """Event type from the taxonomy: a structured value first, then keywords of ``text``."""
    for candidate in (structured if isinstance(structured, str) else "", text):
        folded = fold(candidate)
        for name, pattern in TYPE_RULES:
            if pattern.search(folded):
                return name
    return "autre"


def status(structured: str | None, title: str) -> str:
    """Event status from a structured value, or 'ANNULÉ' written at the start of the title."""
    if isinstance(structured, str) and structured:
        found = STATUS_VALUES.get(fold(structured).replace(" ", "_")) or STATUS_VALUES.get(_last_segment(structured))
        if found:
            return found
    return "cancelled" if CANCELLED_WORDS.match(fold(title)) else "scheduled"
