"""The settings models of sources.yaml: what each setting means, its default and its bounds.

A leaf: it imports nothing of the project, so that adapters, the HTTP client and the loader
(``config.py``) all depend on it and never on each other.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9_-]{0,62}[a-z0-9])?$")
URL_SCHEMES = ("http", "https", "file")


def _time_zone(value: str) -> str:
    """``value`` when it names an IANA time zone (Europe/Paris, America/Cayenne)."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {value!r} (an IANA name, e.g. Europe/Paris)") from None
    return value


class HttpSettings(BaseModel):
    """How sources are fetched; shared by all sources unless a source overrides it."""

    model_config = ConfigDict(extra="forbid")

    timeout_s: float = Field(
        30.0, gt=0, description="Connect timeout, and longest wait for the next byte of an answer, in seconds."
    )
    deadline_s: float = Field(
        300.0,
        gt=0,
        description="Time allowed for all of a source's requests (every page, retries and their waits "
        "included), in seconds; past it the source fails and its last good data is kept.",
    )
    retry_after_max_s: float = Field(
        120.0, ge=0, description="Longest wait between two attempts, a server's Retry-After included, in seconds."
    )
    retries: int = Field(3, ge=0, le=10, description="Retries on connection errors, 429 and 5xx.")
    backoff_s: float = Field(1.0, ge=0, description="Base of the exponential backoff between retries.")
    max_bytes: int = Field(20_000_000, gt=0, description="Largest response body accepted, in bytes.")
    user_agent: str = Field(
        "aggregator/0.1 (+https://github.com/aggregator/aggregator; events statistics)",
        description="User-Agent sent with every request; name the project and a contact URL.",
    )
    headers: dict[str, str] = Field(default_factory=dict, description="Extra request headers.")
    contact: str | None = Field(
        None, description="Contact URL or e-mail appended to the User-Agent, so site owners can reach us."
    )
    min_interval_s: float = Field(1.0, ge=0, description="Least time between two requests to one host, in seconds.")
    host_concurrency: int = Field(1, ge=1, le=16, description="Requests in flight to one host at a time.")
    respect_robots: bool = Field(
        True, description="Obey robots.txt; false only for sites that gave permission (logged on every run)."
    )
    max_redirects: int = Field(5, ge=0, le=30, description="Redirects followed before giving up.")
    allow_private: bool = Field(
        False,
        description="Declare the source local: its redirects may lead to loopback or private addresses "
        "(always allowed when the source's own URL is on one).",
    )
    cache: bool = Field(True, description="Keep responses between runs and revalidate them (ETag / Last-Modified).")

    @property
    def user_agent_header(self) -> str:
        """The User-Agent sent: ``user_agent``, with ``contact`` appended when given."""
        return f"{self.user_agent} (contact: {self.contact})" if self.contact else self.user_agent


class ScheduleSettings(BaseModel):
    """When the nightly deployment runs."""

    model_config = ConfigDict(extra="forbid")

    cron: str = Field("0 2 * * *", description="Cron expression of the nightly run.")
    timezone: str = Field("Europe/Paris", description="IANA time zone the cron expression is read in.")

    @field_validator("cron")
    @classmethod
    def _cron(cls, value: str) -> str:
        from datetime import datetime

        from cronsim import CronSim, CronSimError

        try:
            CronSim(value, datetime(2026, 1, 1))
        except CronSimError as exc:
            raise ValueError(f"{value!r} is not a cron expression ({exc})") from None
        return value

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str) -> str:
        return _time_zone(value)


