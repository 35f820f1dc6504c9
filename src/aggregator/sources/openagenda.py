"""Kind ``openagenda``: the OpenAgenda API v2 (``/v2/agendas/{uid}/events``), cursor-paginated.

Two shapes are read: the API v2 response (``events`` with ``timings[].begin/end``, or only
``firstTiming``/``lastTiming`` when not asked for details) and an agenda's JSON export (``events``
with ``timings[].start/end``, multilingual ``title.fr``, a ``location`` object), also as a bare
list of events or one event alone. Anything else is refused in one line naming what it is. A
source without ``agenda`` reads its ``url``, a file (an export downloaded by hand, an API page
saved with ``curl``), whole, as one page, without the API.

Timings: each timing is an occurrence; timings on consecutive days form one session (see
``sessions.group_sessions``), and each session is one listing whose uid is ``{event uid}#{start}``.

Incremental runs (``incremental: true``): the adapter keeps, in the run's state folder, the events
it read and the time of the last full read. A run asks only for events updated since the previous
run (``updatedAt[gte]``, with a margin), replaces those in the kept set, then lists the uids of
every event still in the agenda (``includeFields[]=uid``, a few small pages) and drops the kept
events whose uid is gone: removed events disappear, cancelled ones stay with their status.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import Field, ValidationInfo, field_validator

from aggregator.http import Fetched, HttpClient
from aggregator.reasons import reason
from aggregator.records import Record, raw_json, to_text
from aggregator.settings import SourceConfig
from aggregator.sources.base import map_items
from aggregator.sources.paging import Cursor, Request, paginate
from aggregator.sources.sessions import group_sessions
from aggregator.sources.sniff import load_json, wrong_format

API_ROOT = "https://api.openagenda.com"
MAX_SIZE = 300
INCREMENTAL_MARGIN = timedelta(hours=1)


def is_file(url: str) -> bool:
    """Whether ``url`` is local (``file://`` or a path), not the API on the web."""
    return not re.match(r"^https?://", url.strip(), re.IGNORECASE)


class OpenAgendaSource(SourceConfig):
    """Settings of an ``openagenda`` source: an agenda of the API (``url`` its root), or a saved response or export.

    Without ``agenda``, ``url`` is a file (a ``file://`` URL or a path relative to sources.yaml)
    read whole as one page: an agenda's JSON export, or an API v2 response saved with ``curl``.
    With ``agenda``, ``url`` is the API root (a local folder laid out like the API works too).
    """

    kind: Literal["openagenda"] = "openagenda"
    url: str = Field(
        API_ROOT,
        description="API root (change it only to test against a local server); without agenda, a saved "
        "export or API response: a file:// URL or a path relative to sources.yaml.",
    )
    agenda: str | None = Field(
        None,
        validate_default=True,
        description="The agenda's uid, read through the API; none: url is a saved file, read whole.",
    )
    key: str | None = Field(None, description="API key, sent in the 'key' header: '${OPENAGENDA_KEY}'.")
    size: int = Field(MAX_SIZE, ge=1, le=MAX_SIZE, description="Events per page (at most 300).")
    params: dict[str, Any] = Field(default_factory=dict, description="Extra filters, e.g. {'relative[]': 'upcoming'}.")
    incremental: bool = Field(False, description="Ask only for events updated since the last run.")
    max_pages: int = Field(1000, ge=1, description="Stop after this many pages.")

    @field_validator("agenda")
    @classmethod
    def _agenda(cls, value: str | None, info: ValidationInfo) -> str | None:
        url = info.data.get("url")
        if value is None and isinstance(url, str) and not is_file(url):
            raise ValueError("required when url is the API (the agenda's uid); a saved file needs none")
        return value

    @field_validator("incremental")
    @classmethod
    def _incremental(cls, value: bool, info: ValidationInfo) -> bool:
        if value and "agenda" in info.data and info.data["agenda"] is None:
            raise ValueError(
                "reads only what changed through the API; without agenda, a saved file is read whole (remove it)"
            )
        return value


def _text(value: Any) -> str | None:
    """A monolingual value, or the French one of a multilingual map."""
    if isinstance(value, dict):
        value = value.get("fr") or next(iter(value.values()), None)
    return to_text(value)


def map_event(event: dict[str, Any]) -> list[Record]:
    """One record per session of an OpenAgenda event."""
    location = event.get("location") or {}
    registration = next(
        (r.get("value") for r in event.get("registration") or [] if isinstance(r, dict) and r.get("type") == "link"),
        None,
    )
    keywords = event.get("keywords")
    if isinstance(keywords, dict):
        keywords = keywords.get("fr")
    base: Record = {
        "title": _text(event.get("title")),
        "description": _text(event.get("longDescription")) or _text(event.get("description")),
        "venue_name": to_text(location.get("name")),
        "street_address": to_text(location.get("address")),
        "postal_code": to_text(location.get("postalCode") or location.get("postal_code")),
        "city": to_text(location.get("city")),
        "commune_insee": to_text(location.get("insee")),
        "departement": to_text(location.get("department")),
        "region": to_text(location.get("region") or event.get("region")),
        "latitude": to_text(location.get("latitude")),
        "longitude": to_text(location.get("longitude")),
        "timezone": to_text(location.get("timezone")),
        "url": to_text(event.get("canonicalUrl") or event.get("url") or event.get("link")),
        "registration_url": to_text(registration or event.get("registrationUrl")),
        "online_url": to_text(event.get("onlineAccessLink")),
        "attendance_mode": to_text(event.get("attendanceMode")),
        "status": to_text(event.get("status")),
        "keywords": to_text(keywords),
        "raw": raw_json({k: event.get(k) for k in ("uid", "title", "timings", "location", "status", "updatedAt")}),
    }
    uid = to_text(event.get("uid")) or ""
    listed = event.get("timings") or [event.get(k) for k in ("firstTiming", "lastTiming") if event.get(k)]
    timings = list(
        dict.fromkeys(
            (str(t.get("begin") or t["start"]), str(t["end"]) if t.get("end") else None)
            for t in listed
            if isinstance(t, dict) and (t.get("begin") or t.get("start"))
        )
    )
    if not timings:
        return [{**base, "uid": uid, "reject_reason": reason("no_timings", field="timings")}]
    return [{**base, "uid": f"{uid}#{start}", "start": start, "end": end} for start, end in group_sessions(timings)]


EXPECTED = "an OpenAgenda API v2 response or agenda JSON export (JSON with an 'events' list)"


def _load(page: Fetched) -> dict[str, Any]:
    data = load_json(page.content, page.url, "openagenda", EXPECTED)
    if isinstance(data, list) and all(isinstance(e, dict) and "uid" in e for e in data):
        return {"events": data}  # an export written as a bare list of events
    if isinstance(data, dict) and "title" in data and ("timings" in data or "firstTiming" in data):
        return {"events": [data]}  # one event alone
    if not isinstance(data, dict) or not isinstance(data.get("events"), list):
        raise wrong_format(page.url, "openagenda", EXPECTED, page.content)
    return data


class OpenAgendaAdapter:
    """Reads an agenda's events page by page, following the ``after`` cursor until it is null."""

    kind: ClassVar[str] = "openagenda"
    settings: ClassVar[type[SourceConfig]] = OpenAgendaSource

    def _pages(self, source: OpenAgendaSource, url: str, http: HttpClient, extra: dict[str, Any]) -> list[Fetched]:
        endpoint = f"{url.rstrip('/')}/v2/agendas/{source.agenda}/events"
        params: dict[str, Any] = {"size": source.size, "detailed": 1, "monolingual": "fr", **source.params, **extra}
        headers = {"key": source.key} if source.key else None
        cursor = Cursor(lambda page: _load(page).get("after"), "after[]")
        return paginate(http, Request(endpoint, params, headers), cursor, source.max_pages)

    def fetch(self, source: SourceConfig, url: str, http: HttpClient) -> list[Fetched]:
        """Fetch every page of the agenda's events, or (without ``agenda``) the saved file ``url`` names."""
        assert isinstance(source, OpenAgendaSource)
        if source.agenda is None:
            return [http.get(url)]
        return self._pages(source, url, http, {})

    def parse(self, page: Fetched, source: SourceConfig) -> list[Record]:
        """Map every event of one page; an event that cannot be read is rejected alone."""
        return map_items(_load(page)["events"], map_event, page.url, "event")

    def collect_incremental(
        self, source: OpenAgendaSource, url: str, http: HttpClient, state_dir: Path
    ) -> tuple[list[Record], int]:
        """Incremental read (see the module docstring). Returns the records and the pages fetched."""
        state_file = state_dir / "openagenda.json"
        state: dict[str, Any] = json.loads(state_file.read_text()) if state_file.exists() else {}
        started = datetime.now(UTC)
        kept: dict[str, list[Record]] = state.get("events", {})
        if "since" in state:
            since = datetime.fromisoformat(state["since"]) - INCREMENTAL_MARGIN
            pages = self._pages(source, url, http, {"updatedAt[gte]": since.isoformat()})
        else:
            pages = self._pages(source, url, http, {})
        for page in pages:
            for event in _load(page)["events"]:
                if isinstance(event, dict) and event.get("uid") is not None:
                    records = self.parse(Fetched(page.url, json.dumps({"events": [event]}).encode()), source)
                    kept[str(event["uid"])] = records
        if "since" in state:
            listing = self._pages(source, url, http, {"includeFields[]": "uid", "detailed": 0})
            pages += listing
            alive = {str(e.get("uid")) for p in listing for e in _load(p)["events"] if isinstance(e, dict)}
            kept = {uid: records for uid, records in kept.items() if uid in alive}
        state_dir.mkdir(parents=True, exist_ok=True)
        tmp = state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps({"since": started.isoformat(), "events": kept}, ensure_ascii=False))
        tmp.replace(state_file)
        return [r for records in kept.values() for r in records], len(pages)
