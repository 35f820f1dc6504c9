"""The nightly flow on a real distributed.LocalCluster (two worker processes) gives the threaded run's outputs."""

from __future__ import annotations

import itertools
import json
import os

import pandas as pd
import pytest
from conftest import ROOT

COMPARED = ["event_id", "title", "start_at", "region_code", "n_listings", "source_ids", "series_id"]


@pytest.mark.prefect
def test_dask_run_equals_threaded_run(prefect_harness, tmp_path):
    from aggregator.config import load_config
    from flows import nightly as module

    base = (ROOT / "sources.yaml").read_text(encoding="utf-8")
    outputs, processes, blocks = {}, {}, {}
    for runner in ("threads", "dask"):
        folder = tmp_path / runner
        folder.mkdir()
        # Same sources (paths made absolute), only the task runner differs.
        text = base.replace("url: data/samples/", f"url: {ROOT / 'data' / 'samples'}/")
        config_path = folder / "sources.yaml"
        # partition_rows: 20 cuts the samples' records into several normalisation partitions.
        settings = f"run: {{task_runner: {runner}, dask_workers: 2, partition_rows: 20}}"
        config_path.write_text(f"{settings}\n{text}", encoding="utf-8")
        config = load_config(config_path)
        assert type(module.task_runner(config)).__name__ == (
            "DaskTaskRunner" if runner == "dask" else "ThreadPoolTaskRunner"
        )
        state = module.configured(config)(str(config_path), str(folder / "out"), return_state=True)
        assert state.is_completed(), state
        outputs[runner] = pd.read_parquet(folder / "out" / "events.parquet")
        processes[runner], blocks[runner] = _partition_processes(state.state_details.flow_run_id)
    threads, dask = (outputs[k].sort_values("event_id").reset_index(drop=True)[COMPARED] for k in ("threads", "dask"))
    assert len(threads) > 30
    pd.testing.assert_frame_equal(threads, dask)
    # Threads normalise in the flow's process; Dask on its worker processes, never the flow's.
    assert len(processes["threads"]) >= 3 and set(processes["threads"].values()) == {os.getpid()}
    assert len(processes["dask"]) == len(processes["threads"])
    assert os.getpid() not in processes["dask"].values()
    # Deduplication's scoring and clustering, by partitions of whole components, likewise.
    assert len(blocks["threads"]) >= 2 and set(blocks["threads"].values()) == {os.getpid()}
    assert len(blocks["dask"]) == len(blocks["threads"]) and os.getpid() not in blocks["dask"].values()


def _partition_processes(flow_run_id) -> tuple[dict[int, int], dict[int, int]]:
    """Partition number -> process id, of normalisation and of dedup blocks, from the run's "partitions" artifact."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId, ArtifactFilterKey

    with get_client(sync_client=True) as client:
        found = client.read_artifacts(
            artifact_filter=ArtifactFilter(
                key=ArtifactFilterKey(any_=["partitions"]), flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id])
            )
        )
    assert len(found) == 1 and found[0].type == "table"
    rows = json.loads(found[0].data) if isinstance(found[0].data, str) else found[0].data

    def ran(stage: str) -> dict[int, int]:
        return {int(r["partition"]): int(r["process"]) for r in rows if r["stage"] == stage}

    return ran("normalise-part"), ran("dedupe-block")


@pytest.mark.prefect
def test_per_host_spacing_holds_across_dask_workers(prefect_harness, httpserver, tmp_path):
    import time

    from werkzeug import Response

    from aggregator.config import load_config
    from flows import nightly as module

    ics = (ROOT / "data" / "samples" / "laboc-agenda.ics").read_bytes()
    seen: list[tuple[float, str]] = []

    def answer(request):
        seen.append((time.monotonic(), request.path))
        if request.path == "/robots.txt":
            return Response("User-agent: *\nAllow: /\n", content_type="text/plain")
        return Response(ics, content_type="text/calendar")

    httpserver.clear()
    for path in ("/robots.txt", "/a.ics", "/b.ics", "/c.ics"):
        httpserver.expect_request(path).respond_with_handler(answer)
    interval = 0.8
    config_path = tmp_path / "sources.yaml"
    config_path.write_text(
        "run: {task_runner: dask, dask_workers: 2, concurrency: 3}\n"
        f"defaults: {{http: {{min_interval_s: {interval}, cache: false}}}}\nsources:\n"
        + "".join(f"  - {{id: {n}, kind: ical, url: '{httpserver.url_for(f'/{n}.ics')}'}}\n" for n in "abc"),
        encoding="utf-8",
    )
    config = load_config(config_path)
    state = module.configured(config)(str(config_path), str(tmp_path / "out"), return_state=True)
    assert state.is_completed(), state
    times = sorted(t for t, _ in seen)
    assert sorted(p for _, p in seen).count("/robots.txt") == 3 and len(times) == 6  # each source's client
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    assert min(gaps) >= interval - 0.05, gaps  # two workers, one host: never two requests closer
