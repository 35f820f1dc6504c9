"""Reject reasons: sentences a publisher can act on, each worded here once, never an exception's text."""

from __future__ import annotations

import re

# Key -> sentence, with {placeholders}. tests/test_reasons.py produces every one from real input.
TEMPLATES: dict[str, str] = {
    "no_title": "the event has no title: the title field is empty or missing",
    "no_start": "the event has no start date: the start field is empty or missing",
    "no_timings": "the event has no start date: its {field} list is empty",
    "no_periods": "the event has no date: it has neither takesPlaceAt periods nor a startDate",
    "no_start_fields": "the event has no start date: fields {fields} are all empty",
    "bad_start": "the start date cannot be read: {detail}",
    "not_object": "the {what} is not a JSON object but {found}",
    "not_text": "a field of the {what} that should be text holds {found}",
    "unreadable": "the {what} could not be read: it has a shape this adapter does not know ({error})",
    "csv_cells": "line {line} has {cells} cells where the header has {columns} columns "
    "(a missing or extra delimiter, or an unclosed quote?)",
    "csv_line": "line {line} is not valid CSV (an unclosed quote or a stray character?)",
    "ical_no_start": "the event has no start date: its VEVENT has no DTSTART",
    "ical_event": "the VEVENT could not be read: one of its properties is malformed ({error})",
    "ical_recurrence": "the calendar's recurrence rules (RRULE, RDATE, EXDATE) could not be expanded; "
    "its events are read as written",
    "jsonld_block": "JSON-LD block {block} of the page is not valid JSON (error at line {line}, column {column})",
    "jsonl_line": "line {line} of the export is not valid JSON (error at column {column})",
    "html_item": "the item could not be read with the configured selectors ({error})",
}


def reason(key: str, **values: object) -> str:
    """The sentence for ``key`` with ``values`` filled in.

    Raises:
        KeyError: For a key that is not in ``TEMPLATES``.
    """
    return TEMPLATES[key].format(**values)


def kind_of(value: object) -> str:
    """How a JSON value is named in reasons: "a string", "a list", "null"."""
    names = {str: "a string", list: "a list", int: "a number", float: "a number", bool: "a boolean"}
    return "null" if value is None else names.get(type(value), f"a {type(value).__name__}")


def _pattern(template: str) -> re.Pattern[str]:
    parts = re.split(r"\{[a-z_]+\}", template)
    return re.compile("(?s)" + ".*?".join(re.escape(p) for p in parts) + "$")


# Most specific first: "bad_start" ends in a free detail, so it is tried after the fixed sentences.
_PATTERNS = sorted(((key, _pattern(t)) for key, t in TEMPLATES.items()), key=lambda kp: -len(kp[1].pattern))


def key_of(sentence: str) -> str:
    """The ``TEMPLATES`` key a reject reason was made from, or ``"other"``: the reject mix counts these."""
    for key, pattern in _PATTERNS:
        if pattern.match(sentence):
            return key
    return "other"
