"""French typography: the one function every French text the project writes goes through."""

from __future__ import annotations

import re

NBSP = "\u00a0"  # no-break space: before ":" and "»", after "«"
NNBSP = "\u202f"  # narrow no-break space: before ";", "!", "?", "%", between thousands

MONTHS = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)

# Nouns the project counts, with the "none" word of their gender ("0 événement" reads "aucun événement").
NONE_WORDS = {
    "événement": "aucun",
    "doublon": "aucun",
    "annonce": "aucune",
    "ligne": "aucune",
    "source": "aucune",
}

_SPACES = "[ \u00a0\u202f]"
_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    # Straight apostrophe between letters: l'innovation -> l’innovation.
    (re.compile(r"(?<=[^\W\d_])'(?=[^\W\d_])"), "\u2019"),
    # The first day of a month is an ordinal: 1er décembre.
    (re.compile(rf"\b1{_SPACES}+(?=(?:{'|'.join(MONTHS)})\b)", re.IGNORECASE), "1er" + NBSP),
    # Hours without a leading zero: 06 h 00 -> 6 h 00, with no-break spaces around "h".
    (re.compile(rf"\b0?(\d{{1,2}}){_SPACES}*h{_SPACES}*(\d\d)\b"), rf"\1{NBSP}h{NBSP}\2"),
    # Thousands: 12 345 -> 12 345 (narrow no-break); years and codes have no inner space.
    (re.compile(rf"(?<=\d){_SPACES}(?=\d{{3}}\b)"), NNBSP),
    # Guillemets first: the space they bring may be the one after a colon.
    (re.compile(rf"{_SPACES}*»"), NBSP + "»"),
    (re.compile(rf"«{_SPACES}*"), "«" + NBSP),
    # Before the high punctuation: a no-break space before ":" and "»", a narrow one before ; ! ? %.
    (re.compile(rf"(?<=[^\s:;!?%]){_SPACES}*:(?=\s|$)"), NBSP + ":"),
    (re.compile(rf"(?<=[^\s:;!?%]){_SPACES}*([;!?%])(?=\s|$|[)\].,])"), NNBSP + r"\1"),
)
_NONE = re.compile(rf"(?<![\d.,{NNBSP}])\b0{_SPACES}+({'|'.join(NONE_WORDS)})\b")
_SENTENCE_START = re.compile(r"(^|[.!?]\s+)(aucune?)\b")


def typography(text: str) -> str:
    """``text`` set the French way (Imprimerie nationale rules, as the French administration writes).

    - typographic apostrophes (``l’innovation``);
    - ``1er`` for the first day of a month;
    - hours without a leading zero (``6 h 00``), never broken around ``h``;
    - a narrow no-break space between thousands (``12 345``);
    - a no-break space before ``:`` and ``»`` and after ``«``, a narrow one before ``;`` ``!`` ``?`` ``%``;
    - ``aucun événement`` / ``aucune annonce`` for a count of zero, capitalised at a sentence's start.

    Idempotent: a text already set comes back unchanged. Colons without a space before them (URLs,
    ``18:30``) and apostrophes outside words are left alone.
    """
    for pattern, replacement in _RULES:
        text = pattern.sub(replacement, text)
    text = _NONE.sub(lambda m: f"{NONE_WORDS[m.group(1)]} {m.group(1)}", text)
    return _SENTENCE_START.sub(lambda m: m.group(1) + m.group(2).capitalize(), text)
