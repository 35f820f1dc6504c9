"""Outputs on an fsspec URL (memory:// here; s3:// the same way with s3fs): uploaded whole, then LATEST switches."""

from __future__ import annotations

import shutil

import fsspec
import pandas as pd
import pytest
from conftest import FIXTURES, write_config

from aggregator.config import load_config
from aggregator.pipeline import run
from aggregator.storage import _latest_name, local_mirror


@pytest.fixture
def bucket():
    url = "memory://bucket/aggregator"
    fs = fsspec.filesystem("memory")
    yield url, fs
    if fs.exists("/bucket"):
        fs.rm("/bucket", recursive=True)
    shutil.rmtree(local_mirror(url), ignore_errors=True)


def test_remote_outputs_are_published_whole_and_survive_a_new_machine(tmp_path, bucket, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the local mirror lives under the working directory
    url, fs = bucket
    calendar = tmp_path / "lab.ics"
    calendar.write_bytes((FIXTURES / "ical" / "lab-calendar.ics").read_bytes())
    config = load_config(write_config(tmp_path, f"sources:\n  - {{id: lab, kind: ical, url: {calendar}}}\n"))

    first = run(config, url)
    assert first.status == "success" and first.to_dict(config.secrets)["out"] == url
    latest = fs.cat_file(f"{url}/LATEST").decode().strip()
    assert latest.endswith(first.run_id)
    events = pd.read_parquet(f"{url}/runs/{latest}/events.parquet")
    assert len(events) == first.counts["events"] == 5
    for name in ("listings.parquet", "changes.parquet", "stats/by_region.csv", "report.html", "run.json",
                 "history/source_health.parquet", "totals.json"):  # fmt: skip
        assert fs.exists(f"{url}/runs/{latest}/{name}"), name

    # Another machine: no local mirror. The latest run is fetched back first, so history continues.
    shutil.rmtree(local_mirror(url))
    second = run(config, url)
    assert second.status == "success"
    latest = fs.cat_file(f"{url}/LATEST").decode().strip()
    assert latest.endswith(second.run_id)
    events = pd.read_parquet(f"{url}/runs/{latest}/events.parquet")
    assert (events["first_seen_at"] == first.started_at).all()  # ids and first sightings kept
    changes = pd.read_parquet(f"{url}/runs/{latest}/changes.parquet")
    assert set(changes["run_id"]) == {first.run_id}  # nothing changed on the second night
    assert len(fs.ls(f"{url}/runs")) == 2


@pytest.mark.parametrize(
    ("pointer", "read"),
    [
        ("20261130T020000.250000Z-0123456789ab", True),  # today's names
        ("20261130T020000Z-0123456789ab", True),  # names written before they had microseconds
        ("../../etc-0123456789ab", False),  # never a path from outside
        ("20261130T020000Z-0123456789ab/../x", False),
    ],
)
def test_latest_is_read_only_when_it_names_a_run_folder(bucket, pointer, read):
    url, fs = bucket
    fs.pipe_file(f"{url}/LATEST", (pointer + "\n").encode())
    assert _latest_name(fs, url) == (pointer if read else None)
