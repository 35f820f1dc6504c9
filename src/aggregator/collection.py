"""Collecting sources: fetch and parse each one, a failure becoming a failed result, never an exception."""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from urllib.parse import urlparse

import pandas as pd

from aggregator.config import Config
from aggregator.http import Fetched, FetchError, HttpClient, resolve_url
from aggregator.records import RAW_FIELDS
from aggregator.secrets import Secrets
from aggregator.settings import SourceConfig
from aggregator.sources import get_adapter
from aggregator.state import state_dir

LOG = logging.getLogger(__name__)


@dataclass
class SourceResult:
    """What fetching and parsing one source gave."""

    source_id: str
    kind: str
    url: str
    status: str  # "ok", "failed" or "disabled"
    records: pd.DataFrame
    fetched_at: pd.Timestamp
    pages: int = 0
    bytes: int = 0
    duration_s: float = 0.0
    error: str | None = None
    http_status: int | None = None
    requests: int = 0
    cache_hits: int = 0
    notes: list[str] = field(default_factory=list)
    traceback: str | None = None  # of a failure, for the logs (never shown on the console)


def source_url(source: SourceConfig, config_path: Path) -> str:
    """The source's URL, with paths made absolute against the config file's folder."""
    return resolve_url(source.url, str(config_path.resolve()))


def host_of(source: SourceConfig) -> str | None:
    """The ``host[:port]`` a source is fetched from, or None for a local file."""
    parsed = urlparse(source.url)
    return parsed.netloc.lower() if parsed.scheme in ("http", "https") else None


# Told the bytes of a source once it is fetched, before it is parsed (the run may prepare for a big one).
OnFetched = Callable[[int], None]


def collect_source(
    source: SourceConfig,
    config_path: Path,
    state_dir: Path | None = None,
    secrets: Secrets | None = None,
    on_fetched: OnFetched | None = None,
) -> SourceResult:
    """Fetch and parse one source. Raises on any failure, so that callers may retry.

    ``state_dir`` is where a source that reads incrementally keeps what it read between runs, and
    where its HTTP cache lives (from which ``secrets`` are kept out). ``on_fetched`` is told the
    bytes fetched, before they are parsed.

    Raises:
        FetchError: When the source cannot be downloaded.
        ParseError: When a page cannot be parsed at all.
    """
    adapter = get_adapter(source.kind)
    url = source_url(source, config_path)
    started = time.monotonic()
    fetched_at = pd.Timestamp.now(tz="UTC")
    remote = urlparse(url).scheme in ("http", "https")
    cache = state_dir / source.id / "http-cache.sqlite" if state_dir is not None and remote else None
    http = HttpClient(source.http, cache_path=cache, secrets=secrets)
    incremental = getattr(adapter, "collect_incremental", None)
    try:
        if incremental is not None and getattr(source, "incremental", False) and state_dir is not None:
            records, n_pages = incremental(source, url, http, state_dir / source.id)
            pages: list[Fetched] = []
        else:
            pages = adapter.fetch(source, url, http)
            if on_fetched is not None:
                on_fetched(sum(len(p.content) for p in pages))
            parse_all = getattr(adapter, "parse_all", None)
            if parse_all is not None:  # adapters whose pages complete each other (detail pages)
                records = parse_all(pages, source)
            else:
                records = [record for page in pages for record in adapter.parse(page, source)]
            n_pages = len(pages)
    finally:
        http.close()
    if secrets is not None and len(secrets):  # a key in the source's URL is in every page_url
        records = [{k: secrets.redact(v) if isinstance(v, str) else v for k, v in r.items()} for r in records]
    # Plain objects, built in one go: normalisation reads every column as such, and typed columns
    # or inserted ones cost milliseconds per source (hundreds of sources a run).
    rows = [{"source_id": source.id, "source_kind": source.kind, **record} for record in records]
    frame = pd.DataFrame(rows, columns=["source_id", "source_kind", *RAW_FIELDS, "raw", "reject_reason"], dtype=object)
    frame["fetched_at"] = fetched_at
    notes = [(secrets or Secrets()).redact(note) for note in http.notes]
    if not source.http.respect_robots and remote:
        notes.append(f"{source.id}: robots.txt not consulted (http.respect_robots: false, by permission)")
    return SourceResult(
        source_id=source.id,
        kind=source.kind,
        url=url,
        status="ok",
        records=frame,
        fetched_at=fetched_at,
        pages=n_pages,
        bytes=sum(len(p.content) for p in pages),
        duration_s=time.monotonic() - started,
        http_status=http.stats.last_status,
        requests=http.stats.requests,
        cache_hits=http.stats.cache_hits,
        notes=notes,
    )


