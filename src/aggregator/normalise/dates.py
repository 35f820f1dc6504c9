"""Dates: ISO 8601 and common French numeric and written forms, read in the event's time zone."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pandas as pd

MONTHS = {
    "janvier": 1, "janv": 1, "jan": 1,
    "fevrier": 2, "fevr": 2, "fev": 2,
    "mars": 3, "mar": 3,
    "avril": 4, "avr": 4,
    "mai": 5,
    "juin": 6,
    "juillet": 7, "juil": 7,
    "aout": 8,
    "septembre": 9, "sept": 9, "sep": 9,
    "octobre": 10, "oct": 10,
    "novembre": 11, "nov": 11,
    "decembre": 12, "dec": 12,
}  # fmt: skip
WEEKDAYS = r"(?:lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche)"
TIME = r"(?P<h>\d{1,2})\s*(?:h|:)\s*(?P<m>\d{2})?"
NUMERIC = re.compile(
    rf"^(?:le )?(?:{WEEKDAYS} )?(?P<d>\d{{1,2}}) (?P<mo>\d{{1,2}}) (?P<y>\d{{4}})(?: (?:a |de )?{TIME})?$"
)
WRITTEN = re.compile(
    rf"^(?:le )?(?:{WEEKDAYS} )?(?P<d>\d{{1,2}})(?:er)? (?P<mo>[a-z]+) (?P<y>\d{{4}})"
    rf"(?: (?:a |de |des )?{TIME})?$"
)


def _simplify(text: str) -> str:
    """Lowercase, accents removed, separators (/ . , -) as spaces; keeps ':' for times."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()
    return re.sub(r"\s+", " ", re.sub(r"[/.,\-]", " ", plain)).strip()


class DateParseError(ValueError):
    """A date could not be read; the message quotes the text."""


@dataclass(frozen=True)
class LocalDate:
    """A date read from a source, before it is placed in a time zone.

    Attributes:
        value: The instant; naive means wall-clock time in the event's zone.
        all_day: True when only a date was given.
    """

    value: datetime
    all_day: bool


def _time_part(match: re.Match[str]) -> time | None:
    if match.group("h") is None:
        return None
    hour, minute = int(match.group("h")), int(match.group("m") or 0)
    if hour > 23 or minute > 59:
        raise DateParseError(f"invalid time {hour}h{minute:02d}")
    return time(hour, minute)


def parse_local(text: str) -> LocalDate:
    """Read ``text`` as a date or date-time.

    Accepts ISO 8601 (with or without offset, or a date alone), ``08/11/2026 14h30`` and
    ``mardi 8 novembre 2026 à 14h``. French prose with ranges or without a year is richer and is
    read by a dedicated parser; here it raises.

    Raises:
        DateParseError: When the text is not one of these forms.
    """
    raw = text.strip()
    if not raw:
        raise DateParseError("empty date")
    iso = raw.replace("Z", "+00:00") if raw.endswith("Z") else raw
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", iso):
            return LocalDate(datetime.combine(date.fromisoformat(iso), time()), all_day=True)
        if re.match(r"^\d{4}-\d{2}-\d{2}[T ]\d", iso):
            return LocalDate(datetime.fromisoformat(iso), all_day=False)
    except ValueError as exc:
        raise DateParseError(f"invalid ISO date {raw!r}: {exc}") from None
    folded = _simplify(raw)
    for pattern in (NUMERIC, WRITTEN):
        match = pattern.match(folded)
        if not match:
            continue
        month_text = match.group("mo")
        month = int(month_text) if month_text.isdigit() else MONTHS.get(month_text)
        if month is None:
            raise DateParseError(f"unknown month {month_text!r} in {raw!r}")
        try:
            day = date(int(match.group("y")), month, int(match.group("d")))
        except ValueError as exc:
            raise DateParseError(f"invalid date {raw!r}: {exc}") from None
        at = _time_part(match)
        if at is None:
            return LocalDate(datetime.combine(day, time()), all_day=True)
        return LocalDate(datetime.combine(day, at), all_day=False)
    raise DateParseError(f"unrecognised date {raw!r}")


def to_utc(local: datetime, tz: str) -> datetime:
    """Place a naive wall-clock time in ``tz`` (aware values keep their offset) and convert to UTC."""
    if local.tzinfo is None:
        local = local.replace(tzinfo=ZoneInfo(tz))
    return local.astimezone(ZoneInfo("UTC"))


def next_day(value: datetime) -> datetime:
    """Midnight after ``value``'s day: the exclusive end of an all-day range."""
    return datetime.combine(value.date() + timedelta(days=1), time(), tzinfo=value.tzinfo)


def local_times(start_at: pd.Series, zones: pd.Series) -> pd.Series:
    """Wall-clock times (naive ``datetime64``) of UTC instants, each in its own zone; converted per zone."""
    out = pd.Series(pd.NaT, index=start_at.index, dtype="datetime64[us]")
    for tz, rows in start_at.groupby(zones.fillna("Europe/Paris")):
        out[rows.index] = rows.dt.tz_convert(str(tz)).dt.tz_localize(None).astype("datetime64[us]")
    return out
