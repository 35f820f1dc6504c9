"""Lists of dates in French prose: "14, 15 et 16 mai. 1er, 2 et 4 juin à 20h30" -> one span per date.

Venues and towns write their programmes this way. Rules (documented in docs/normalisation.md):

- Bare day numbers take the month written after them ("14, 15 et 16 mai"); a list may hold
  several months ("22 mars. 5 avril. 10 et 31 mai").
- Times written after one group of dates belong to it; when only one group has times, they apply
  to every date of the list ("les 3, 4 et 5 juin à 20h30").
- A range with exceptions ("du 2 au 5 mai sauf le 4") is expanded day by day without them.
- The year is chosen for the whole list at once: the dates are read in order, a month earlier
  than the previous one starts the next year (a season from September to June), and the first
  year is the one that puts the list closest to the reference date (inside it when possible; past
  days count double, as for one date: ``prose.year_distance``).
- Two consecutive days joined by "et" without a time stay one span ("les 8 et 9 novembre": a
  two-day event), as ``parse_french`` reads them.

Anything else (one date, a plain range, text the list grammar does not know) is read by
``parse_french``, with its refusals.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import pandas as pd

from aggregator.frames import map_distinct
from aggregator.normalise.dates import MONTHS, DateParseError
from aggregator.normalise.prose import RANGE_WORDS, Span, _simplify, _time, _tokens, parse_french, year_distance


@dataclass
class _Group:
    days: list[int]
    month: int
    year: int | None = None
    times: list[time] = field(default_factory=list)


def _groups(text: str) -> tuple[list[_Group], list[int], bool, list[time]]:
    """Groups of days sharing a month, exception days, whether a range is written, leading times."""
    tokens = _tokens(_simplify(text))
    groups: list[_Group] = []
    pending: list[int] = []
    exceptions: list[int] = []
    leading: list[time] = []
    in_exceptions = False
    ranged = False
    for i, (kind, value) in enumerate(tokens):
        if kind == "day":
            (exceptions if in_exceptions else pending).append(int(value.removesuffix("er")))
        elif kind == "month" and pending:
            groups.append(_Group(pending, MONTHS[value]))
            pending = []
        elif kind == "year" and groups and groups[-1].year is None and not pending:
            groups[-1].year = int(value)
        elif kind == "numdate":
            parts = [int(p) for p in value.split("/")]
            year = (parts[2] + 2000 if parts[2] < 100 else parts[2]) if len(parts) == 3 else None
            groups.append(_Group([parts[0]], parts[1], year))
        elif kind == "time":
            (groups[-1].times if groups and not pending else leading).append(_time(value))
        elif kind == "word" and value == "sauf":
            in_exceptions = True
        elif (kind == "word" and value in RANGE_WORDS) or (
            kind == "dash" and 0 < i < len(tokens) - 1 and tokens[i - 1][0] in ("day", "numdate")
            and tokens[i + 1][0] in ("day", "numdate")
        ):  # fmt: skip
            ranged = True
    if pending:
        raise DateParseError(f"no month in {text!r}: the day {pending[-1]} is written without one")
    return groups, exceptions, ranged, leading


def _dated(groups: list[_Group], reference: date) -> list[tuple[date, _Group]]:
    """Every (day, group) of the list with its year, chosen for the whole list at once."""
    anchored = next((i for i, g in enumerate(groups) if g.year is not None), None)
    bases = (
        [groups[anchored].year] if anchored is not None else [reference.year - 1, reference.year, reference.year + 1]
    )
    best: tuple[int, list[tuple[date, _Group]]] | None = None
    for base in bases:
        assert base is not None
        try:
            dated = _with_years(groups, anchored or 0, base)
        except ValueError:
            continue
        distance = year_distance(dated[0][0], dated[-1][0], reference)
        if best is None or distance < best[0]:
            best = (distance, dated)
    if best is None:
        raise DateParseError("invalid date in a list of dates")
    return best[1]


def _with_years(groups: list[_Group], anchor: int, year: int) -> list[tuple[date, _Group]]:
    """Days in writing order; a step back in the calendar changes year (forwards after the anchor)."""
    flat = [(day, g) for g in groups for day in g.days]
    start = sum(len(g.days) for g in groups[:anchor])
    years = [0] * len(flat)
    years[start] = groups[anchor].year or year
    for i in range(start + 1, len(flat)):
        (day, group), (pday, pgroup) = flat[i], flat[i - 1]
        years[i] = group.year or (years[i - 1] + ((group.month, day) < (pgroup.month, pday)))
    for i in range(start - 1, -1, -1):
        (day, group), (nday, ngroup) = flat[i], flat[i + 1]
        years[i] = group.year or (years[i + 1] - ((group.month, day) > (ngroup.month, nday)))
    return [(date(years[i], g.month, day), g) for i, (day, g) in enumerate(flat)]


def _span(day: date, times: list[time]) -> Span:
    if not times:
        return Span(datetime.combine(day, time()), None, all_day=True)
    if len(times) > 2:
        raise DateParseError("more than two times for one date")
    start = datetime.combine(day, times[0])
    end = datetime.combine(day, times[1]) if len(times) == 2 else None
    if end is not None and end <= start:
        end += timedelta(days=1)
    return Span(start, end, all_day=False)


def _expand_range(groups: list[_Group], exceptions: list[int], leading: list[time], reference: date) -> list[Span]:
    """``du 2 au 5 mai sauf le 4``: one span per day of the range, the exceptions left out."""
    if sum(len(g.days) for g in groups) != 2:
        raise DateParseError("a range with exceptions needs a first and a last day")
    (first, _), (last, _) = _dated(groups, reference)
    if last < first:
        raise DateParseError("range ends before it starts")
    times = next((g.times for g in groups if g.times), leading)
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    return [_span(d, times) for d in days if d.day not in exceptions]


def parse_french_dates(text: str, reference: date) -> list[Span]:
    """Read French date text that may list several dates: one span per date, in writing order.

    Args:
        text: E.g. "14, 15, 16 et 21 mai. 1er et 2 juin à 20h30", "du 2 au 5 mai sauf le 4",
            or any text ``parse_french`` reads (then one span).
        reference: Date the year of the list is inferred from (see the module docstring).

    Raises:
        DateParseError: When neither a list nor ``parse_french`` reads the text.
    """
    try:
        groups, exceptions, ranged, leading = _groups(text)
    except DateParseError:
        return [parse_french(text, reference)]
    if ranged:
        return _expand_range(groups, exceptions, leading, reference) if exceptions else [parse_french(text, reference)]
    count = sum(len(g.days) for g in groups)
    timed = [g for g in groups if g.times]
    if count < 2:
        return [parse_french(text, reference)]
    if (
        count == 2
        and len(groups) == 1
        and not timed
        and not leading
        and abs(groups[0].days[1] - groups[0].days[0]) == 1
    ):
        try:
            return [parse_french(text, reference)]  # "les 8 et 9 novembre": one two-day span
        except DateParseError:
            pass  # "14, 15 mai": a list
    if leading and not timed:
        groups[0].times = leading
        timed = [groups[0]]
    shared = timed[0].times if len(timed) == 1 else None
    return [_span(day, shared if shared is not None else group.times) for day, group in _dated(groups, reference)]


# Texts worth trying as lists: not ISO, and at least two numbers that can be days.
_TWO_DAYS = re.compile(r"\b\d{1,2}(?:er)?\b.*?\b\d{1,2}(?:er)?\b", re.DOTALL)
_ISO = re.compile(r"\d{4}-\d{2}-\d{2}")


def _local_iso(value: datetime, all_day: bool) -> str:
    return value.date().isoformat() if all_day else value.isoformat()


def _candidate(text: object) -> bool:
    return isinstance(text, str) and not _ISO.match(text.strip()) and bool(_TWO_DAYS.search(text))


def _listed(text: str, reference: date) -> list[Span] | None:
    try:
        spans = parse_french_dates(text, reference)
    except (DateParseError, ValueError):
        return None
    return spans if len(spans) > 1 else None


def explode_lists(frame: pd.DataFrame, references: Mapping[str, date], default: date) -> pd.DataFrame:
    """One row per date for rows whose ``start`` lists several dates; other rows unchanged.

    Each new row's ``start``/``end`` are local ISO texts of its date (read later in the row's time
    zone) and its ``uid`` gets ``#<start>``, so that every performance is its own listing while
    sharing title and place (hence ``series_id``). Rows keep their order; the index is renumbered
    when rows were added.

    Args:
        frame: Raw rows with ``source_id``, ``start``, ``end`` and ``uid``.
        references: Reference date (for the year) per source id.
        default: Reference date of sources not in ``references``.
    """
    if not len(frame):
        return frame
    candidate = map_distinct(frame["start"], _candidate).fillna(False).astype(bool)
    if not candidate.any():
        return frame
    texts = frame.loc[candidate, "start"]
    reference = frame.loc[candidate, "source_id"].map(dict(references)).where(lambda r: r.notna(), default)
    keys = pd.Series(list(zip(texts.tolist(), reference.tolist(), strict=True)), index=texts.index)
    spans = map_distinct(keys, lambda key: _listed(*key)).reindex(frame.index)
    listed = spans.map(lambda s: isinstance(s, list)).astype(bool)
    if not listed.any():
        return frame
    counts = spans.map(lambda s: len(s) if isinstance(s, list) else 1)
    out = frame.loc[frame.index.repeat(counts.to_numpy())].copy()
    for name in ("start", "end", "uid"):
        out[name] = out[name].astype("object").where(out[name].notna(), None)
    flat = [s for items in spans[listed] for s in items]
    rows = listed.loc[out.index].to_numpy()
    out.loc[rows, "start"] = [_local_iso(s.start, s.all_day) for s in flat]
    out.loc[rows, "end"] = [None if s.end is None else _local_iso(s.end, s.all_day) for s in flat]
    uids = out.loc[rows, "uid"]
    out.loc[rows, "uid"] = [
        None if u is None else f"{u}#{s}" for u, s in zip(uids, out.loc[rows, "start"], strict=True)
    ]
    return out.reset_index(drop=True)
