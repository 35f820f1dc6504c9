"""Places written as free text: "Salle Cap Caval - Penmarch" -> venue, street, postal code and city.

Real agendas write a listing's place as one text: ``Place des Anciens Combattants - Loctudy``,
``8 rue Jean Jaurès - Plobannalec-Lesconil``, ``Salle des fêtes de la Solitude Rue de Coulommiers
59500 Douai``, ``Lieu : Le Port - Terrasse panoramique - Guilvinec``. The text is cut at its
separators (`` - ``, ``–``, ``,``, ``;``, ``|``, line breaks) after a "Lieu :" prefix is dropped:

- a postal code anywhere is the postal code; the words after it are the city, those before it in
  its part the street (or the venue when they do not look like a street);
- otherwise the last part that is the name of a French commune (``is_city``) is the city;
- a part that starts with a number or a street word ("rue", "place", "avenue"…) is the street;
- the parts left, in order, are the venue.

Whether a name is a commune's is decided by the caller (``is_city``), so that this module stays a
pure text function; ``geo`` resolves the city to a commune afterwards.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from aggregator.normalise.text import fold

PREFIX = re.compile(r"^\s*(?:lieu|adresse|o[uù]|rendez-vous|rdv)\s*:\s*", re.IGNORECASE)
SEPARATORS = re.compile(r"\s+[-–—]\s+|\s*[,;|\n]\s*|\s*–\s*")
POSTAL = re.compile(r"(?<![\d/.,])\b((?:0[1-9]|[1-8]\d|9[0-8])\d{3})\b(?![\d/.,]\d)")
STREET_WORDS = (
    "rue", "avenue", "av", "bd", "boulevard", "place", "pl", "chemin", "allee", "quai", "impasse", "route",
    "rte", "cours", "square", "esplanade", "parvis", "passage", "sentier", "voie", "faubourg", "fbg",
    "promenade", "rond point", "mail", "lieu dit", "lotissement", "hameau", "zone", "za", "zi", "zac", "bp",
    "cs", "residence", "cite",
)  # fmt: skip
STREET_START = re.compile(r"^(?:\d+\s*(?:bis|ter|[a-d])?\b,?\s*)?(?:" + "|".join(STREET_WORDS) + r")\b")
NUMBERED = re.compile(r"^\d+\s*(?:bis|ter|[a-d])?\b")


@dataclass(frozen=True)
class Place:
    """The parts of a place written as text; None where the text says nothing."""

    venue: str | None = None
    street: str | None = None
    postal_code: str | None = None
    city: str | None = None


def _is_street(part: str) -> bool:
    folded = fold(part)
    return bool(STREET_START.match(folded)) or bool(NUMBERED.match(folded) and len(folded.split()) > 1)


def _split_venue_street(text: str) -> tuple[str | None, str | None]:
    """``"Salle des fêtes de la Solitude Rue de Coulommiers"`` -> venue and street."""
    if _is_street(text):
        return None, text
    words = text.split()
    for k in range(1, len(words)):
        if STREET_START.match(fold(" ".join(words[k:]))):
            return " ".join(words[:k]), " ".join(words[k:])
    return text, None


def split_place(text: str | None, is_city: Callable[[str], bool]) -> Place:
    """Venue, street, postal code and city of a place written as one text (see the module docstring).

    Args:
        text: The place as the source wrote it.
        is_city: Whether a text names a French commune (folded comparison is the caller's).

    Returns:
        The parts found; a text with neither postal code nor commune name is all venue.
    """
    if not text or not text.strip():
        return Place()
    body = PREFIX.sub("", text.strip())
    parts = [p.strip(" .()") for p in SEPARATORS.split(body) if p and p.strip(" .()")]
    for i in range(len(parts) - 1, -1, -1):
        found = POSTAL.search(parts[i])
        if not found:
            continue
        before, after = parts[i][: found.start()].strip(" ,-"), parts[i][found.end() :].strip(" ,-")
        city = after or (parts[i + 1] if i + 1 < len(parts) else None)
        venue_parts = parts[:i]
        venue, street = _split_venue_street(before) if before else (None, None)
        if venue:
            venue_parts = [*venue_parts, venue]
        streets = [p for p in venue_parts if _is_street(p)]
        venues = [p for p in venue_parts if not _is_street(p)]
        return Place(" - ".join(venues) or None, street or (streets[-1] if streets else None), found.group(1), city)
    city_at = next((i for i in range(len(parts) - 1, -1, -1) if is_city(parts[i])), None)
    if city_at is None:
        streets = [p for p in parts if _is_street(p)]
        venues = [p for p in parts if not _is_street(p)]
        return Place(" - ".join(venues) or None, streets[0] if streets else None)
    rest = parts[:city_at] + parts[city_at + 1 :]
    streets = [p for p in rest if _is_street(p)]
    venues = [p for p in rest if not _is_street(p)]
    return Place(" - ".join(venues) or None, streets[0] if streets else None, None, parts[city_at])
