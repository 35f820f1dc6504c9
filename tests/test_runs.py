"""Run folders: the whole set switches at once, failed runs never replace data, old runs are pruned."""

from __future__ import annotations

import json
import os

import pandas as pd
from conftest import FIXTURES, write_config

from aggregator.config import load_config
from aggregator.pipeline import run
from aggregator.runs import PUBLISHED, RUN_FOLDER_NAME, published_runs, run_dir


def _config(tmp_path, calendar, keep=2):
    body = f"run: {{keep_runs: {keep}}}\nsources:\n  - {{id: lab, kind: ical, url: {calendar}}}\n"
    return load_config(write_config(tmp_path, body))


def test_each_run_publishes_a_whole_folder_and_latest_follows(tmp_path):
    calendar = tmp_path / "lab.ics"
    calendar.write_bytes((FIXTURES / "ical" / "lab-calendar.ics").read_bytes())
    config, out = _config(tmp_path, calendar), tmp_path / "out"
    reports = [run(config, out) for _ in range(3)]
    assert all(r.status == "success" for r in reports)
    folders = published_runs(out)
    assert [f.name.split("-", 1)[1] for f in folders] == [r.run_id for r in reports[-2:]]  # keep_runs: 2
    latest = (out / "latest").resolve()
    assert latest == folders[-1] and (out / "LATEST").read_text().strip() == latest.name
    for name in PUBLISHED:
        assert (out / name).exists() and (out / name).resolve() == latest / name
    assert json.loads((out / "run.json").read_text())["run_id"] == reports[-1].run_id
    # Yesterday's data stays readable beside today's, to compare or restore.
    assert len(pd.read_parquet(folders[0] / "events.parquet")) == len(pd.read_parquet(out / "events.parquet"))
    assert oct(os.stat(out / "events.parquet").st_mode & 0o777) == "0o644"


def test_runs_started_within_one_second_sort_by_time_not_by_their_ids(tmp_path):
    # Ids are random: a later run may have the smaller one. Seen in CI, where three runs took under a second.
    first = pd.Timestamp("2026-11-30T02:00:00.250000", tz="UTC")
    second = first + pd.Timedelta(milliseconds=500)
    for started_at, run_id in ((second, "000000000000"), (first, "ffffffffffff")):
        folder = run_dir(tmp_path, started_at, run_id)
        assert RUN_FOLDER_NAME.fullmatch(folder.name)  # what a remote LATEST may name (storage)
        folder.mkdir(parents=True)
        (folder / "events.parquet").touch()
        (folder / "run.json").touch()
    assert [f.name.split("-", 1)[1] for f in published_runs(tmp_path)] == ["ffffffffffff", "000000000000"]


def test_a_failed_run_reports_but_never_replaces_the_data(tmp_path):
    calendar = tmp_path / "lab.ics"
    calendar.write_bytes((FIXTURES / "ical" / "lab-calendar.ics").read_bytes())
    config, out = _config(tmp_path, calendar), tmp_path / "out"
    good = run(config, out)
    n_events = len(pd.read_parquet(out / "events.parquet"))
    calendar.unlink()  # the only source is gone: nothing to publish... but its last good data exists
    kept = run(config, out)
    assert kept.status == "partial"  # published from the last good data, flagged stale
    # A source that never worked: no earlier good data of its own, nothing to publish.
    other = load_config(write_config(tmp_path, f"sources:\n  - {{id: other, kind: ical, url: {calendar}}}\n"))
    failed = run(other, out)
    assert failed.status == "failed"
    assert json.loads((out / "run.json").read_text())["run_id"] == failed.run_id  # run.json: the last run
    assert (out / "latest").resolve().name.endswith(kept.run_id)  # data: the last published run
    assert (out / "last-run").resolve().name.endswith(failed.run_id)
    assert len(pd.read_parquet(out / "events.parquet")) == n_events  # the stale data set, still whole
    assert good.status == "success" and good.run_id != kept.run_id


def test_an_earlier_run_without_the_columns_history_needs_is_not_built_on(tmp_path):
    calendar = tmp_path / "lab.ics"
    calendar.write_bytes((FIXTURES / "ical" / "lab-calendar.ics").read_bytes())
    config, out = _config(tmp_path, calendar, keep=3), tmp_path / "out"
    run(config, out)
    run(config, out)
    latest = (out / "latest").resolve()
    report = json.loads((latest / "run.json").read_text())
    del report["files"]  # as a run of an earlier version left it: nothing to check against
    (latest / "run.json").write_text(json.dumps(report))
    events = pd.read_parquet(latest / "events.parquet").drop(columns=["first_seen_at"])
    events.to_parquet(latest / "events.parquet")
    third = run(config, out)
    assert third.status == "success"
    assert any("events.parquet lacks the column 'first_seen_at'" in w for w in third.warnings)
