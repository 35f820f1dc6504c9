"""The run report (``run.json``): what ran, what failed, what was published, secrets masked."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from aggregator.collection import SourceResult
from aggregator.config import Config
from aggregator.french import typography
from aggregator.lock import new_run_id
from aggregator.outputs import Outputs
from aggregator.secrets import Secrets


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
    files: dict[str, dict[str, object]] = field(default_factory=dict)

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
            "files": self.files,
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
        entry["reject_mix"] = verdict.reject_mix
    return entry


class RunCrashedError(RuntimeError):
    """A run ended without writing its report (run.json); the message says why."""


def new_report(config: Config, out_dir: Path, engine: str, run_id: str | None = None) -> RunReport:
    """A report for a run that starts now (``run_id``: one chosen by the caller, else a new one)."""
    return RunReport(
        run_id=run_id or new_run_id(),
        started_at=pd.Timestamp.now(tz="UTC"),
        config=str(config.path),
        out=str(out_dir),
        engine=engine,
    )


def outputs_sentence(where: str, people_files: bool = True) -> str:
    """The French sentence that tells, after a run, where its outputs are.

    Args:
        where: The output folder.
        people_files: Whether events.xlsx, calendars/, events.geojson and events.jsonld were written
            (``run.people_files_max_events``).
    """
    people = (
        "events.xlsx et events.csv (tableurs), calendars/ (agendas), maps/ (cartes), events.geojson, events.jsonld, "
        if people_files
        else "events.csv (tableur), maps/ (cartes), "
    )
    return typography(
        f"Sorties dans {where}/ : report.html (la page à lire), {people}events.parquet, listings.parquet, "
        "stats/, totals.md, totals.json, datapackage.json, run.json (runs/ : les exécutions)"
    )
