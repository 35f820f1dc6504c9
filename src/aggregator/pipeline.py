"""The run loop: collect, build, publish and report, the same for the CLI and the Prefect flow."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd

from aggregator.build import build_outputs, in_processes
from aggregator.collection import SourceResult, collect_all
from aggregator.config import Config
from aggregator.history import active
from aggregator.outputs import Outputs, write_outputs
from aggregator.publish import write_json
from aggregator.run_report import RunReport, new_report, source_entry
from aggregator.runs import promote, run_dir
from aggregator.settings import SourceConfig
from aggregator.state import read_state
from aggregator.storage import hydrate, is_remote, local_mirror, upload


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
        write=lambda outputs: write_outputs(outputs, out_dir, run_dir(out_dir, report.started_at, report.run_id)),
    )
