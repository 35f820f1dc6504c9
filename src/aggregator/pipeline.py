"""The stages of a run, as plain functions the CLI and the Prefect flow both call."""

from __future__ import annotations

import multiprocessing
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pandas as pd

from aggregator import stats
from aggregator.config import Config
from aggregator.dedupe import dedupe
from aggregator.dedupe.blocks import MapBlocks
from aggregator.health import alarm, stale_since
from aggregator.history import active, carry_removed, changes
from aggregator.http import Fetched, HttpClient, resolve_url
from aggregator.normalise import MapChunks, Normalised, normalise
from aggregator.publish import read_previous, remove_leftovers, write_json, write_stat, write_table, write_text
from aggregator.report import render_report
from aggregator.runs import promote, run_dir
from aggregator.schema import CHANGES, EVENTS, LISTINGS, MATCHES, REJECTS, SOURCE_HEALTH
from aggregator.secrets import Secrets
from aggregator.settings import SourceConfig
from aggregator.sources import get_adapter
from aggregator.sources.base import RAW_FIELDS
from aggregator.storage import hydrate, is_remote, local_mirror, upload
from aggregator.totals import build_totals, edition_summary, render_markdown
from aggregator.validation import conform


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


@dataclass
class Previous:
    """What earlier runs left that this run builds on (read from the output folder by ``read_state``)."""

    events: pd.DataFrame | None = None
    listings: pd.DataFrame | None = None
    health: pd.DataFrame | None = None
    last_good: dict[str, pd.DataFrame] = field(default_factory=dict)


@dataclass
class SourceHealth:
    """One source's verdict in this run: fresh, or stale (failed or broken) with what was kept."""

    source_id: str
    status: str  # "ok", "failed" or "broken"
    alarm: str | None = None
    stale_since: pd.Timestamp | None = None
    stale_listings: int = 0


@dataclass
class Outputs:
    """Everything a run publishes, before it is written."""

    listings: pd.DataFrame
    events: pd.DataFrame
    rejects: pd.DataFrame
    matches: pd.DataFrame
    stats: dict[str, pd.DataFrame]
    totals: dict[str, Any]
    warnings: list[str] = field(default_factory=list)
    health: dict[str, SourceHealth] = field(default_factory=dict)
    health_rows: pd.DataFrame | None = None
    report_html: str | None = None
    changes: pd.DataFrame | None = None


@dataclass
class RunReport:
    """The content of ``run.json``: what ran, what failed, what was published."""

    run_id: str
    started_at: pd.Timestamp
    config: str
    out: str
    engine: str
    sources: list[dict[str, Any]] = field(default_factory=list)
    finished_at: pd.Timestamp | None = None
    counts: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    headline: str = ""
    errors_fatal: bool = False

    @property
    def status(self) -> str:
        """``success``, ``partial`` or ``failed`` (nothing published).

        ``partial``: published, but some sources failed or looked broken; their last good data, if
        any, was kept and flagged ``stale_since``.
        """
        if self.errors_fatal or (self.errors and not self.counts):
            return "failed"
        if any(s["status"] in ("failed", "broken") for s in self.sources):
            return "partial"
        return "success"

    def to_dict(self, secrets: Secrets) -> dict[str, Any]:
        """A JSON-ready dict; every string passes through the secrets redactor."""
        finished = self.finished_at or pd.Timestamp.now(tz="UTC")
        data = {
            "run_id": self.run_id,
            "status": self.status,
            "started_at": self.started_at.isoformat(),
            "finished_at": finished.isoformat(),
            "duration_s": round((finished - self.started_at).total_seconds(), 3),
            "engine": self.engine,
            "config": self.config,
            "out": self.out,
            "counts": self.counts,
            "headline": self.headline,
            "sources": self.sources,
            "errors": self.errors,
            "warnings": self.warnings,
        }
        return _redact(data, secrets)  # type: ignore[no-any-return]


