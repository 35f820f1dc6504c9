"""The nightly Prefect flow: one task per source (retried), then normalise, deduplicate, publish."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.task_runners import ThreadPoolTaskRunner
from prefect.tasks import exponential_backoff

from aggregator import pipeline
from aggregator.config import Config, SourceConfig, load_config
from aggregator.publish import read_previous

FETCH_RETRIES = 2


@task(
    retries=FETCH_RETRIES,
    retry_delay_seconds=exponential_backoff(backoff_factor=2),
    retry_jitter_factor=0.5,
    cache_policy=NO_CACHE,
    task_run_name="collect-{source.id}",
)
def collect(source: SourceConfig, config_path: Path, state_dir: Path) -> pipeline.SourceResult:
    """Fetch and parse one source; raising makes Prefect retry it."""
    result = pipeline.collect_source(source, config_path, state_dir)
    get_run_logger().info("%s: %d records from %d pages", source.id, len(result.records), result.pages)
    return result


@task(cache_policy=NO_CACHE)
def build(results: list[pipeline.SourceResult], config: Config, run_at: Any, out_dir: Path) -> pipeline.Outputs:
    """Normalise, deduplicate and summarise."""
    return pipeline.build_outputs(
        results,
        config,
        run_at,
        read_previous(out_dir / "events.parquet"),
        read_previous(out_dir / "listings.parquet"),
    )


@task(cache_policy=NO_CACHE)
def publish(outputs: pipeline.Outputs, out_dir: Path) -> dict[str, str]:
    """Write every output atomically."""
    return pipeline.publish(outputs, out_dir)


def _collect_all(config: Config, out_dir: Path) -> list[pipeline.SourceResult]:
    logger = get_run_logger()
    state = pipeline.state_dir(out_dir)
    futures = [(s, collect.submit(s, config.path, state)) for s in config.enabled_sources]
    results = []
    for source, future in futures:
        state = future.wait() or future.state
        if state.is_completed():
            results.append(future.result())
            continue
        try:
            future.result()
            error: BaseException | str = "unknown failure"
        except BaseException as exc:
            error = exc
        result = pipeline.failed_result(source, config.path, error)
        result.error = config.secrets.redact(result.error or "")
        logger.warning("source %s failed after %d retries: %s", source.id, FETCH_RETRIES, result.error)
        results.append(result)
    return results


@flow(name="nightly", task_runner=ThreadPoolTaskRunner(max_workers=4), log_prints=True)
def nightly(sources: str = "sources.yaml", out: str = "data") -> dict[str, Any]:
    """Collect every enabled source of ``sources`` and publish under ``out``; returns run.json's content."""
    config = load_config(sources)
    report = _run(config, Path(out))
    return report.to_dict(config.secrets)


def _run(config: Config, out_dir: Path) -> pipeline.RunReport:
    report = pipeline.new_report(config, out_dir, engine="prefect")
    results = _collect_all(config, out_dir)
    report = pipeline.finish(
        report,
        results,
        config,
        out_dir,
        build=lambda rs: build(rs, config, report.started_at, out_dir),
        write=lambda outputs: publish(outputs, out_dir),
    )
    logger = get_run_logger()
    logger.info("run %s: %s; %s", report.run_id, report.status, report.headline)
    for error in report.errors:
        logger.warning(error)
    return report


def run_flow(sources: Path, out_dir: Path) -> dict[str, Any]:
    """Run the nightly flow (used by ``aggregator run``); returns run.json's content."""
    return nightly(str(sources), str(out_dir))


if __name__ == "__main__":
    import sys

    print(nightly(*sys.argv[1:3])["headline"])
