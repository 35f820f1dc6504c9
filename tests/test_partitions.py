"""A run without Prefect normalises its partitions in worker processes and publishes what one process would."""

from __future__ import annotations

import os

import pandas as pd
import pytest
from conftest import ROOT

from aggregator import workers as workers_module
from aggregator.build import partitions
from aggregator.config import load_config
from aggregator.pipeline import run
from aggregator.workers import PRESTART_BYTES, Workers


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


def _pid(_: object) -> int:
    return os.getpid()


def test_partitions_hold_at_most_partition_rows_and_are_two_past_half(tmp_path):
    text = (ROOT / "sources.yaml").read_text(encoding="utf-8")
    path = tmp_path / "sources.yaml"
    path.write_text(f"run: {{partition_rows: 100}}\n{text}", encoding="utf-8")
    config = load_config(path)
    assert config.run.processes == 2
    assert [partitions(config, rows) for rows in (0, 1, 50, 51, 100, 101, 250, 401)] == [1, 1, 1, 2, 2, 2, 4, 6]
    path.write_text(f"run: {{partition_rows: 100, processes: 3}}\n{text}", encoding="utf-8")
    assert [partitions(load_config(path), rows) for rows in (50, 51, 250, 301)] == [1, 3, 3, 6]


def test_workers_started_by_a_big_fetch_run_elsewhere_and_stop_once_used():
    workers = Workers(2)
    workers.on_fetched(PRESTART_BYTES - 1)
    assert not workers.running
    workers.on_fetched(PRESTART_BYTES)
    assert workers.running and workers.started_early
    pids = workers(_pid, [pd.DataFrame(), pd.DataFrame(), pd.DataFrame()])  # type: ignore[arg-type]
    assert len(pids) == 3 and os.getpid() not in pids
    assert not workers.running  # their memory is given back before deduplication
    assert workers(_pid, [pd.DataFrame()]) == [os.getpid()]  # type: ignore[arg-type]  # one partition: here
    assert not workers.running


def test_a_run_starts_its_workers_early_for_a_big_source_or_after_a_big_run(tmp_path, monkeypatch):
    base = (ROOT / "sources.yaml").read_text(encoding="utf-8")
    path = tmp_path / "sources.yaml"
    text = base.replace("url: data/samples/", f"url: {ROOT / 'data' / 'samples'}/")
    path.write_text(f"run: {{processes: 2, partition_rows: 20}}\n{text}", encoding="utf-8")
    config = load_config(path)
    started: list[tuple[Workers, bool, int]] = []
    original = Workers.start

    def spy(self: Workers, early: bool = True) -> None:
        started.append((self, early, len(fetched)))
        original(self, early)

    fetched: list[int] = []
    monkeypatch.setattr(Workers, "start", spy)
    monkeypatch.setattr(workers_module, "PRESTART_BYTES", 10**12)
    real_hook = Workers.on_fetched
    monkeypatch.setattr(Workers, "on_fetched", lambda self, n: (fetched.append(n), real_hook(self, n))[1])
    assert run(config, tmp_path / "first").status == "success"
    assert fetched and all(not early for _, early, _ in started)  # no big source, no earlier run: on use
    started.clear()
    fetched.clear()
    assert run(config, tmp_path / "first").status == "success"  # the first run had more than 10 listings
    assert started[0][1] and started[0][2] == 0  # started before anything was fetched
    monkeypatch.setattr(workers_module, "PRESTART_BYTES", 1)
    started.clear()
    fetched.clear()
    assert run(config, tmp_path / "second").status == "success"
    assert started[0][1] and started[0][2] == 1  # once the first source was fetched, before it was parsed
    assert not any(w.running for w, _, _ in started)


def test_workers_that_cannot_start_say_why_where_they_are_used(monkeypatch):
    def refuse(*_args: object, **_kwargs: object) -> None:
        raise OSError("no more processes")

    monkeypatch.setattr(workers_module, "ProcessPoolExecutor", refuse)
    workers = Workers(2)
    workers.start()  # in the background: returns at once
    with pytest.raises(OSError, match="no more processes"):
        workers(_pid, [pd.DataFrame(), pd.DataFrame()])  # type: ignore[arg-type]
    assert not workers.running
