"""The registry of source kinds: ``kind:`` in sources.yaml -> adapter."""

from __future__ import annotations

from aggregator.sources.base import Adapter
from aggregator.sources.csv_file import CsvAdapter
from aggregator.sources.datatourisme import DatatourismeAdapter
from aggregator.sources.feed import FeedAdapter
from aggregator.sources.html import HtmlAdapter
from aggregator.sources.ical import IcalAdapter
from aggregator.sources.json_api import JsonAdapter
from aggregator.sources.jsonld import JsonLdAdapter
from aggregator.sources.openagenda import OpenAgendaAdapter
from aggregator.sources.opendatasoft import OpendatasoftAdapter

KINDS: dict[str, Adapter] = {
    "csv": CsvAdapter(),
    "datatourisme": DatatourismeAdapter(),
    "feed": FeedAdapter(),
    "html": HtmlAdapter(),
    "ical": IcalAdapter(),
    "json": JsonAdapter(),
    "jsonld": JsonLdAdapter(),
    "openagenda": OpenAgendaAdapter(),
    "opendatasoft": OpendatasoftAdapter(),
}


class UnknownKindError(KeyError):
    """No adapter is registered for a kind."""


def get_adapter(kind: str) -> Adapter:
    """Return the adapter for ``kind``.

    Raises:
        UnknownKindError: Naming the valid kinds.
    """
    try:
        return KINDS[kind]
    except KeyError:
        raise UnknownKindError(f"unknown kind {kind!r} (valid kinds: {', '.join(sorted(KINDS))})") from None
