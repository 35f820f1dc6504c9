"""Kind ``ical``: iCalendar feeds (RFC 5545), common shapes read fast, the rest with the icalendar library."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any, ClassVar, Literal

import icalendar
import recurring_ical_events
from pydantic import Field

from aggregator.http import Fetched
from aggregator.reasons import reason
from aggregator.records import Record, raw_json, to_text
from aggregator.settings import SourceConfig
from aggregator.sources.base import ParseError, SinglePage, absolutise_urls
from aggregator.sources.ical_fast import read as read_fast
from aggregator.sources.sniff import describe, wrong_format

STATUS = {"CANCELLED": "cancelled", "TENTATIVE": "scheduled", "CONFIRMED": "scheduled"}


class IcalSource(SourceConfig):
    """Settings of an ``ical`` source: nothing beyond ``id``, ``kind`` and ``url`` is needed.

    Recurring events (RRULE, RDATE, EXDATE, overridden occurrences) are expanded between
    ``window_before_days`` before and ``window_after_days`` after the reference date.
    """

    kind: Literal["ical"] = "ical"
    window_before_days: int = Field(
        62, ge=0, le=3660, description="Occurrences kept this many days before the reference date."
    )
    window_after_days: int = Field(
        400, ge=0, le=3660, description="Occurrences kept this many days after the reference date."
    )


def _recurring_uids(calendar: icalendar.Calendar) -> set[str]:
    return {str(c.get("UID")) for c in calendar.walk("VEVENT") if "RRULE" in c or "RDATE" in c or "RECURRENCE-ID" in c}


def expand(calendar: icalendar.Calendar, source: IcalSource) -> list[icalendar.Component]:
    """Every VEVENT to read: single events as they are, recurring ones expanded within the window."""
    recurring = _recurring_uids(calendar)
    singles = [c for c in calendar.walk("VEVENT") if str(c.get("UID")) not in recurring]
    if not recurring:
        return singles
    today = source.reference_date or date.today()
    window = (today - timedelta(days=source.window_before_days), today + timedelta(days=source.window_after_days))
    occurrences = [c for c in recurring_ical_events.of(calendar).between(*window) if str(c.get("UID")) in recurring]
    return singles + occurrences


def _iso(value: date | datetime) -> str:
    """Datetimes keep their offset (floating ones have none); dates stay dates."""
    return value.isoformat()


def _text(component: icalendar.Component, name: str) -> str | None:
    value = component.get(name)
    if value is None:
        return None
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def _categories(component: icalendar.Component) -> str | None:
    cats = component.get("CATEGORIES")
    if cats is None:
        return None
    items = cats if isinstance(cats, list) else [cats]
    words = [str(c) for item in items for c in getattr(item, "cats", [item])]
    return ", ".join(words) or None


def _event(component: icalendar.Component, default_tz: str | None) -> Record:
    start = component.decoded("DTSTART")
    record: Record = {
        "uid": _text(component, "UID"),
        "title": _text(component, "SUMMARY"),
        "description": _text(component, "DESCRIPTION"),
        "start": _iso(start),
        "url": _text(component, "URL"),
        "keywords": _categories(component),
        "status": STATUS.get((_text(component, "STATUS") or "").upper()),
    }
    end: Any = component.decoded("DTEND") if "DTEND" in component else None
    if end is None and "DURATION" in component:
        end = start + component.decoded("DURATION")
    if isinstance(end, date) and not isinstance(end, datetime):
        # DTEND of a date is exclusive in iCalendar; raw records carry the last day inclusive.
        end = end - timedelta(days=1)
        if end < start:
            end = start
    record["end"] = _iso(end) if end is not None else None
    if isinstance(start, datetime) and start.tzinfo is None and default_tz:
        record["timezone"] = default_tz
    location = _text(component, "LOCATION")
    if location:
        # The place as one text; normalisation splits it into venue, street, postal code and city.
        record["venue_name"] = record["street_address"] = location
    organizer = component.get("ORGANIZER")
    if organizer is not None:
        record["organizer"] = organizer.params.get("CN") or str(organizer).removeprefix("mailto:")
    geo = component.get("GEO")
    if geo is not None:
        record["latitude"], record["longitude"] = to_text(geo.latitude), to_text(geo.longitude)
    return record


def _finish(record: Record, raw: str, has_start: bool, url: str) -> Record:
    if not has_start:
        return {"uid": record.get("uid"), "reject_reason": reason("ical_no_start"), "page_url": url, "raw": raw}
    record["page_url"] = url
    record["raw"] = raw
    absolutise_urls(record, url)
    return record


class IcalAdapter(SinglePage):
    """One record per VEVENT; a VEVENT that cannot be read is rejected alone."""

    kind: ClassVar[str] = "ical"
    settings: ClassVar[type[SourceConfig]] = IcalSource

    def parse(self, page: Fetched, source: SourceConfig) -> list[Record]:
        """Read every VEVENT of the calendar."""
        if describe(page.content) != "an iCalendar file":
            raise wrong_format(page.url, "ical", "an iCalendar file (BEGIN:VCALENDAR)", page.content)
        fast = read_fast(page.content)
        if fast is not None:  # the common shapes, read about ten times faster; the same records
            return [_finish(record, raw, has_start, page.url) for record, raw, has_start in fast]
        try:
            calendar = icalendar.Calendar.from_ical(page.content)
        except Exception as exc:  # icalendar raises ValueError and others on malformed input
            raise ParseError(f"{page.url}: not a valid iCalendar file ({exc})") from None
        assert isinstance(source, IcalSource)
        default_tz = _text(calendar, "X-WR-TIMEZONE")
        recurring = _recurring_uids(calendar)
        out: list[Record] = []
        try:
            components = expand(calendar, source)
        except Exception as exc:  # a broken RRULE: say so, and read the events as they stand
            components = list(calendar.walk("VEVENT"))
            recurring = set()
            out.append({"page_url": page.url, "raw": str(exc)[:500], "reject_reason": reason("ical_recurrence")})
        for component in components:
            if "DTSTART" not in component:
                raw = raw_json(component.to_ical().decode("utf-8", "replace"))
                out.append(
                    {
                        "uid": _text(component, "UID"),
                        "reject_reason": reason("ical_no_start"),
                        "page_url": page.url,
                        "raw": raw,
                    }
                )
                continue
            try:
                record = _event(component, default_tz)
                if str(component.get("UID")) in recurring:
                    record["uid"] = f"{record['uid']}#{record['start']}"
            except Exception as exc:  # one broken VEVENT never discards the others
                record = {
                    "uid": _text(component, "UID"),
                    "reject_reason": reason("ical_event", error=type(exc).__name__),
                }
            record["page_url"] = page.url
            record["raw"] = raw_json(component.to_ical().decode("utf-8", "replace"))
            absolutise_urls(record, page.url)
            out.append(record)
        return out
