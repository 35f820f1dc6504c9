"""Places written as free text: "Salle Cap Caval - Penmarch" -> venue, street, postal code and city.

Real agendas write a listing's place as one text: ``Place des Anciens Combattants - Loctudy``,
``8 rue Jean Jaurès - Plobannalec-Lesconil``, ``Salle des fêtes de la Solitude Rue de Coulommiers
59500 Douai``, ``Lieu : Le Port - Terrasse panoramique - Guilvinec``. The text is cut at its
separators (`` - ``, ``–``, ``,``, ``;``, ``|``, line breaks) after a "Lieu :" prefix is dropped:

- a postal code anywhere is the postal code; the words after it are the city, those before it in
  its part the street (or the venue when they do not look like a street);
- otherwise the last part that is the name of a French commune (``is_city``) is the city, or the
  last words of the last part ("Salle des Corons Verts à Douai", "Salle des fêtes Lewarde"),
  capitalised and not a word venues are named with ("Salle", "Port", "Gare"…);
- a part that starts with a number or a street word ("rue", "place", "avenue"…) is the street;
- the parts left, in order, are the venue.

Whether a name is a commune's is decided by the caller (``is_city``), so that this module stays a
pure text function; ``geo`` resolves the city to a commune afterwards.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import pandas as pd

from aggregator.frames import map_distinct
from aggregator.normalise.text import fold

PREFIX = re.compile(r"^\s*(?:lieu|adresse|o[uù]|rendez-vous|rdv)\s*:\s*", re.IGNORECASE)
SEPARATORS = re.compile(r"\s+[-–—]\s+|\s*[,;|\n]\s*|\s*–\s*")
HAS_POSTAL = re.compile(r"\b(?:0[1-9]|[1-8]\d|9[0-8])\d{3}\b")
POSTAL = re.compile(r"(?<![\d/.,])\b((?:0[1-9]|[1-8]\d|9[0-8])\d{3})\b(?![\d/.,]\d)")
STREET_WORDS = (
    "rue", "avenue", "av", "bd", "boulevard", "place", "pl", "chemin", "allee", "quai", "impasse", "route",
    "rte", "cours", "square", "esplanade", "parvis", "passage", "sentier", "voie", "faubourg", "fbg",
    "promenade", "rond point", "mail", "lieu dit", "lotissement", "hameau", "zone", "za", "zi", "zac", "bp",
    "cs", "residence", "cite",
)  # fmt: skip
STREET_START = re.compile(r"^(?:\d+\s*(?:bis|ter|[a-d])?\b,?\s*)?(?:" + "|".join(STREET_WORDS) + r")\b")
NUMBERED = re.compile(r"^\d+\s*(?:bis|ter|[a-d])?\b")
# Words venues are named with that are also the names of communes: never a city at the end of a venue.
VENUE_WORDS = {
    "salle", "salles", "port", "bourg", "centre", "gare", "eglise", "chateau", "mairie", "plage", "marche",
    "foyer", "hall", "theatre", "parc", "jardin", "jardins", "espace", "maison", "halle", "halles", "moulin",
    "ferme", "abbaye", "cloitre", "musee", "stade", "pont", "place", "college", "lycee", "ecole", "campus",
    "fete", "fetes", "sports", "sport", "congres", "associations", "association", "quartier", "jeunesse",
    "culture", "familles", "famille", "mer", "lac", "bois", "foret", "fontaine", "arts", "loisirs", "spectacles",
}  # fmt: skip


@dataclass(frozen=True)
class Place:
    """The parts of a place written as text; None where the text says nothing."""

    venue: str | None = None
    street: str | None = None
    postal_code: str | None = None
    city: str | None = None


@lru_cache(maxsize=65536)  # the parts of places repeat (venues, streets, cities) across distinct texts
def _is_street(part: str) -> bool:
    folded = fold(part)
    return bool(STREET_START.match(folded)) or bool(NUMBERED.match(folded) and len(folded.split()) > 1)


def _streets_and_venues(parts: list[str]) -> tuple[list[str], list[str]]:
    """The parts that are streets and those that are not, in order (each part looked at once)."""
    flags = [_is_street(p) for p in parts]
    return [p for p, f in zip(parts, flags, strict=True) if f], [p for p, f in zip(parts, flags, strict=True) if not f]


def _split_venue_street(text: str) -> tuple[str | None, str | None]:
    """``"Salle des fêtes de la Solitude Rue de Coulommiers"`` -> venue and street."""
    if _is_street(text):
        return None, text
    words = text.split()
    for k in range(1, len(words)):
        if STREET_START.match(fold(" ".join(words[k:]))):
            return " ".join(words[:k]), " ".join(words[k:])
    return text, None


def _trailing_city(part: str, is_city: Callable[[str], bool]) -> tuple[str, str | None]:
    """The commune named by the last words of ``part``, and what is left of the venue.

    ``"Salle des Corons Verts 436 rue des Trannois à Douai"`` -> (``"… rue des Trannois"``, ``"Douai"``);
    ``"Salle des Fête Lewarde"`` -> (the whole text, ``"Lewarde"``): only "à" is cut off.
    """
    words = part.split()
    for size in range(min(4, len(words) - 1), 0, -1):
        tail = " ".join(words[-size:])
        if not tail[:1].isupper() or fold(words[-size]) in VENUE_WORDS or not is_city(tail):
            continue
        before = words[:-size]
        if before and fold(before[-1]) == "a":
            return " ".join(before[:-1]), tail
        return part, tail
    return part, None


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
    if not parts:
        return Place()
    for i in range(len(parts) - 1, -1, -1):
        found = POSTAL.search(parts[i])
        if not found:
            continue
        before, after = parts[i][: found.start()].strip(" ,-"), parts[i][found.end() :].strip(" ,-")
        city = after or (parts[i + 1] if i + 1 < len(parts) else None)
        venue_parts = [*parts[:i], before] if before else parts[:i]
        streets, venues = _streets_and_venues(venue_parts)
        if venues and not streets:  # "Maison de proximité Camille Guérin Rue Camille Guérin, 59500 Douai"
            venue, street = _split_venue_street(venues[-1])
            venues, streets = [*venues[:-1], *([venue] if venue else [])], [street] if street else []
        return Place(" - ".join(venues) or None, streets[-1] if streets else None, found.group(1), city)
    city_at = next((i for i in range(len(parts) - 1, -1, -1) if is_city(parts[i])), None)
    if city_at is None:
        streets, venues = _streets_and_venues(parts)
        head, city = _trailing_city(parts[-1], is_city)
        if city is not None:
            if head != parts[-1]:  # "… à Douai": the city is not part of the venue's name
                venue, street = _split_venue_street(head)
                venues = [venue or "" if v == parts[-1] else v for v in venues]
                streets = [street or "" if s == parts[-1] else s for s in streets] + ([street] if street else [])
                streets = [s for s in streets if s]
            return Place(" - ".join(v for v in venues if v) or None, streets[0] if streets else None, None, city)
        return Place(" - ".join(venues) or None, streets[0] if streets else None)
    streets, venues = _streets_and_venues(parts[:city_at] + parts[city_at + 1 :])
    return Place(" - ".join(venues) or None, streets[0] if streets else None, None, parts[city_at])


def fill_from_text(frame: pd.DataFrame, is_city: Callable[[str], bool]) -> pd.DataFrame:
    """Rows whose place is free text get venue, street, postal code and city from it.

    Applied where a row has no city, no postal code and no INSEE code, where venue and street hold
    the same text, or where the text holds a postal code the row lacks: the text is its
    ``venue_name``, else its ``street_address`` (both, when given apart). Each part found fills its
    column when empty; the venue keeps only the venue part, and a street address that held the whole
    text only the street.
    Once per distinct text.

    Args:
        frame: Cleaned raw rows (``venue_name``, ``street_address``, ``postal_code``, ``city``,
            ``commune_insee``).
        is_city: Whether a text names a French commune.

    Returns:
        ``frame`` with those columns filled in (a copy when anything changed).
    """
    unplaced = frame["city"].isna() & frame["postal_code"].isna() & frame["commune_insee"].isna()
    # A source that put the whole text in both columns (an iCalendar LOCATION) gets it split too.
    venue, street = frame["venue_name"], frame["street_address"]
    has_venue, has_street = venue.notna(), street.notna()
    twice = has_venue & has_street & (venue == street)
    # Venue and street given apart ("Salle des Fête" / "Lewarde") are read as one text, venue first.
    both = has_venue & has_street & ~twice
    text = venue.where(has_venue, street).astype("object")
    if both.any():  # joined for those rows only: string sums over every row cost seconds at a million
        text[both] = venue[both].astype("object") + " - " + street[both].astype("object")
    # A postal code inside the address text ("140 rue de Clignancourt, 75018 Paris") when none is given.
    no_postal = frame["postal_code"].isna() & text.notna() & ~unplaced & ~twice
    postal_in_text = pd.Series(False, index=frame.index)
    if no_postal.any():  # only the rows it can change: the regex over every row costs seconds at a million
        postal_in_text[no_postal] = text[no_postal].astype("object").str.contains(HAS_POSTAL, na=False)
    todo = (unplaced | twice | postal_in_text) & text.notna()
    if not todo.any():
        return frame
    parsed = map_distinct(text[todo], lambda t: split_place(t, is_city))
    found = parsed.map(lambda p: p.city is not None or p.postal_code is not None)
    rows = found[found].index
    if not len(rows):
        return frame
    out = frame.copy(deep=False)  # columns are replaced, not edited in place (copy on write)
    places = parsed[rows]
    whole = text[rows]
    city, postal = out.loc[rows, "city"], out.loc[rows, "postal_code"]
    out.loc[rows, "city"] = [c if c is not None else p.city for p, c in zip(places, city, strict=True)]
    out.loc[rows, "postal_code"] = [c if c is not None else p.postal_code for p, c in zip(places, postal, strict=True)]
    venue = out.loc[rows, "venue_name"]
    out.loc[rows, "venue_name"] = [p.venue if v == t else v for p, v, t in zip(places, venue, whole, strict=True)]
    street, apart = out.loc[rows, "street_address"], both[rows]
    # A street given apart keeps what is left of it once its postal code and city are taken out.
    out.loc[rows, "street_address"] = [
        p.street if (s is None or s == t or s == p.city or (a and p.street)) else (None if a and p.city else s)
        for p, s, t, a in zip(places, street, whole, apart, strict=True)
    ]
    return out
