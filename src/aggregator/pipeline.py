"""The run loop: collect, build, publish and report, the same for the CLI and the Prefect flow."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from aggregator.build import build_outputs, in_processes
from aggregator.collection import CollectMany, collect_all
from aggregator.config import Config
from aggregator.dedupe.blocks import MapBlocks
from aggregator.history import active
from aggregator.normalise import MapChunks
from aggregator.outputs import Outputs, write_outputs
from aggregator.publish import write_json
from aggregator.run_report import RunReport, new_report, source_entry
from aggregator.runs import promote, run_dir
from aggregator.state import read_state, seed_source_state
from aggregator.storage import hydrate, is_remote, local_mirror, upload

# Writes a run's outputs into its folder (``write_outputs``, or an engine's wrapper of it).
WriteOutputs = Callable[[Outputs, Path, Path], dict[str, str]]


@dataclass(frozen=True)
class Executor:
    """How a run spreads its work; the run loop itself (``run``) is the same for every engine.

    Attributes:
        engine: Name recorded in run.json ("local", "prefect").
        collect_many: Collects the sources; None: ``run.concurrency`` threads here.
        map_chunks: Runs the normalisation partitions; None: ``run.processes`` worker processes.
        map_blocks: Runs deduplication's partitions of whole components; None: all at once, here.
        write: Writes the outputs into the run's folder.
    """

    engine: str = "local"
    collect_many: CollectMany | None = None
    map_chunks: MapChunks | None = None
    map_blocks: MapBlocks | None = None
    write: WriteOutputs = write_outputs


def run(config: Config, out_dir: Path | str, executor: Executor | None = None) -> RunReport:
    """Run every enabled source through every stage: collect, build, write, report, promote.

    The CLI's local engine and the Prefect flow both call this; they differ only in ``executor``.
    Failures are recorded in the report (and run.json), not raised. ``out_dir`` is a local folder
    or an fsspec URL (``s3://bucket/prefix``): see ``storage``.
    """
    executor = executor or Executor()
    if not is_remote(str(out_dir)):
        return _run(config, Path(out_dir), executor)
    url = str(out_dir)
    local = local_mirror(url)
    hydrate(url, local, config.run.keep_runs)
    report = _run(config, local, executor)
    report.out = url
    try:
        upload(local, url, config.run.keep_runs)
    except Exception as exc:  # the data stays in the local mirror; the run must say it is not published
        report.errors.append(f"upload to {url} failed: {type(exc).__name__}: {exc}")
        report.errors_fatal = True
    write_json(report.to_dict(config.secrets), (local / "last-run").resolve() / "run.json")
    return report


def _run(config: Config, out_dir: Path, executor: Executor) -> RunReport:
    report = new_report(config, out_dir, executor.engine)
    seed_source_state(out_dir)  # cursors from the latest published run, which a new machine lacks
    results = collect_all(config, out_dir, executor.collect_many)
    folder = run_dir(out_dir, report.started_at, report.run_id)
    outputs: Outputs | None = None
    try:
        outputs = build_outputs(
            results,
            config,
            report.started_at,
            read_state(out_dir, config),
            report.run_id,
            map_chunks=executor.map_chunks or in_processes(config.run.processes),
            map_blocks=executor.map_blocks,
        )
        if not any(v.status == "ok" for v in outputs.health.values()) and not any(
            v.stale_listings for v in outputs.health.values()
        ):
            raise RuntimeError("no source could be collected and none has earlier good data: nothing to publish")
        executor.write(outputs, out_dir, folder)
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
    write_json(report.to_dict(config.secrets), folder / "run.json")  # last: the folder is complete
    promote(out_dir, folder, published=outputs is not None and not report.errors_fatal, keep=config.run.keep_runs)
    return report
