"""A run without Prefect normalises its partitions in worker processes and publishes what one process would."""

from __future__ import annotations

import pandas as pd
from conftest import ROOT

from aggregator.build import partitions
from aggregator.config import load_config
from aggregator.pipeline import run


def test_worker_processes_publish_what_one_process_publishes(tmp_path):
    base = (ROOT / "sources.yaml").read_text(encoding="utf-8")
    text = base.replace("url: data/samples/", f"url: {ROOT / 'data' / 'samples'}/")
    events = {}
    for processes in (1, 2):
        path = tmp_path / f"sources-{processes}.yaml"
        path.write_text(f"run: {{processes: {processes}, partition_rows: 20}}\n{text}", encoding="utf-8")
        config = load_config(path)
        report = run(config, tmp_path / f"out-{processes}")
        assert report.status == "success", report.errors
        assert partitions(config, report.counts["listings"] + report.counts["rejects"]) >= 3
        events[processes] = pd.read_parquet(tmp_path / f"out-{processes}" / "events.parquet")
    one, two = (events[k].drop(columns=["first_seen_at", "last_seen_at"]).sort_values("event_id") for k in (1, 2))
    assert len(one) > 30
    pd.testing.assert_frame_equal(one.reset_index(drop=True), two.reset_index(drop=True))
