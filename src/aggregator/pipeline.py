"""The run loop: collect, build, publish and report, the same for the CLI and the Prefect flow."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from aggregator.build import build_outputs
from aggregator.collection import CollectMany, collect_all
from aggregator.config import Config
from aggregator.dedupe.blocks import MapBlocks
from aggregator.drawing import draw_elsewhere, start_helper
from aggregator.gc_policy import fewer_collections
from aggregator.history import active
from aggregator.lock import local_lock, new_run_id, remote_lock
from aggregator.normalise import MapChunks
from aggregator.outputs import Outputs, write_outputs
from aggregator.publish import write_json
from aggregator.run_report import RunReport, new_report, source_entry
from aggregator.runs import promote, run_dir
from aggregator.state import file_manifest, read_state, seed_source_state
from aggregator.storage import hydrate, is_remote, local_mirror, upload
from aggregator.workers import Workers

# Writes a run's outputs into its folder (``write_outputs``, or an engine's wrapper of it).
WriteOutputs = Callable[[Outputs, Path, Path], dict[str, str]]


@dataclass(frozen=True)
class Executor:
    """How a run spreads its work; the run loop itself (``run``) is the same for every engine.

    Attributes:
        engine: Name recorded in run.json ("local", "prefect").
        collect_many: Collects the sources; None: ``run.concurrency`` threads here.
        map_chunks: Runs the normalisation partitions; None: ``run.processes`` worker processes
            (``Workers``: started while a big source is parsed, or at once after a big run).
        map_blocks: Runs deduplication's partitions of whole components; None: all at once, here.
        write: Writes the outputs into the run's folder.
    """

    engine: str = "local"
    collect_many: CollectMany | None = None
    map_chunks: MapChunks | None = None
    map_blocks: MapBlocks | None = None
    write: WriteOutputs = write_outputs


def run(
    config: Config,
    out_dir: Path | str,
    executor: Executor | None = None,
    run_id: str | None = None,
    reset_history: bool = False,
) -> RunReport:
    """Run every enabled source through every stage: collect, build, write, report, promote.

    The CLI's local engine and the Prefect flow both call this; they differ only in ``executor``.
    Failures of sources and stages are recorded in the report (and run.json), not raised. ``out_dir``
    is a local folder or an fsspec URL (``s3://bucket/prefix``): see ``storage``. The output is
    held for the whole run (``lock``): nothing is read, cleaned or written before.

    Args:
        config: The validated configuration.
        out_dir: Where to publish.
        executor: How work is spread (default: threads and processes here).
        run_id: This run's id (a caller that must find its own report chooses it).
        reset_history: Start a new history when the previous outputs cannot be read (see ``state``).

    Raises:
        OutputLockedError: When another run holds the output for longer than ``run.lock_wait_s``.
        HistoryUnreadableError: When earlier runs exist but none can be read, and not ``reset_history``.
    """
    executor = executor or Executor()
    run_id = run_id or new_run_id()
    wait = config.run.lock_wait_s
    if not is_remote(str(out_dir)):
        with local_lock(Path(out_dir), run_id, wait):
            return _run(config, Path(out_dir), executor, run_id, reset_history)
    url = str(out_dir)
    local = local_mirror(url)
    with remote_lock(url, run_id, wait), local_lock(local, run_id, wait):
        hydrate(url, local, config.run.keep_runs)
        report = _run(config, local, executor, run_id, reset_history)
        report.out = url
        try:
            upload(local, url, config.run.keep_runs)
        except Exception as exc:  # the data stays in the local mirror; the run must say it is not published
            report.errors.append(f"upload to {url} failed: {type(exc).__name__}: {exc}")
            report.errors_fatal = True
        write_json(report.to_dict(config.secrets), run_dir(local, report.started_at, report.run_id) / "run.json")
    return report


@fewer_collections()  # from the first fetch: parsing a big file makes millions of objects too
def _run(config: Config, out_dir: Path, executor: Executor, run_id: str, reset_history: bool) -> RunReport:
    report = new_report(config, out_dir, executor.engine, run_id)
    previous = read_state(out_dir, config, reset_history)  # before anything is fetched: may refuse
    seed_source_state(out_dir, previous.folder)  # cursors of the run built on, which a new machine lacks
    local = executor.map_chunks is None  # an engine's own map (Dask) needs no worker processes here
    workers = Workers(config.run.processes if local else 1)
    draw_aside = config.run.processes > 1  # the figures in a helper process (``drawing``), as ``run.processes`` says
    if draw_aside:
        start_helper()  # it loads matplotlib while the sources are collected
    if previous.listings is not None and 2 * len(previous.listings) > config.run.partition_rows:
        workers.start()  # tonight is likely as big as last night: started while the sources are fetched
    # The hook stays in this process: an engine may ship collection elsewhere (Dask pickles it).
    results = collect_all(config, out_dir, executor.collect_many, workers.on_fetched if local else None)
    folder = run_dir(out_dir, report.started_at, report.run_id)
    outputs: Outputs | None = None
    try:
        outputs = build_outputs(
            results,
            config,
            report.started_at,
            previous,
            report.run_id,
            map_chunks=executor.map_chunks or workers,
            map_blocks=executor.map_blocks,
        )
        if not any(v.status == "ok" for v in outputs.health.values()) and not any(
            v.stale_listings for v in outputs.health.values()
        ):
            raise RuntimeError("no source could be collected and none has earlier good data: nothing to publish")
        if draw_aside:  # drawn while the tables are written
            outputs.figures = draw_elsewhere(outputs.stats)
        executor.write(outputs, out_dir, folder)
        report.files = file_manifest(folder)  # checked by the next run before it builds on this one
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
    finally:
        workers.close()  # already closed once the partitions are normalised; not if the build failed before
    report.sources = [source_entry(r, outputs) for r in results]
    report.errors = [f"{r.source_id}: {r.error}" for r in results if r.error] + report.errors
    report.finished_at = pd.Timestamp.now(tz="UTC")
    write_json(report.to_dict(config.secrets), folder / "run.json")  # last: the folder is complete
    promote(out_dir, folder, published=outputs is not None and not report.errors_fatal, keep=config.run.keep_runs)
    return report