def is_transient(error: BaseException) -> bool:
    """Whether trying ``error``'s source again later may succeed: network errors, timeouts, 429 and 5xx.

    A parse error, a robots.txt refusal, a 4xx, an oversize body or a passed deadline will fail the
    same way: they are not retried.
    """
    return isinstance(error, FetchError) and error.transient


def collect_or_raise_transient(
    source: SourceConfig,
    config_path: Path,
    state_dir: Path | None = None,
    secrets: Secrets | None = None,
    on_fetched: OnFetched | None = None,
) -> SourceResult:
    """``collect_source``, raising only what a retry may cure; any other failure is a failed result at once."""
    try:
        return collect_source(source, config_path, state_dir, secrets, on_fetched)
    except Exception as exc:
        if isinstance(exc, FetchError) and is_transient(exc):
            # Masked before it leaves: an orchestrator stores and shows the message (state, logs).
            raise FetchError((secrets or Secrets()).redact(str(exc)), exc.status, exc.transient) from None
        return failed_result(source, config_path, exc, secrets)


def failed_result(
    source: SourceConfig, config_path: Path, error: BaseException | str, secrets: Secrets | None = None
) -> SourceResult:
    """The result of a source that could not be collected (the traceback kept for the logs), ``secrets`` masked."""
    secrets = secrets or Secrets()
    message = secrets.redact(error if isinstance(error, str) else f"{type(error).__name__}: {error}")
    trace = None if isinstance(error, str) else secrets.redact("".join(traceback.format_exception(error)))
    return SourceResult(
        source_id=source.id,
        kind=source.kind,
        url=source_url(source, config_path),
        status="failed",
        records=pd.DataFrame(),
        fetched_at=pd.Timestamp.now(tz="UTC"),
        error=message,
        http_status=getattr(error, "status", None),
        traceback=trace,
    )


def collect_or_fail(
    source: SourceConfig, config_path: Path, state_dir: Path | None = None, secrets: Secrets | None = None
) -> SourceResult:
    """``collect_or_raise_transient`` with transient failures too as failed results: never an exception."""
    try:
        return collect_or_raise_transient(source, config_path, state_dir, secrets)
    except Exception as exc:
        return failed_result(source, config_path, exc, secrets)


# Collects one source, raising on failure (so that an orchestrator may retry it).
CollectOne = Callable[[SourceConfig], SourceResult]
# Runs ``CollectOne`` over the sources however the engine spreads work: a result, or the exception
# that ended the source's last attempt, per source, in the sources' order.
CollectMany = Callable[[CollectOne, list[SourceConfig]], list["SourceResult | BaseException"]]


def in_threads(
    concurrency: int,
    on_start: Callable[[SourceConfig], None] | None = None,
    on_done: Callable[[SourceConfig, SourceResult | BaseException], None] | None = None,
) -> CollectMany:
    """A ``CollectMany`` over ``concurrency`` threads of this process, with optional progress callbacks."""

    def collect_many(collect: CollectOne, sources: list[SourceConfig]) -> list[SourceResult | BaseException]:
        def one(source: SourceConfig) -> SourceResult | BaseException:
            if on_start:
                on_start(source)
            outcome: SourceResult | BaseException
            try:
                outcome = collect(source)
            except Exception as exc:
                outcome = exc
            if on_done:
                on_done(source, outcome)
            return outcome

        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            return list(pool.map(one, sources))

    return collect_many


def collect_all(
    config: Config, out_dir: Path, collect_many: CollectMany | None = None, on_fetched: OnFetched | None = None
) -> list[SourceResult]:
    """Collect every enabled source with ``collect_many`` (default: ``run.concurrency`` threads).

    ``collect_many`` receives a ``CollectOne`` that raises only transient failures (an engine may
    retry those); any other failure is already a failed result. A source that failed becomes a
    failed result; errors and tracebacks are redacted here, once, whatever the engine.
    ``on_fetched`` is told each source's bytes once fetched (``collect_source``).
    """
    sources = config.enabled_sources
    collect = partial(
        collect_or_raise_transient,
        config_path=config.path,
        state_dir=state_dir(out_dir),
        secrets=config.secrets,
        on_fetched=on_fetched,
    )
    outcomes = (collect_many or in_threads(config.run.concurrency))(collect, sources)
    results = []
    for source, outcome in zip(sources, outcomes, strict=True):
        if isinstance(outcome, SourceResult):
            result = outcome
        else:
            result = failed_result(source, config.path, outcome, config.secrets)
        result.error = config.secrets.redact(result.error) if result.error else None
        result.traceback = config.secrets.redact(result.traceback) if result.traceback else None
        if result.traceback:
            LOG.debug("%s failed:\n%s", source.id, result.traceback)
        results.append(result)
    return results
