"""French dates written as prose: "mardi 8 novembre 2022 de 14h à 16h30", "du 2 au 30 novembre".

The text is cut into tokens (day numbers, month names, years, numeric dates, times, connectors),
then read as one date or one range of dates with optional times. A missing year is inferred from a
reference date (the closest year, past days counting double: see ``year_distance``). Anything ambiguous raises
``DateParseError``: the caller rejects the row with its text rather than guessing.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from aggregator.normalise.dates import MONTHS, DateParseError

WEEKDAY_WORDS = {"lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche",
                 "lun", "mar", "mer", "jeu", "ven", "sam", "dim"}  # fmt: skip
ALL_DAY = re.compile(r"\b(toute la journee|journee entiere|toute la journée)\b")
TOKEN = re.compile(
    r"(?P<numdate>\b\d{1,2}/\d{1,2}(?:/\d{2,4})?\b)"
    r"|(?P<time>\b\d{1,2}h(?:\d{2})?\b)"
    r"|(?P<year>\b(?:19|20)\d{2}\b)"
    r"|(?P<day>\b\d{1,2}(?:er)?\b)"
    r"|(?P<word>[a-z]+)"
    r"|(?P<dash>-)"
)
RANGE_WORDS = {"au", "jusqu", "jusqu'au"}
MIDDAY = {"midi": time(12, 0), "minuit": time(0, 0)}


@dataclass(frozen=True)
class Span:
    """A date or range read from text, in local wall-clock time.

    Attributes:
        start: Start (midnight when ``all_day``).
        end: End, or None when the text gives none. For all-day spans: the last day (inclusive).
        all_day: True when no time of day was given.
    """

    start: datetime
    end: datetime | None
    all_day: bool


@dataclass
class _Date:
    day: int
    month: int | None = None
    year: int | None = None


def _simplify(text: str) -> str:
    plain = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)).casefold()
    plain = re.sub(r"[–—−]", "-", plain)
    plain = re.sub(r"\b(\d{4})-(\d{2})-(\d{2})\b", r"\3/\2/\1", plain)  # an ISO day before French times
    plain = re.sub(r"\b(\d{1,2})\.(\d{1,2})\.(\d{2,4})\b", r"\1/\2/\3", plain)  # 08.11.2022
    plain = re.sub(r"\b(\d{1,2}):(\d{2}):\d{2}\b", r"\1h\2", plain)  # 18:30:00 (seconds dropped)
    plain = re.sub(r"\b(\d{1,2})\s*(?:h|:)\s*(\d{2})\b", r"\1h\2", plain)  # 14 h 30, 14:30
    plain = re.sub(r"\b(\d{1,2})\s*h\b", r"\1h", plain)  # 14 h
    plain = plain.replace("'", " ").replace("’", " ")
    return re.sub(r"[,.;()]", " ", plain)


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for match in TOKEN.finditer(text):
        kind = match.lastgroup or ""
        value = match.group(0)
        if kind == "word":
            if value in MONTHS:
                kind = "month"
            elif value in MIDDAY:
                kind = "time"
            elif value in WEEKDAY_WORDS:
                continue
        out.append((kind, value))
    return out


def _time(value: str) -> time:
    if value in MIDDAY:
        return MIDDAY[value]
    hour, _, minute = value.partition("h")
    h, m = int(hour), int(minute or 0)
    if h > 23 or m > 59:
        raise DateParseError(f"invalid time {value!r}")
    return time(h, m)


def _read(tokens: list[tuple[str, str]]) -> tuple[list[_Date], list[time], bool]:
    """Dates (possibly partial), times, and whether two dates are joined as a range."""
    dates: list[_Date] = []
    times: list[time] = []
    joined = False
    i = 0
    while i < len(tokens):
        kind, value = tokens[i]
        if kind == "numdate":
            parts = [int(p) for p in value.split("/")]
            year = parts[2] + 2000 if len(parts) == 3 and parts[2] < 100 else (parts[2] if len(parts) == 3 else None)
            dates.append(_Date(parts[0], parts[1], year))
        elif kind == "day":
            current = _Date(int(value.removesuffix("er")))
            if i + 1 < len(tokens) and tokens[i + 1][0] == "month":
                current.month = MONTHS[tokens[i + 1][1]]
                i += 1
                if i + 1 < len(tokens) and tokens[i + 1][0] == "year":
                    current.year = int(tokens[i + 1][1])
                    i += 1
            dates.append(current)
        elif kind == "time":
            times.append(_time(value))
        elif kind == "year" and dates and dates[-1].year is None:
            dates[-1].year = int(value)
        elif (kind == "word" and value in RANGE_WORDS) or (kind in ("dash",) and dates and not times):
            joined = joined or bool(dates)
        elif kind == "word" and value == "et" and dates and not times:
            joined = True
        i += 1
    return dates, times, joined


# Added to the distance of dates before a floor reference (a feed item's publication date).
BEFORE_FLOOR = 1_000_000


def year_distance(first: date, last: date, reference: date, floor: bool = False) -> int:
    """How far dates ``first``..``last`` are from ``reference``, in days; past days count double.

    Agendas list what is coming: a date as far in the past as in the future is read in the future.
    With ``floor`` (the reference is when the text was published), dates before it come last.
    """
    if first <= reference <= last:
        return 0
    if last < reference:
        return 2 * (reference - last).days + (BEFORE_FLOOR if floor else 0)
    return (first - reference).days


def _infer_year(day: int, month: int, reference: date, floor: bool = False) -> int:
    candidates = []
    for year in (reference.year - 1, reference.year, reference.year + 1):
        try:
            candidates.append(date(year, month, day))
        except ValueError:
            continue
    if not candidates:
        raise DateParseError(f"invalid date {day}/{month}")
    return min(candidates, key=lambda d: year_distance(d, d, reference, floor)).year


def parse_french(text: str, reference: date, floor: bool = False) -> Span:
    """Read one French date or range of dates, with optional times.

    Args:
        text: E.g. "Le jeudi 03/11 de 16h15 à 18h15", "du 2 au 30 novembre 2022", "14h-16h".
        reference: Date used to infer a missing year (the closest year wins, see ``year_distance``).
        floor: The reference is the text's publication date: a year that puts the date before it
            is taken only when no other can be.

    Raises:
        DateParseError: No date, several unrelated dates, or an invalid date or time.
    """
    simple = _simplify(text)
    tokens = _tokens(simple)
    dates, times, joined = _read(tokens)
    if not dates:
        raise DateParseError(f"no date in {text!r}" + (" (only times)" if times else ""))
    if len(dates) > 2 or (len(dates) == 2 and not joined):
        raise DateParseError(f"several dates in {text!r}: one listing per date is needed")
    # A bare day or a date without year borrows month and year from the date after it ("du 2 au 30 nov.").
    last = dates[-1]
    if last.month is None:
        raise DateParseError(f"no month in {text!r}: the day {last.day} is written without one")
    for d in dates[:-1]:
        if d.month is None:
            d.month = last.month
        if d.year is None and last.year is not None:
            d.year = last.year if (d.month, d.day) <= (last.month, last.day) else last.year - 1
    for d in dates:
        assert d.month is not None
        if d.year is None:
            d.year = _infer_year(d.day, d.month, reference, floor)
    try:
        days = [date(d.year, d.month, d.day) for d in dates if d.year is not None and d.month is not None]
    except ValueError as exc:
        raise DateParseError(f"invalid date in {text!r}: {exc}") from None
    first, final = days[0], days[-1]
    if final < first:
        if len(dates) == 2 and dates[1].year is None:
            final = final.replace(year=final.year + 1)
        else:
            raise DateParseError(f"range ends before it starts in {text!r}")
    if len(times) > 2:
        raise DateParseError(f"more than two times in {text!r}")
    if not times or ALL_DAY.search(simple):
        end_day = datetime.combine(final, time()) if final != first else None
        return Span(datetime.combine(first, time()), end_day, all_day=True)
    start = datetime.combine(first, times[0])
    if len(times) == 2:
        end = datetime.combine(final, times[1])
        if end <= start and final == first:
            end += timedelta(days=1)  # "de 22h à 2h"
        return Span(start, end, all_day=False)
    return Span(start, datetime.combine(final, time()) + timedelta(days=1) if final != first else None, all_day=False)


MONTH_NAMES = "|".join(sorted(MONTHS, key=len, reverse=True))
DATE_CORE = re.compile(
    rf"(?:\b(?:du|le|les)\s+)?(?:\b[a-z]+\s+)?\b\d{{1,2}}(?:er)?(?:\s+(?:au|et|-)\s+(?:[a-z]+\s+)?\d{{1,2}}(?:er)?)?"
    rf"\s+(?:{MONTH_NAMES})\b|\b\d{{1,2}}/\d{{1,2}}(?:/\d{{2,4}})?\b"
)


# Words that announce the event's own date ("programmé le", "aura lieu du") or a deadline ("avant le").
EVENT_PHRASE = re.compile(
    r"\b(?:programme\w*|aura lieu|a lieu|se tiendra|se deroulera|rendez-vous|rdv|debutera|commencera|ouvrira)"
    r"(?:\s+(?:le|les|du|pour le|a partir du|des le))?\s*$"
)
DEADLINE_PHRASE = re.compile(r"\b(?:avant|jusqu|date limite|limite|inscriptions?|reservations?)\b[^0-9]{0,25}$")
MAX_CANDIDATES = 20


def _read_window(simple: str, at: int, reference: date, floor: bool) -> Span | None:
    """The date written from ``at`` to the end of its sentence, shortened word by word until it reads."""
    window = re.split(r"[\n!?]|\s{2,}(?=[A-Z])", simple[at : at + 90])[0]
    words = window.split()
    while words:
        try:
            return parse_french(" ".join(words), reference, floor)
        except DateParseError:
            words = words[:-1]
    return None


def find_french(text: str, reference: date, floor: bool = False) -> Span:
    """Find and read the event's date in free text (a feed item's title and summary).

    Every date expression is read (from it to the end of its sentence, at most 90 characters,
    shortened word by word until it reads). The one announced as the event's date wins
    ("programmé le", "aura lieu le", "se tiendra du"), then a date with a time or a range, then
    the first; a deadline ("avant le", "inscriptions jusqu'au") comes last.

    Args:
        text: Free text.
        reference: Date used to infer missing years.
        floor: The reference is the text's publication date (see ``year_distance``).

    Raises:
        DateParseError: When no date expression is found or none reads.
    """
    simple = _simplify(text)
    best: tuple[int, int, Span] | None = None
    for number, match in enumerate(DATE_CORE.finditer(simple)):
        if number >= MAX_CANDIDATES:
            break
        span = _read_window(simple, match.start(), reference, floor)
        if span is None:
            continue
        before = simple[max(0, match.start() - 40) : match.start()]
        score = 1 if (not span.all_day or span.end is not None) else 0
        if EVENT_PHRASE.search(before):
            score = 3
        elif DEADLINE_PHRASE.search(before):
            score = -1
        if best is None or score > best[0]:
            best = (score, match.start(), span)
    if best is None:
        raise DateParseError(
            f"no readable date in {text[:80]!r}" if DATE_CORE.search(simple) else f"no date in {text[:80]!r}"
        )
    return best[2]
