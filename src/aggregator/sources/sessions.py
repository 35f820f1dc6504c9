"""Turn an event's list of timings (OpenAgenda, DATAtourisme periods) into listings.

Rule: each timing is an occurrence, but timings whose days follow each other (at most
``gap_days`` apart: an exhibition closed on Mondays) form one session spanning them. A workshop
held on the 3rd, 10th and 17th gives three listings; an exhibition open every day from November to
April gives one.
"""

from __future__ import annotations

from datetime import date, datetime

GAP_DAYS = 2


def _day(value: str) -> date | None:
    try:
        return (
            datetime.fromisoformat(value.replace("Z", "+00:00")).date() if "T" in value else date.fromisoformat(value)
        )
    except ValueError:
        return None


def group_sessions(timings: list[tuple[str, str | None]], gap_days: int = GAP_DAYS) -> list[tuple[str, str | None]]:
    """Merge runs of timings on nearby days into one ``(start, end)`` each, in time order.

    Args:
        timings: ``(start, end)`` ISO strings (dates or date-times); unreadable ones are kept alone.
        gap_days: Largest gap in days between two timings of one session.
    """
    readable = sorted(((s, e) for s, e in timings if _day(s) is not None), key=lambda t: t[0])
    unreadable = [(s, e) for s, e in timings if _day(s) is None]
    sessions: list[list[tuple[str, str | None]]] = []
    for start, end in readable:
        if sessions:
            previous = sessions[-1][-1]
            previous_day = _day(previous[1] or previous[0]) or _day(previous[0])
            day = _day(start)
            if previous_day is not None and day is not None and (day - previous_day).days <= gap_days:
                sessions[-1].append((start, end))
                continue
        sessions.append([(start, end)])
    merged = [(group[0][0], group[-1][1] or (group[-1][0] if len(group) > 1 else None)) for group in sessions]
    return merged + unreadable