def _redact(value: Any, secrets: Secrets) -> Any:
    if isinstance(value, str):
        return secrets.redact(value)
    if isinstance(value, dict):
        return {k: _redact(v, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact(v, secrets) for v in value]
    return value


def state_dir(out_dir: Path) -> Path:
    """Where sources keep state between runs (incremental reads), inside the output folder."""
    return out_dir / ".state" / "sources"


def last_good_path(out_dir: Path, source_id: str) -> Path:
    """Where a source's last good listings are kept, to stand in for it when it fails."""
    return state_dir(out_dir) / source_id / "last_good.parquet"


def health_path(out_dir: Path) -> Path:
    """The source health history: one row per source and run."""
    return out_dir / "history" / "source_health.parquet"


def read_state(out_dir: Path, config: Config) -> Previous:
    """Read what earlier runs left in ``out_dir`` (missing or unreadable files count as absent)."""
    last_good = {}
    for source in config.enabled_sources:
        frame = read_previous(last_good_path(out_dir, source.id))
        if frame is not None:
            last_good[source.id] = frame
    return Previous(
        events=read_previous(out_dir / "events.parquet"),
        listings=read_previous(out_dir / "listings.parquet"),
        health=read_previous(health_path(out_dir)),
        last_good=last_good,
    )


def source_url(source: SourceConfig, config_path: Path) -> str:
    """The source's URL, with paths made absolute against the config file's folder."""
    return resolve_url(source.url, str(config_path.resolve()))


def collect_source(
    source: SourceConfig, config_path: Path, state_dir: Path | None = None, secrets: Secrets | None = None
) -> SourceResult:
    """Fetch and parse one source. Raises on any failure, so that callers may retry.

    ``state_dir`` is where a source that reads incrementally keeps what it read between runs, and
    where its HTTP cache lives (from which ``secrets`` are kept out).

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
            parse_all = getattr(adapter, "parse_all", None)
            if parse_all is not None:  # adapters whose pages complete each other (detail pages)
                records = parse_all(pages, source)
            else:
                records = [record for page in pages for record in adapter.parse(page, source)]
            n_pages = len(pages)
    finally:
        http.close()
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


def failed_result(source: SourceConfig, config_path: Path, error: BaseException | str) -> SourceResult:
    """The result of a source that could not be collected."""
    message = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
    return SourceResult(
        source_id=source.id,
        kind=source.kind,
        url=source_url(source, config_path),
        status="failed",
        records=pd.DataFrame(),
        fetched_at=pd.Timestamp.now(tz="UTC"),
        error=message,
        http_status=getattr(error, "status", None),
    )


def collect_or_fail(
    source: SourceConfig, config_path: Path, state_dir: Path | None = None, secrets: Secrets | None = None
) -> SourceResult:
    """``collect_source`` that turns any exception into a failed result: one source never stops a run."""
    try:
        return collect_source(source, config_path, state_dir, secrets)
    except Exception as exc:
        return failed_result(source, config_path, exc)


def assess_sources(
    results: list[SourceResult], config: Config, run_at: pd.Timestamp, previous: Previous
) -> tuple[dict[str, SourceHealth], pd.DataFrame]:
    """Each source's health in this run, and the last good listings standing in for the stale ones.

    A source is ``failed`` when it could not be collected, ``broken`` when it answered with zero
    items or far fewer than its recent median (``run.health_drop``, ``run.health_window``): either
    way its last good listings are kept, flagged with ``stale_since``.
    """
    verdicts: dict[str, SourceHealth] = {}
    stale_frames = []
    for result in results:
        status, why = result.status, None
        if status == "ok":
            why = alarm(len(result.records), previous.health, result.source_id, config.run.health_drop,
                        config.run.health_window)  # fmt: skip
            status = "broken" if why else "ok"
        verdict = SourceHealth(result.source_id, status, alarm=why)
        if status != "ok":
            verdict.stale_since = stale_since(previous.health, result.source_id, run_at)
            kept = previous.last_good.get(result.source_id)
            if kept is not None and len(kept):
                stale_frames.append(kept.assign(stale_since=verdict.stale_since))
                verdict.stale_listings = len(kept)
        verdicts[result.source_id] = verdict
    stale = pd.concat(stale_frames, ignore_index=True) if stale_frames else LISTINGS.empty_frame()
    return verdicts, stale


def health_rows(
    results: list[SourceResult],
    verdicts: dict[str, SourceHealth],
    listings: pd.DataFrame,
    rejects: pd.DataFrame,
    run_id: str,
    run_at: pd.Timestamp,
) -> pd.DataFrame:
    """This run's rows of the ``source_health`` history."""
    published = listings["source_id"].value_counts()
    rejected = rejects["source_id"].value_counts()
    rows = []
    for r in results:
        verdict = verdicts[r.source_id]
        rows.append(
            {
                "run_id": run_id,
                "run_at": run_at,
                "source_id": r.source_id,
                "status": verdict.status,
                "items_fetched": len(r.records),
                "items_published": int(published.get(r.source_id, 0)),
                "rejects": int(rejected.get(r.source_id, 0)),
                "stale_listings": verdict.stale_listings,
                "http_status": r.http_status,
                "requests": r.requests,
                "cache_hits": r.cache_hits,
                "bytes": r.bytes,
                "duration_s": float(r.duration_s),
                "alarm": verdict.alarm,
                "error": r.error,
                "stale_since": verdict.stale_since,
            }
        )
    return conform(pd.DataFrame(rows, columns=SOURCE_HEALTH.names), SOURCE_HEALTH)


def partitions(config: Config, rows: int) -> int:
    """How many partitions a stage cuts ``rows`` rows into (``run.partition_rows`` each)."""
    return max(1, -(-rows // config.run.partition_rows))


def in_processes(processes: int) -> MapChunks:
    """A ``map`` that spreads partitions over up to ``processes`` worker processes.

    One partition (or ``processes`` 1) runs here: starting workers costs about 3 s. Workers are
    started from a forkserver, a clean single-threaded process, not forked from this threaded one.
    """

    def map_parts(func: Callable[[pd.DataFrame], Normalised], items: list[pd.DataFrame]) -> list[Normalised]:
        if processes <= 1 or len(items) <= 1:
            return [func(item) for item in items]
        context = multiprocessing.get_context("forkserver")
        with ProcessPoolExecutor(max_workers=min(processes, len(items)), mp_context=context) as pool:
            return list(pool.map(func, items))

    return map_parts


def build_outputs(
    results: list[SourceResult],
    config: Config,
    run_at: pd.Timestamp,
    previous: Previous | None = None,
    run_id: str = "",
    map_chunks: MapChunks | None = None,
    map_blocks: MapBlocks | None = None,
) -> Outputs:
    """Judge the sources' health, normalise, deduplicate and summarise (pure: no I/O).

    Sources that failed or look broken contribute their last good listings (``previous.last_good``),
    flagged ``stale_since``, so that one bad night does not make their events vanish.

    Args:
        results: This run's collected sources.
        config: The run's configuration.
        run_at: Start of the run.
        previous: The last run's published state.
        run_id: This run's id.
        map_chunks: The ``map`` that runs the normalisation ``partitions`` (worker processes, Dask
            workers); None: all here.
        map_blocks: The ``map`` that runs deduplication's scoring and clustering on ``partitions``
            of whole components (Dask workers); None: all at once, here.
    """
    previous = previous or Previous()
    verdicts, stale = assess_sources(results, config, run_at, previous)
    fresh = [r for r in results if verdicts[r.source_id].status == "ok" and len(r.records)]
    raw = (
        pd.concat([r.records for r in fresh], ignore_index=True)
        if fresh
        else pd.DataFrame(columns=["source_id", "source_kind"])
    )
    by_id = {s.id: s for s in config.sources}
    reference = run_at.tz_convert("Europe/Paris").date()
    normalised = normalise(raw, by_id, reference, partitions(config, len(raw)), map_chunks)
    rows = normalised.listings
    if len(stale):
        rows = pd.concat([conform(rows, LISTINGS), conform(stale, LISTINGS)], ignore_index=True)
    merged = dedupe(
        rows,
        {s.id: s.priority for s in config.sources},
        run_at,
        previous.events,
        previous.listings,
        config.dedupe,
        partitions(config, len(rows)) if map_blocks is not None else 1,
        map_blocks,
    )
    listings = merged.listings
    # Events no source lists any more stay, flagged removed_at; statistics count the others.
    events = carry_removed(merged.events, previous.events, run_at)
    change_rows = changes(events, previous.events, run_id, run_at)
    live = active(events)
    source_table = pd.DataFrame(
        [{"source_id": r.source_id, "kind": r.kind, "status": verdicts[r.source_id].status} for r in results],
        columns=["source_id", "kind", "status"],
    )
    tables = stats.all_tables(listings, live, normalised.rejects, source_table)
    tables["by_edition"] = stats.by_edition(events)  # all editions seen, past events included
    totals = build_totals(live, listings, normalised.rejects, tables["by_region"], tables["by_departement"], run_at)
    edition = edition_summary(tables["by_edition"], run_at)
    totals["edition"] = edition["edition"]
    totals["sentences"]["edition"] = edition["sentence"]
    warnings = list(normalised.warnings)
    for r in results:
        warnings.extend(r.notes)
        verdict = verdicts[r.source_id]
        if verdict.status == "ok":
            continue
        cause = f"looks broken: {verdict.alarm}" if verdict.status == "broken" else "failed"
        kept = (
            f"its last good data ({verdict.stale_listings} listings) is kept, stale since "
            f"{verdict.stale_since.isoformat() if verdict.stale_since is not None else '?'}"
            if verdict.stale_listings
            else "no earlier good data to keep: it contributes nothing"
        )
        warnings.append(f"source {r.source_id} {cause}; {kept}")
    health = health_rows(results, verdicts, listings, normalised.rejects, run_id, run_at)
    html = render_report(totals, tables, live)
    return Outputs(
        listings, events, normalised.rejects, merged.matches, tables, totals, warnings, verdicts, health, html,
        change_rows,
    )  # fmt: skip


def publish(outputs: Outputs, out_dir: Path, folder: Path | None = None) -> dict[str, str]:
    """Write every output into the run's ``folder`` (a new folder under ``out_dir/runs``).

    Nothing is visible to readers until ``finish`` switches ``latest`` to the folder. Histories
    (changes, source health) are last run's rows plus this run's; the state of sources (last good
    data) is kept under ``out_dir/.state``. Returns output name -> path.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    remove_leftovers(out_dir)
    state_root = out_dir
    out_dir = folder if folder is not None else out_dir
    out_dir.mkdir(parents=True, exist_ok=True)
    written: dict[str, str] = {}
    for table, frame in (
        (EVENTS, outputs.events),
        (LISTINGS, outputs.listings),
        (REJECTS, outputs.rejects),
        (MATCHES, outputs.matches),
    ):
        path = out_dir / f"{table.name}.parquet"
        write_table(frame, table, path)
        written[table.name] = str(path)
    for name, frame in outputs.stats.items():
        write_stat(frame, out_dir / "stats", name)
    written["stats"] = str(out_dir / "stats")
    write_json(outputs.totals, out_dir / "totals.json")
    write_text(render_markdown(outputs.totals), out_dir / "totals.md")
    written["totals"] = str(out_dir / "totals.json")
    written["totals_md"] = str(out_dir / "totals.md")
    if outputs.report_html is not None:
        write_text(outputs.report_html, out_dir / "report.html")
        written["report"] = str(out_dir / "report.html")
    for table, rows, path in (
        (SOURCE_HEALTH, outputs.health_rows, health_path(out_dir)),
        (CHANGES, outputs.changes, out_dir / "changes.parquet"),
    ):
        if rows is not None:  # histories: earlier runs' rows (through latest), then this run's
            history = read_previous(state_root / path.relative_to(out_dir))
            frames = [conform(f, table) for f in (history, rows) if f is not None and len(f)]
            write_table(pd.concat(frames, ignore_index=True) if frames else table.empty_frame(), table, path)
            written[table.name] = str(path)
    # Fresh sources' listings become their last good data, to stand in for them on a bad night.
    fresh = outputs.listings[outputs.listings["stale_since"].isna()]
    for source_id, verdict in outputs.health.items():
        if verdict.status == "ok":
            # Rows of the listings validated above: the per-source copies are not validated again.
            write_table(conform(fresh[fresh["source_id"] == source_id], LISTINGS), LISTINGS,
                        last_good_path(state_root, source_id), validated=True)  # fmt: skip
    return written


def source_entry(result: SourceResult, outputs: Outputs | None) -> dict[str, Any]:
    """One source's line in ``run.json``."""
    listings = rejects = 0
    if outputs is not None:
        listings = int((outputs.listings["source_id"] == result.source_id).sum())
        rejects = int((outputs.rejects["source_id"] == result.source_id).sum())
    entry: dict[str, Any] = {
        "id": result.source_id,
        "kind": result.kind,
        "url": result.url,
        "status": result.status,
        "pages": result.pages,
        "bytes": result.bytes,
        "records": len(result.records),
        "listings": listings,
        "rejects": rejects,
        "duration_s": round(result.duration_s, 3),
        "http_status": result.http_status,
        "requests": result.requests,
        "cache_hits": result.cache_hits,
        "error": result.error,
    }
    verdict = outputs.health.get(result.source_id) if outputs is not None else None
    if verdict is not None:
        entry["status"] = verdict.status
        entry["alarm"] = verdict.alarm
        entry["stale_since"] = verdict.stale_since.isoformat() if verdict.stale_since is not None else None
        entry["stale_listings"] = verdict.stale_listings
    return entry


def new_report(config: Config, out_dir: Path, engine: str) -> RunReport:
    """A report for a run that starts now."""
    return RunReport(
        run_id=uuid.uuid4().hex[:12],
        started_at=pd.Timestamp.now(tz="UTC"),
        config=str(config.path),
        out=str(out_dir),
        engine=engine,
    )


def finish(
    report: RunReport,
    results: list[SourceResult],
    config: Config,
    out_dir: Path,
    build: Callable[[list[SourceResult]], Outputs],
    write: Callable[[Outputs], dict[str, str]],
) -> RunReport:
    """Build and publish from collected results, then write ``run.json``; failures are recorded, not raised."""
    outputs: Outputs | None = None
    try:
        outputs = build(results)
        if not any(v.status == "ok" for v in outputs.health.values()) and not any(
            v.stale_listings for v in outputs.health.values()
        ):
            raise RuntimeError("no source could be collected and none has earlier good data: nothing to publish")
        write(outputs)
        report.counts = {
            "listings": len(outputs.listings),
            "events": len(active(outputs.events)),
            "rejects": len(outputs.rejects),
        }
        report.headline = str(outputs.totals["headline"])
        report.warnings = list(outputs.warnings)
    except Exception as exc:
        report.errors.append(f"{type(exc).__name__}: {exc}")
        report.errors_fatal = True
    report.sources = [source_entry(r, outputs) for r in results]
    report.errors = [f"{r.source_id}: {r.error}" for r in results if r.error] + report.errors
    report.finished_at = pd.Timestamp.now(tz="UTC")
    folder = run_dir(out_dir, report.started_at, report.run_id)
    write_json(report.to_dict(config.secrets), folder / "run.json")  # last: the folder is complete
    promote(out_dir, folder, published=outputs is not None and not report.errors_fatal, keep=config.run.keep_runs)
    return report


def collect_all(
    config: Config,
    out_dir: Path,
    on_start: Callable[[SourceConfig], None] | None = None,
    on_done: Callable[[SourceResult], None] | None = None,
) -> list[SourceResult]:
    """Collect every enabled source, ``run.concurrency`` at a time; failures become failed results."""
    sources = config.enabled_sources

    def one(source: SourceConfig) -> SourceResult:
        if on_start:
            on_start(source)
        result = collect_or_fail(source, config.path, state_dir(out_dir), config.secrets)
        result.error = config.secrets.redact(result.error) if result.error else None
        if on_done:
            on_done(result)
        return result

    with ThreadPoolExecutor(max_workers=config.run.concurrency) as pool:
        return list(pool.map(one, sources))


def run(
    config: Config,
    out_dir: Path | str,
    engine: str = "local",
    on_start: Callable[[SourceConfig], None] | None = None,
    on_done: Callable[[SourceResult], None] | None = None,
) -> RunReport:
    """Run every enabled source through every stage in this process, without Prefect.

    ``out_dir`` is a local folder or an fsspec URL (``s3://bucket/prefix``): see ``storage``.
    """
    return with_storage(config, out_dir, lambda local: _run_local(config, local, engine, on_start, on_done))


def with_storage(config: Config, out: Path | str, body: Callable[[Path], RunReport]) -> RunReport:
    """Run ``body`` on the local output folder; for a remote ``out``, on its mirror, then upload."""
    if not is_remote(str(out)):
        return body(Path(out))
    url = str(out)
    local = local_mirror(url)
    hydrate(url, local, config.run.keep_runs)
    report = body(local)
    report.out = url
    try:
        upload(local, url, config.run.keep_runs)
    except Exception as exc:  # the data stays in the local mirror; the run must say it is not published
        report.errors.append(f"upload to {url} failed: {type(exc).__name__}: {exc}")
        report.errors_fatal = True
    write_json(report.to_dict(config.secrets), (local / "last-run").resolve() / "run.json")
    return report


def _run_local(
    config: Config,
    out_dir: Path,
    engine: str,
    on_start: Callable[[SourceConfig], None] | None,
    on_done: Callable[[SourceResult], None] | None,
) -> RunReport:
    report = new_report(config, out_dir, engine)
    results = collect_all(config, out_dir, on_start, on_done)
    previous = read_state(out_dir, config)
    return finish(
        report,
        results,
        config,
        out_dir,
        build=lambda rs: build_outputs(
            rs, config, report.started_at, previous, report.run_id, map_chunks=in_processes(config.run.processes)
        ),
        write=lambda outputs: publish(outputs, out_dir, run_dir(out_dir, report.started_at, report.run_id)),
    )
