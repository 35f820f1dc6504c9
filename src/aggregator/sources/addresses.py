"""Places written as text in items: "Lieu : Salle des fêtes, 40440 Ondres", "Rue Camille Guérin, 59500 Douai"."""

from __future__ import annotations

import re

from aggregator.sources.base import Record

PLACE_LINE = re.compile(r"\b(?:lieu|adresse|o[uù])\s*:\s*([^\n]{2,120})", re.IGNORECASE)
# A postal code and a capitalised city name, as an address ends ("…, 40440 Ondres", "(29730 Guilvinec)").
CITY_WORD = r"[A-ZÀ-Ý][\w'’À-ÿ-]*"
POSTAL = r"((?:0[1-9]|[1-8]\d|9[0-8])\d{3})"
CITY = rf"({CITY_WORD}(?: (?:(?:de|du|des|la|le|les|sur|sous|en|lès) )?{CITY_WORD}){{0,4}})"
# In free text, only where an address ends: after a comma, a dash, a parenthesis, "à" or a line start.
POSTAL_CITY = re.compile(rf"(?:^|[,(\-–:\n]|\bà)\s*{POSTAL}\s+{CITY}", re.MULTILINE)
# In a text known to be an address, anywhere.
ADDRESS_POSTAL_CITY = re.compile(rf"\b{POSTAL}\s+{CITY}")


def place(text: str) -> Record:
    """Postal code, city and venue from a "Lieu : …" line, or a postal code followed by a city."""
    line = PLACE_LINE.search(text)
    scope = line.group(1).strip() if line else text
    found = POSTAL_CITY.search(scope)
    if found:
        venue = scope[: found.start(1)].strip(" ,-–:(") if line else ""
        return {"postal_code": found.group(1), "city": found.group(2).strip(), "venue_name": venue or None}
    if line:
        return {"street_address": scope}
    return {}


def address_parts(text: str) -> Record:
    """Street, postal code and city of an address written on one line ("12 rue X, 59500 Douai").

    Without a postal code followed by a city, the whole text is the street address.
    """
    found = ADDRESS_POSTAL_CITY.search(text)
    if not found:
        return {"street_address": text.strip() or None}
    street = text[: found.start(1)].strip(" ,-–(")
    return {"street_address": street or None, "postal_code": found.group(1), "city": found.group(2).strip()}
