"""The nightly flow on a real distributed.LocalCluster (two worker processes) gives the threaded run's outputs."""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import ROOT

COMPARED = ["event_id", "title", "start_at", "region_code", "n_listings", "source_ids", "series_id"]


@pytest.mark.prefect
def test_dask_run_equals_threaded_run(prefect_harness, tmp_path):
    from aggregator.config import load_config
    from flows import nightly as module

    base = (ROOT / "sources.yaml").read_text(encoding="utf-8")
    outputs = {}
    for runner in ("threads", "dask"):
        folder = tmp_path / runner
        folder.mkdir()
        # Same sources (paths made absolute), only the task runner differs.
        text = base.replace("url: data/samples/", f"url: {ROOT / 'data' / 'samples'}/")
        config_path = folder / "sources.yaml"
        config_path.write_text(f"run: {{task_runner: {runner}, dask_workers: 2}}\n{text}", encoding="utf-8")
        config = load_config(config_path)
        assert type(module.task_runner(config)).__name__ == (
            "DaskTaskRunner" if runner == "dask" else "ThreadPoolTaskRunner"
        )
        state = module.configured(config)(str(config_path), str(folder / "out"), return_state=True)
        assert state.is_completed(), state
        outputs[runner] = pd.read_parquet(folder / "out" / "events.parquet")
    threads, dask = (outputs[k].sort_values("event_id").reset_index(drop=True)[COMPARED] for k in ("threads", "dask"))
    assert len(threads) > 30
    pd.testing.assert_frame_equal(threads, dask)
