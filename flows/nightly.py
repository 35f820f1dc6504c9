"""The nightly Prefect flow: a task per source (retried), a task per normalisation partition, then dedup, write."""

from __future__ import annotations

import json
import logging
import os
import socket
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.futures import PrefectFuture
from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings
from prefect.states import Completed, Failed, State
from prefect.task_runners import ThreadPoolTaskRunner
from prefect.tasks import exponential_backoff
from prefect.utilities.annotations import allow_failure

from aggregator import pipeline
from aggregator.collection import CollectMany, CollectOne, SourceResult, host_of, is_transient
from aggregator.config import Config, ConfigError, load_config
from aggregator.lock import OutputLockedError, new_run_id
from aggregator.outputs import Outputs, write_outputs
from aggregator.pipeline import Executor
from aggregator.run_report import RunCrashedError
from aggregator.secrets import Secrets, mask_logs
from aggregator.settings import SourceConfig
from aggregator.state import HistoryUnreadableError
from aggregator.storage import own_report
from aggregator.totals import render_markdown

FETCH_RETRIES = 2
# Time a source's task gets beyond its HTTP deadline (http.deadline_s): parsing and writing state.
PARSE_ALLOWANCE_S = 120.0
# Time a run gets beyond collecting its sources: normalising, deduplicating, publishing.
BUILD_ALLOWANCE_S = 3600.0
# Limit of a run started without its configuration at hand (prefect.yaml's deployment).
DEFAULT_FLOW_TIMEOUT_S = 6 * 3600.0
# No run lasts into the next night's: a stuck one is failed before the schedule comes round.
MAX_FLOW_TIMEOUT_S = 23 * 3600.0
# Name of the final state of a run that published with stale or missing sources.
PARTIAL_STATE = "Completed with warnings"


