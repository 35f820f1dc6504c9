"""Where an item's text names its place: a "Lieu : …" line, or an address ending "…, 40440 Ondres".

Only the place is picked out of the text here; splitting it into venue, street, postal code and city
is normalisation's job (``normalise.places``), the same for every kind.
"""

from __future__ import annotations

import re

from aggregator.records import Record

PLACE_LINE = re.compile(r"\b(?:lieu|adresse|o[uù])\s*:\s*([^\n]{2,120})", re.IGNORECASE)
# A postal code and a capitalised city name where an address ends in free text: after a comma, a
# dash, a parenthesis, "à" or a line start ("…, 40440 Ondres", "(29730 Guilvinec)").
CITY_WORD = r"[A-ZÀ-Ý][\w'’À-ÿ-]*"
POSTAL_CITY = re.compile(
    r"(?:^|[,(\-–:\n]|\bà)\s*((?:0[1-9]|[1-8]\d|9[0-8])\d{3})\s+"
    rf"({CITY_WORD}(?: (?:(?:de|du|des|la|le|les|sur|sous|en|lès) )?{CITY_WORD}){{0,4}})",
    re.MULTILINE,
)


def place_in_text(text: str) -> Record:
    """The place an item's text names: its "Lieu :" line as the venue text, else a postal code and city.

    Returns:
        ``{"venue_name": line}``, ``{"postal_code": …, "city": …}`` or ``{}``.
    """
    line = PLACE_LINE.search(text)
    if line:
        return {"venue_name": line.group(1).strip()}
    found = POSTAL_CITY.search(text)
    return {"postal_code": found.group(1), "city": found.group(2).strip()} if found else {}
