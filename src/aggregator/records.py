"""What adapters give normalisation: the fields of a raw record, and values read from a source as text.

Apart from the adapters (``aggregator.sources``), so that normalisation's worker processes do not
import them, nor their HTTP client.
"""

from __future__ import annotations

import json
import math
from typing import Any

from aggregator.reasons import kind_of

# Fields an adapter may fill, all as strings (or None). Normalisation turns them into the schema.
# "start"/"end" hold ISO dates or French prose; "when" holds free text to read a date from when
# there is no "start" (a feed item's text, a card's caption); "start_date" holds the date alone,
# read when "start" (a date joined with times, say) cannot be read whole; "published" (ISO) is
# when a feed item was published: a year missing from its text never puts the event before it.
RAW_FIELDS: tuple[str, ...] = (
    "uid",
    "title",
    "description",
    "start",
    "start_date",
    "end",
    "when",
    "published",
    "timezone",
    "venue_name",
    "street_address",
    "postal_code",
    "city",
    "commune_insee",
    "departement",
    "region",
    "latitude",
    "longitude",
    "organizer",
    "url",
    "registration_url",
    "online_url",
    "event_type",
    "attendance_mode",
    "status",
    "keywords",
    "page_url",
)

# A record: RAW_FIELDS keys (missing means unknown), plus "raw" (JSON of what was read) and,
# for items the adapter could not read at all, "reject_reason".
Record = dict[str, str | None]


class NotTextError(ValueError):
    """A value where text is expected is a structure (an object, a list of lists): its item is rejected."""

    def __init__(self, value: Any) -> None:
        super().__init__(kind_of(value))
        self.found = kind_of(value) if not isinstance(value, list) else "a list of objects or lists"


def to_text(value: Any) -> str | None:
    """Render a scalar, or a list of scalars (joined with ", "), read from a source as a string.

    None stays None. A list's nulls (``["Brest", null]``, a JSON export's empty slots) are left
    out: they say nothing, and the record is not lost for them.

    Raises:
        NotTextError: For an object or a list holding objects or lists: published as text, it
            would read ``[[[…`` or ``{"…``; ``map_items`` rejects its item with a reason instead.
    """
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value) if isinstance(value, float) else str(value)
    if isinstance(value, list):
        present = [v for v in value if v is not None and not (isinstance(v, float) and math.isnan(v))]
        if all(isinstance(v, str | int | float) for v in present):
            return ", ".join(str(v) for v in present)
    raise NotTextError(value)


def raw_json(value: Any) -> str:
    """Serialise what was read from the source, for the rejects table and debugging."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