class ThreadTimeoutNotice(logging.Filter):
    """Drops Prefect's notice, on every task run in a thread with a timeout, that it may not interrupt I/O.

    A source's task runs in a thread of the flow's process. Its network calls are bounded by the
    source's own deadline (``http.deadline_s``: the socket is watched and shut down), and its
    parsing is Python code, which Prefect's timeout does interrupt in a thread (it raises there at
    the next instruction). The notice, one per source every night, would only bury the warnings
    that say something.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """False for that notice only."""
        return not str(record.msg).startswith("Timeout of %s seconds configured for this task, but the task is running")


# On the logger of the task engine, which Prefect configures when it is imported (above).
logging.getLogger("prefect.task_runs").addFilter(ThreadTimeoutNotice())


def retry_if_transient(_task: Any, _task_run: Any, state: State) -> bool:
    """Retry a source only when its failure may pass (network, timeout, 429, 5xx): ``is_transient``."""
    error = state.result(raise_on_failure=False)
    return isinstance(error, BaseException) and is_transient(error)


@task(
    retries=FETCH_RETRIES,
    retry_delay_seconds=exponential_backoff(backoff_factor=2),
    retry_jitter_factor=0.5,
    retry_condition_fn=retry_if_transient,
    cache_policy=NO_CACHE,
    task_run_name="collect-{source.id}",
)
def collect(collect_one: CollectOne, source: SourceConfig, spacing_s: float = 0.0) -> SourceResult:
    """Fetch and parse one source (``collect_one``, the library's, which raises only transient failures).

    Its timeout is the source's HTTP deadline plus ``PARSE_ALLOWANCE_S`` (``source_timeout``); a
    source that fails for good returns a failed result, logged in one line, its traceback at debug.
    ``spacing_s``: time to leave after the previous source of the same host, which may have run
    in another process (``_collect_tasks``).
    """
    logger = get_run_logger()
    if spacing_s:
        time.sleep(spacing_s)
    logger.info("%s: fetching %s", source.id, source.kind)
    result = collect_one(source)
    if result.status == "failed":
        logger.warning("%s failed: %s", source.id, result.error)
        if result.traceback:
            logger.debug(result.traceback)
        return result
    logger.info(
        "%s: %d items from %d pages, %d requests (%d answered by the cache) in %.1f s",
        source.id, len(result.records), result.pages, result.requests, result.cache_hits, result.duration_s,
    )  # fmt: skip
    return result


@task(cache_policy=NO_CACHE, task_run_name="{name}-{part}")
def run_part(func: Callable[[Any], Any], item: Any, name: str, part: int) -> tuple[Any, dict[str, Any]]:
    """One partition of a stage (``func(item)``), on whichever worker the task runner picks.

    Returns:
        The result, and where it ran (stage, partition, host, process) for the "partitions" artifact.
    """
    result = func(item)
    get_run_logger().info("%s %d done in process %d", name, part, os.getpid())
    return result, {"stage": name, "partition": part, "host": socket.gethostname(), "process": os.getpid()}


def on_workers(name: str, where: list[dict[str, Any]]) -> Callable[[Callable[[Any], Any], list[Any]], list[Any]]:
    """A ``map`` whose calls are ``run_part`` tasks named ``name-N`` (on the Dask workers with Dask).

    Args:
        name: The stage, which names the tasks.
        where: Receives one row per partition: where it ran.
    """

    def map_parts(func: Callable[[Any], Any], items: list[Any]) -> list[Any]:
        futures = [run_part.submit(func, item, name, i) for i, item in enumerate(items)]
        results = []
        for future in futures:
            result, ran = future.result()
            results.append(result)
            where.append(ran)
        return results

    return map_parts


@task(name="write-outputs", cache_policy=NO_CACHE)
def write_and_show(outputs: Outputs, out_dir: Path, folder: Path) -> Any:
    """Write every output into the run's folder, then show the figures in the Prefect UI as artifacts.

    A write that fails (a full or read-only disk) ends the task Failed with a one-line message and
    no traceback on the console (the run loop reports it); the traceback goes to the debug log.
    """
    try:
        written = write_outputs(outputs, out_dir, folder)
    except OSError as exc:
        get_run_logger().debug("".join(traceback.format_exception(exc)))
        return Failed(message=f"{type(exc).__name__}: {exc}", data=exc)
    regions = outputs.stats["by_region"]
    create_table_artifact(
        key="events-per-region",
        table=[
            {"région": name, "événements": int(n), "dont en ligne": int(online)}
            for name, n, online in zip(regions["region_name"], regions["events"], regions["online"], strict=True)
        ],
        description="Événements par région (toutes les régions, zéros compris).",
    )
    create_markdown_artifact(
        key="totals", markdown=render_markdown(outputs.totals), description="Chiffres à citer (totals.md)."
    )
    return written


def source_timeout(source: SourceConfig) -> float:
    """The Prefect timeout of one attempt at a source: its HTTP deadline plus time to parse."""
    return source.http.deadline_s + PARSE_ALLOWANCE_S


def on_collect_tasks(secrets: Secrets) -> CollectMany:
    """The library's ``CollectMany`` as one ``collect`` task per source (transient failures retried)."""

    def collect_many(collect_one: CollectOne, sources: list[SourceConfig]) -> list[SourceResult | BaseException]:
        return _collect_tasks(collect_one, sources, secrets)

    return collect_many


def _collect_tasks(
    collect_one: CollectOne, sources: list[SourceConfig], secrets: Secrets
) -> list[SourceResult | BaseException]:
    logger = get_run_logger()
    # Per-host politeness across processes: the limiter of one process cannot see another's
    # requests (Dask workers), so the sources of one host run one after another, spaced by its
    # interval, wherever each lands. Different hosts still run side by side.
    futures: list[PrefectFuture[SourceResult]] = []
    last_on_host: dict[str, PrefectFuture[SourceResult]] = {}
    for source in sources:
        task = collect.with_options(timeout_seconds=source_timeout(source))
        host = host_of(source)
        before = last_on_host.get(host) if host else None
        if before is None:
            future = task.submit(collect_one, source)
        else:
            future = task.submit(collect_one, source, source.http.min_interval_s, wait_for=[allow_failure(before)])
        if host:
            last_on_host[host] = future
        futures.append(future)
    outcomes: list[SourceResult | BaseException] = []
    for source, future in zip(sources, futures, strict=True):
        final = future.wait() or future.state
        if final.is_completed():
            outcomes.append(future.result())
            continue
        try:
            future.result()
            error: BaseException = RuntimeError("unknown failure")
        except BaseException as exc:
            error = exc
        logger.warning("source %s failed: %s", source.id, secrets.redact(str(error)))
        outcomes.append(error)
    return outcomes


@flow(
    name="nightly",
    task_runner=ThreadPoolTaskRunner(max_workers=4),
    log_prints=True,
    timeout_seconds=DEFAULT_FLOW_TIMEOUT_S,
)
def nightly(
    sources: str = "sources.yaml", out: str = "data", run_id: str | None = None, reset_history: bool = False
) -> State:
    """Collect every enabled source of ``sources`` and publish under ``out``, with ``pipeline.run``.

    Prefect supplies how the work is spread (a retried task per source, a task per normalisation
    partition and per dedup block, on threads or Dask), the artifacts and the logs. The final
    state tells the truth: Completed when every source was fresh; Completed named "Completed with
    warnings" when some failed or looked broken (their last good data kept); Failed when nothing
    could be published. Its data is run.json's content. ``run_id`` names the run (so that a caller
    finds its own report); ``reset_history`` starts a new history when no earlier run can be read.
    """
    config = load_config(sources)
    mask_logs(config.secrets)  # Prefect's handlers (console, API) included: nothing unmasked is logged
    where: list[dict[str, Any]] = []
    executor = Executor(
        engine="prefect",
        collect_many=on_collect_tasks(config.secrets),
        map_chunks=on_workers("normalise-part", where),
        map_blocks=on_workers("dedupe-block", where),
        write=write_and_show,
    )
    logger = get_run_logger()
    try:
        report = pipeline.run(config, out, executor, run_id=run_id, reset_history=reset_history)
    except Exception as exc:  # a busy output, an unreadable history, a full disk: one line, no traceback
        message = config.secrets.redact(str(exc) if isinstance(exc, OutputLockedError | HistoryUnreadableError)
                                        else f"{type(exc).__name__}: {exc}")  # fmt: skip
        logger.error("run %s did not complete: %s", run_id, message)
        logger.debug(config.secrets.redact("".join(traceback.format_exception(exc))))
        return Failed(message=message, data=exc)
    if where:
        create_table_artifact(
            key="partitions",
            table=where,
            description="Where each partition of normalisation and deduplication ran (host, process).",
        )
    logger.info("run %s: %s; %s", report.run_id, report.status, report.headline)
    for warning in report.warnings:
        logger.warning(warning)
    for error in report.errors:
        logger.error(config.secrets.redact(error))
    data = report.to_dict(config.secrets)
    summary = f"{report.status}: {report.headline or 'nothing published'}"
    if report.status == "failed":
        return Failed(message=summary, data=data)
    if report.status == "partial":
        return Completed(message=summary, name=PARTIAL_STATE, data=data)
    return Completed(message=summary, data=data)


def task_runner(config: Config) -> Any:
    """The task runner ``run.task_runner`` asks for: threads, or Dask (an existing scheduler or a local cluster)."""
    settings = config.run
    if settings.task_runner == "dask":
        from prefect_dask import DaskTaskRunner

        if settings.dask_address:
            return DaskTaskRunner(address=settings.dask_address)
        return DaskTaskRunner(
            cluster_class="distributed.LocalCluster",
            cluster_kwargs={"n_workers": settings.dask_workers, "processes": True, "threads_per_worker": 1},
        )
    return ThreadPoolTaskRunner(max_workers=settings.concurrency)


def flow_timeout(config: Config) -> float:
    """The run's time limit: every source's attempts in waves of ``run.concurrency``, plus building.

    Each attempt is bounded by ``source_timeout``; a source gets ``FETCH_RETRIES`` more attempts
    with backoff (2, 4 s…). A run past this limit (at most ``MAX_FLOW_TIMEOUT_S``) is failed by
    Prefect, so that the next night's run never waits behind a stuck one.
    """
    sources = config.enabled_sources
    if not sources:
        return BUILD_ALLOWANCE_S
    waves = -(-len(sources) // config.run.concurrency)
    attempt = max(source_timeout(s) for s in sources)
    backoff = sum(2 * 2**i for i in range(FETCH_RETRIES))
    return min(waves * ((FETCH_RETRIES + 1) * attempt + backoff) + BUILD_ALLOWANCE_S, MAX_FLOW_TIMEOUT_S)


def configured(config: Config) -> Any:
    """The flow with the run settings of ``config`` applied (its task runner, its time limit)."""
    return nightly.with_options(task_runner=task_runner(config), timeout_seconds=flow_timeout(config))


def run_flow(
    config: Config, out_dir: Path | str, reset_history: bool = False, run_id: str | None = None
) -> dict[str, Any]:
    """Run the nightly flow on ``config``'s file in this process; returns the run's own run.json.

    The flow loads the file itself (a scheduled run has only its path); ``config``, already
    validated, chooses the task runner and time limit. The run is given its id here (or by the
    caller) and its own run.json is read back: never the report of another run.

    Raises:
        OutputLockedError: When another run holds the output.
        HistoryUnreadableError: When no earlier run can be read (and not ``reset_history``).
        RunCrashedError: When the flow ended without writing its report (the reason from Prefect).
    """
    run_id = run_id or new_run_id()
    state = configured(config)(
        str(config.path), str(out_dir), run_id=run_id, reset_history=reset_history, return_state=True
    )
    report = own_report(str(out_dir), run_id)
    if report is not None:
        return report
    error = state.result(raise_on_failure=False) if state.is_failed() or state.is_crashed() else None
    if isinstance(error, OutputLockedError | HistoryUnreadableError):
        raise error
    reason = config.secrets.redact(
        f"{type(error).__name__}: {error}" if isinstance(error, BaseException) else str(state.message)
    )
    raise RunCrashedError(f"run {run_id} ended ({state.name}) without writing its report: {reason}")


OUTCOMES: dict[type[Exception], str] = {
    OutputLockedError: "locked",
    HistoryUnreadableError: "history",
}


def main(argv: list[str]) -> int:
    """``python flows/nightly.py SOURCES OUT RUN_ID [--reset-history]``, run by ``flows/program.py``.

    The CLI runs the flow as a program (it never imports flows/): the run writes its report under
    its id, and the last line on stdout says how it ended, as JSON: ``{"status": "reported"}`` or
    ``{"error": "locked" | "history" | "config" | "crashed", "message": "..."}``.
    """
    sources, out, run_id = argv[:3]
    try:
        config = load_config(sources)
    except ConfigError as exc:  # the CLI, which checks the file too, says what is wrong (and stops this)
        print(json.dumps({"error": "config", "message": str(exc)}, ensure_ascii=False))
        return 0
    # The CLI waits on this process and reads the run's report: Prefect's heartbeats (crash
    # detection for runs nobody waits on) would only add up to a second at the end, while their
    # thread winds down. Kept when set in the environment; the served deployment keeps them.
    heartbeat = {} if _heartbeat_set() else {PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}
    try:
        with temporary_settings(heartbeat):
            run_flow(config, out, reset_history="--reset-history" in argv[3:], run_id=run_id)
        outcome = {"status": "reported", "run_id": run_id}
    except (OutputLockedError, HistoryUnreadableError, RunCrashedError) as exc:
        outcome = {"error": OUTCOMES.get(type(exc), "crashed"), "message": config.secrets.redact(str(exc))}
    print(json.dumps(outcome, ensure_ascii=False))
    return 0


def _heartbeat_set() -> bool:
    return any(
        name in os.environ for name in ("PREFECT_FLOWS_HEARTBEAT_FREQUENCY", "PREFECT_RUNNER_HEARTBEAT_FREQUENCY")
    )


if __name__ == "__main__":
    import sys

    sys.exit(main(sys.argv[1:]))
