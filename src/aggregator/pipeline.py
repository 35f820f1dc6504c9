"""The stages of a run, as plain functions the CLI and the Prefect flow both call."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from aggregator import stats
from aggregator.config import Config, SourceConfig
from aggregator.dedupe import dedupe
from aggregator.http import Fetched, HttpClient, resolve_url
from aggregator.normalise import normalise
from aggregator.publish import read_previous, write_json, write_stat, write_table, write_text
from aggregator.schema import EVENTS, LISTINGS, MATCHES, REJECTS
from aggregator.secrets import Secrets
from aggregator.sources import get_adapter
from aggregator.sources.base import RAW_FIELDS
from aggregator.totals import build_totals, render_markdown


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

    @property
    def status(self) -> str:
        """``success``, ``partial`` (some sources failed) or ``failed`` (nothing published)."""
        if self.errors and not self.counts:
            return "failed"
        if any(s["status"] == "failed" for s in self.sources):
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


def source_url(source: SourceConfig, config_path: Path) -> str:
    """The source's URL, with paths made absolute against the config file's folder."""
    return resolve_url(source.url, str(config_path.resolve()))


def collect_source(source: SourceConfig, config_path: Path, state_dir: Path | None = None) -> SourceResult:
    """Fetch and parse one source. Raises on any failure, so that callers may retry.

    ``state_dir`` is where a source that reads incrementally keeps what it read between runs.

    Raises:
        FetchError: When the source cannot be downloaded.
        ParseError: When a page cannot be parsed at all.
    """
    adapter = get_adapter(source.kind)
    url = source_url(source, config_path)
    started = time.monotonic()
    fetched_at = pd.Timestamp.now(tz="UTC")
    http = HttpClient(source.http)
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
    frame = pd.DataFrame.from_records(records, columns=[*RAW_FIELDS, "raw", "reject_reason"])
    frame.insert(0, "source_id", source.id)
    frame.insert(1, "source_kind", source.kind)
    frame["fetched_at"] = fetched_at
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
    )


def collect_or_fail(source: SourceConfig, config_path: Path, state_dir: Path | None = None) -> SourceResult:
    """``collect_source`` that turns any exception into a failed result: one source never stops a run."""
    try:
        return collect_source(source, config_path, state_dir)
    except Exception as exc:
        return failed_result(source, config_path, exc)


def build_outputs(
    results: list[SourceResult],
    config: Config,
    run_at: pd.Timestamp,
    previous_events: pd.DataFrame | None,
    previous_listings: pd.DataFrame | None = None,
) -> Outputs:
    """Normalise, deduplicate and summarise the collected sources (pure: no I/O)."""
    frames = [r.records for r in results if r.status == "ok" and len(r.records)]
    raw = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["source_id", "source_kind"])
    by_id = {s.id: s for s in config.sources}
    normalised = normalise(raw, by_id, reference=run_at.tz_convert("Europe/Paris").date())
    merged = dedupe(
        normalised.listings,
        {s.id: s.priority for s in config.sources},
        run_at,
        previous_events,
        previous_listings,
        config.dedupe,
    )
    listings, events = merged.listings, merged.events
    source_table = pd.DataFrame(
        [{"source_id": r.source_id, "kind": r.kind, "status": r.status} for r in results],
        columns=["source_id", "kind", "status"],
    )
    tables = stats.all_tables(listings, events, normalised.rejects, source_table)
    totals = build_totals(events, listings, normalised.rejects, tables["by_region"], tables["by_departement"], run_at)
    return Outputs(listings, events, normalised.rejects, merged.matches, tables, totals, normalised.warnings)


def publish(outputs: Outputs, out_dir: Path) -> dict[str, str]:
    """Write every output under ``out_dir``; returns output name -> path. Each file is atomic."""
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
    return written


def source_entry(result: SourceResult, outputs: Outputs | None) -> dict[str, Any]:
    """One source's line in ``run.json``."""
    listings = rejects = 0
    if outputs is not None:
        listings = int((outputs.listings["source_id"] == result.source_id).sum())
        rejects = int((outputs.rejects["source_id"] == result.source_id).sum())
    return {
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
        "error": result.error,
    }


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
        if not any(r.status == "ok" for r in results):
            raise RuntimeError("no source could be collected: nothing to publish")
        outputs = build(results)
        write(outputs)
        report.counts = {
            "listings": len(outputs.listings),
            "events": len(outputs.events),
            "rejects": len(outputs.rejects),
        }
        report.headline = str(outputs.totals["headline"])
        report.warnings = list(outputs.warnings)
    except Exception as exc:
        report.errors.append(f"{type(exc).__name__}: {exc}")
    report.sources = [source_entry(r, outputs) for r in results]
    report.errors = [f"{r.source_id}: {r.error}" for r in results if r.error] + report.errors
    report.finished_at = pd.Timestamp.now(tz="UTC")
    write_json(report.to_dict(config.secrets), out_dir / "run.json")
    return report


def run(config: Config, out_dir: Path, engine: str = "local") -> RunReport:
    """Run every enabled source through every stage in this process, without Prefect."""
    report = new_report(config, out_dir, engine)
    results = [collect_or_fail(s, config.path, state_dir(out_dir)) for s in config.enabled_sources]
    previous = read_previous(out_dir / "events.parquet")
    previous_listings = read_previous(out_dir / "listings.parquet")
    return finish(
        report,
        results,
        config,
        out_dir,
        build=lambda rs: build_outputs(rs, config, report.started_at, previous, previous_listings),
        write=lambda outputs: publish(outputs, out_dir),
    )