class RunSettings(BaseModel):
    """How a run fetches its sources and judges their health."""

    model_config = ConfigDict(extra="forbid")

    concurrency: int = Field(4, ge=1, le=32, description="Sources fetched at the same time.")
    health_drop: float = Field(
        0.5,
        gt=0,
        lt=1,
        description="A source whose item count falls by more than this fraction of its recent median is broken.",
    )
    health_window: int = Field(7, ge=1, le=100, description="Recent good runs whose median item count is the norm.")
    health_reject_share: float = Field(
        0.5,
        gt=0,
        le=1,
        description="A source with more than this fraction of its records rejected is broken "
        "(one whose records all are, always).",
    )
    keep_runs: int = Field(7, ge=1, le=1000, description="Published runs kept in the output folder (runs/).")
    lock_wait_s: float = Field(
        60.0,
        ge=0,
        description="How long a run waits for another run holding the same output to finish, in seconds; "
        "then it exits (status 4) without touching anything.",
    )
    task_runner: Literal["threads", "dask"] = Field(
        "threads", description="Where the flow's tasks run: threads of the flow's process, or Dask workers."
    )
    dask_address: str | None = Field(
        None, description="Address of an existing Dask scheduler (tcp://host:8786); none: a local cluster."
    )
    dask_workers: int = Field(2, ge=1, le=256, description="Worker processes of the local Dask cluster.")
    processes: int = Field(
        2,
        ge=1,
        le=256,
        description="Processes normalising partitions in a run without Prefect (1: the run's own); above 1, "
        "the maps and charts are also drawn in a helper process while the tables are written.",
    )
    partition_rows: int = Field(
        100_000,
        ge=1,
        description="Most raw records per normalisation partition; more than half of it are cut in at least "
        "two partitions (as many as a multiple of run.processes, for equal shares), fewer are normalised whole.",
    )
    people_files_max_events: int = Field(
        20_000,
        ge=0,
        description="Most events for which the files made for people are written (events.xlsx, calendars/, "
        "events.geojson, events.jsonld: made for a month's programme; together about 0.6 ms per event); "
        "above, a warning says they were left out. events.csv, Parquet, statistics, maps and the report "
        "are always written.",
    )
    schedule: ScheduleSettings = Field(
        default_factory=ScheduleSettings, description="When the nightly deployment runs (table below)."
    )


class DedupeSettings(BaseModel):
    """How listings are paired, scored and clustered. Scores are 0-100 (rapidfuzz)."""

    model_config = ConfigDict(extra="forbid")

    block_on: Literal["departement", "region"] = Field(
        "departement", description="Place block of candidate pairs (region: larger blocks, more pairs)."
    )
    title_accept: float = Field(88.0, description="Title similarity that, with compatible times, is a match.")
    title_with_place: float = Field(75.0, description="Lower title similarity accepted when the place agrees.")
    title_subset: float = Field(
        95.0, description="One title's words contained in the other's (token_set_ratio), with the place agreeing."
    )
    title_near_miss: float = Field(60.0, description="Pairs above this but not accepted are kept as near misses.")
    title_cluster_floor: float = Field(70.0, description="Every member of a cluster must be this close in title.")
    venue_agree: float = Field(80.0, description="Venue similarity taken as the same place.")
    time_tolerance_min: int = Field(5, ge=0, description="Start times this close are the same time.")
    timezone_shifts_h: tuple[int, ...] = Field(
        (1, 2), description="Hour offsets accepted across sources as a time-zone error (never within one source)."
    )
    max_block_listings: int = Field(
        2000,
        ge=2,
        description="Listings of one place block on one day above which only those with the same title key are "
        "compared: bounds the candidate pairs (a venue with thousands of same-day events), said in the run's warnings.",
    )


class SourceConfig(BaseModel):
    """Settings every source has, whatever its kind; adapters subclass it with their own settings."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(description="Slug naming the source: lowercase letters, digits, '-' and '_'.")
    kind: str = Field(description="Adapter that reads the source (see the registry of kinds).")
    url: str = Field(description="http(s) URL, file:// URL or path relative to sources.yaml.")
    name: str | None = Field(None, description="Human-readable name of the source.")
    enabled: bool = Field(True, description="false: the source stays in the file but is not run.")
    priority: int = Field(50, ge=0, le=100, description="Higher wins when merging duplicates.")
    timezone: str = Field("Europe/Paris", description="IANA zone for times given without offset.")
    region: str | None = Field(None, description="Region the source covers (code or name).")
    departement: str | None = Field(None, description="Département the source covers (code or name).")
    reference_date: date | None = Field(
        None, description="Date used to infer missing years in French dates (default: the run's date)."
    )
    http: HttpSettings = Field(default_factory=HttpSettings, description="How the source is fetched (table below).")

    @field_validator("id")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not SLUG.match(value):
            raise ValueError(f"{value!r} is not a slug (lowercase letters, digits, '-' or '_', 1-64 characters)")
        return value

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("must not be empty")
        scheme = re.match(r"^([A-Za-z][A-Za-z0-9+.-]*)://", value)
        if scheme and scheme.group(1).lower() not in URL_SCHEMES:
            raise ValueError(f"scheme {scheme.group(1)!r} not supported; use http, https or file")
        return value

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str) -> str:
        return _time_zone(value)
