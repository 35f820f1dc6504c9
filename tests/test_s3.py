"""Outputs on S3: against a local S3-compatible endpoint (moto's server mode on loopback)."""

from __future__ import annotations

import shutil

import pandas as pd
from conftest import FIXTURES, write_config

from aggregator.config import load_config
from aggregator.pipeline import run
from aggregator.storage import local_mirror


def test_outputs_written_to_s3_and_read_back(tmp_path, s3_endpoint, monkeypatch):
    import s3fs

    monkeypatch.chdir(tmp_path)
    s3fs.S3FileSystem.clear_instance_cache()
    url = "s3://mip/aggregator"
    calendar = tmp_path / "lab.ics"
    calendar.write_bytes((FIXTURES / "ical" / "lab-calendar.ics").read_bytes())
    config = load_config(write_config(tmp_path, f"sources:\n  - {{id: lab, kind: ical, url: {calendar}}}\n"))
    first = run(config, url)
    assert first.status == "success"
    fs = s3fs.S3FileSystem(client_kwargs={"endpoint_url": s3_endpoint})
    latest = fs.cat_file("mip/aggregator/LATEST").decode().strip()
    assert latest.endswith(first.run_id)
    opts = {"client_kwargs": {"endpoint_url": s3_endpoint}}
    events = pd.read_parquet(f"{url}/runs/{latest}/events.parquet", storage_options=opts)
    assert len(events) == first.counts["events"] == 5
    assert "Par région" in fs.cat_file(f"mip/aggregator/runs/{latest}/report.html").decode()
    shutil.rmtree(local_mirror(url))  # a new machine: the latest run comes back from S3
    second = run(config, url)
    assert second.status == "success"
    latest = fs.cat_file("mip/aggregator/LATEST").decode().strip()
    events = pd.read_parquet(f"{url}/runs/{latest}/events.parquet", storage_options=opts)
    assert (events["first_seen_at"] == first.started_at).all()
