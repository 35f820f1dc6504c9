"""History under faults, with real processes and files: overlapping runs, unreadable earlier runs, kills, full disks.

Every scenario starts from two published nights (one event removed on the second), then meets
its fault, then runs again; each asserts the exit code, what ``latest`` holds, and that the
``first_seen_at`` and ``removed_at`` of every event are what they were before the fault.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from conftest import FIXTURES, write_config

pytestmark = pytest.mark.slow  # a command per night: seconds each

ICS = (FIXTURES / "ical" / "lab-calendar.ics").read_text(encoding="utf-8")


def _without_first_event(text: str) -> str:
    start = text.index("BEGIN:VEVENT")
    end = text.index("END:VEVENT", start) + len("END:VEVENT\n")
    return text[:start] + text[end:]


def _setup(tmp_path: Path, out: Path, lock_wait_s: float = 0) -> tuple[Path, pd.DataFrame]:
    """Two published nights; returns the sources file and the events as the second night left them."""
    calendar = tmp_path / "lab.ics"
    calendar.write_text(ICS, encoding="utf-8")
    config = write_config(
        tmp_path,
        f"run: {{lock_wait_s: {lock_wait_s}, keep_runs: 2}}\nsources:\n  - {{id: lab, kind: ical, url: {calendar}}}\n",
    )
    assert _cli(config, out).returncode == 0
    calendar.write_text(_without_first_event(ICS), encoding="utf-8")  # one event gone the second night
    assert _cli(config, out).returncode == 0
    events = _events(out)
    assert events["removed_at"].notna().sum() == 1
    return config, events


def _cli(config: Path, out: Path, *extra: str, engine: str = "local", env: dict | None = None):
    return subprocess.run(
        [sys.executable, "-m", "aggregator.cli", "run", "--sources", str(config), "--out", str(out),
         "--engine", engine, *extra],
        capture_output=True, text=True, check=False, timeout=300, env=env, cwd=config.parent,
    )  # fmt: skip


def _events(out: Path) -> pd.DataFrame:
    return pd.read_parquet(out / "events.parquet").set_index("event_id").sort_index()


def _history_unchanged(out: Path, before: pd.DataFrame) -> None:
    after = _events(out)
    assert list(after.index) == list(before.index)
    pd.testing.assert_series_equal(after["first_seen_at"], before["first_seen_at"])
    pd.testing.assert_series_equal(after["removed_at"], before["removed_at"])


def _env(tmp_path: Path) -> dict[str, str]:
    """The environment of a run: its own Prefect home, Prefect's log lines from WARNING (as `make` sets)."""
    return {
        **os.environ,
        "PREFECT_HOME": str(tmp_path / "prefect-home"),
        "PREFECT_LOGGING_LEVEL": "WARNING",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",  # as `make` sets: no telemetry task in the temporary server
        # A fresh Prefect home is migrated when its temporary server starts: slow on a loaded machine.
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180",
    }


def _operator_line(stderr: str, prefix: str) -> str:
    """The CLI's one line for the operator (Prefect may log the same reason on a line of its own); no traceback."""
    assert "Traceback" not in stderr, stderr
    lines = [line for line in stderr.splitlines() if line.startswith(prefix)]
    assert len(lines) == 1, stderr
    return lines[0]


def _one_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    return lines[0]


# --- overlapping runs --------------------------------------------------------------------------

PAUSED_RUN = """
import sys, time
from pathlib import Path
import aggregator.outputs as outputs
from aggregator.config import load_config
from aggregator.pipeline import run
real = outputs.write_table
calls = []
def paused(*args, **kwargs):
    calls.append(1)
    if len(calls) == 2:  # mid-publish: one table written, the others not yet
        Path(sys.argv[3]).write_text("paused")
        while not Path(sys.argv[4]).exists():
            time.sleep(0.05)
    return real(*args, **kwargs)
outputs.write_table = paused
print(run(load_config(sys.argv[1]), Path(sys.argv[2])).status)
"""


@pytest.mark.parametrize("engine", ["local", pytest.param("prefect", marks=pytest.mark.prefect)])
def test_a_second_run_started_mid_publish_leaves_the_first_alone(tmp_path, engine):
    out = tmp_path / "out"
    config, before = _setup(tmp_path, out)
    paused, go = tmp_path / "paused", tmp_path / "go"
    first = subprocess.Popen(
        [sys.executable, "-c", PAUSED_RUN, str(config), str(out), str(paused), str(go)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not paused.exists():
            assert time.monotonic() < deadline and first.poll() is None, first.communicate()
            time.sleep(0.05)
        second = _cli(config, out, engine=engine, env=_env(tmp_path))
        assert second.returncode == 4, second.stdout + second.stderr
        line = _operator_line(second.stderr, "busy:")
        assert "is in use by run" in line
    finally:
        go.write_text("go")
        stdout, stderr = first.communicate(timeout=120)
    assert first.returncode == 0 and stdout.strip() == "success", stderr
    latest = (out / "latest").resolve()
    assert (latest / "events.parquet").is_file()
    assert json.loads((latest / "run.json").read_text())["status"] == "success"
    _history_unchanged(out, before)
    assert _cli(config, out).returncode == 0  # and the next night goes on from it
    _history_unchanged(out, before)


def test_a_second_run_told_to_wait_runs_after_the_first(tmp_path):
    out = tmp_path / "out"
    config, before = _setup(tmp_path, out, lock_wait_s=60)
    paused, go = tmp_path / "paused", tmp_path / "go"
    first = subprocess.Popen([sys.executable, "-c", PAUSED_RUN, str(config), str(out), str(paused), str(go)])
    while not paused.exists():
        time.sleep(0.05)
    second = subprocess.Popen(
        [sys.executable, "-m", "aggregator.cli", "run", "--sources", str(config), "--out", str(out), "--engine",
         "local", "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    time.sleep(2)
    assert second.poll() is None  # waiting for the lock
    go.write_text("go")
    assert first.wait(timeout=120) == 0
    stdout, stderr = second.communicate(timeout=120)
    assert second.returncode == 0, stderr
    assert json.loads(stdout)["run_id"] in (out / "latest").resolve().name  # it published after the first
    _history_unchanged(out, before)


# --- unreadable earlier runs -------------------------------------------------------------------


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


@pytest.mark.parametrize("damaged", ["events.parquet", "history/source_health.parquet"])
def test_an_unreadable_latest_run_falls_back_to_the_previous_one(tmp_path, damaged):
    out = tmp_path / "out"
    config, before = _setup(tmp_path, out)
    latest = (out / "latest").resolve()
    health_before = pd.read_parquet(out / "history" / "source_health.parquet")
    _truncate(latest / damaged)
    proc = _cli(config, out)
    assert proc.returncode == 0, proc.stderr
    report = json.loads((out / "run.json").read_text())
    assert any(w.startswith("history: the latest published run cannot be read") for w in report["warnings"])
    assert (out / "latest").resolve() != latest  # a new run, built on the one before the damaged one
    events = _events(out)
    assert (events["first_seen_at"] == before["first_seen_at"]).all()  # never reset
    health = pd.read_parquet(out / "history" / "source_health.parquet")
    assert len(health) == len(health_before)  # the first night's row, then this one's: the damaged run's is gone
    assert health["run_at"].min() == health_before["run_at"].min()


def test_when_no_earlier_run_can_be_read_the_run_refuses_unless_told_to_start_over(tmp_path):
    out = tmp_path / "out"
    config, _before = _setup(tmp_path, out)
    for folder in (out / "runs").iterdir():
        _truncate(folder / "events.parquet")
    latest = (out / "latest").resolve()
    proc = _cli(config, out)
    assert proc.returncode == 1
    line = _one_line(proc.stderr)
    assert "no earlier run" in line and "--reset-history" in line
    assert (out / "latest").resolve() == latest  # nothing published
    restart = _cli(config, out, "--reset-history")
    assert restart.returncode == 0, restart.stderr
    report = json.loads((out / "run.json").read_text())
    assert any(w.startswith("history: started over (--reset-history)") for w in report["warnings"])


def test_a_run_json_checksum_catches_a_file_replaced_by_another(tmp_path):
    out = tmp_path / "out"
    config, _before = _setup(tmp_path, out)
    runs = sorted((out / "runs").iterdir())
    # A readable file of the right shape, but not the one published: rows and checksum tell.
    shutil.copyfile(runs[0] / "events.parquet", runs[1] / "events.parquet")
    proc = _cli(config, out)
    assert proc.returncode == 0
    report = json.loads((out / "run.json").read_text())
    assert any("does not match the checksum" in w or "rows" in w for w in report["warnings"])


# --- kill -9 -----------------------------------------------------------------------------------

KILLED_RUN = """
import os, sys
from pathlib import Path
import {module} as target
from aggregator.config import load_config
from aggregator.pipeline import run
real = target.{name}
def dying(*args, **kwargs):
    os._exit(9)
target.{name} = dying
run(load_config(sys.argv[1]), Path(sys.argv[2]))
"""


@pytest.mark.parametrize(
    ("module", "name"),
    [
        ("aggregator.collection", "collect_source"),  # while fetching
        ("aggregator.outputs", "write_table"),  # while writing the run's folder
        ("aggregator.pipeline", "promote"),  # run.json written, latest not yet switched
        ("aggregator.runs", "prune"),  # latest switched, old runs being removed
    ],
)
def test_a_run_killed_anywhere_leaves_the_last_good_run_and_the_next_night_goes_on(tmp_path, module, name):
    out = tmp_path / "out"
    config, before = _setup(tmp_path, out)
    script = KILLED_RUN.format(module=module, name=name)
    if name == "collect_source":
        script = script.replace("target.collect_source = dying", "target.collect_or_raise_transient = dying")
    killed = subprocess.run([sys.executable, "-c", script, str(config), str(out)], capture_output=True, check=False)
    assert killed.returncode == 9, killed.stderr
    _history_unchanged(out, before)  # readers see the last good run, whole
    proc = _cli(config, out)  # the lock died with the killed run
    assert proc.returncode == 0, proc.stderr
    _history_unchanged(out, before)


# --- a read-only or full output folder (a tmpfs: needs root to mount) --------------------------


@pytest.fixture
def small_disk(tmp_path):
    mount = tmp_path / "disk"
    mount.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(mount)]).returncode:
        pytest.skip("mounting a tmpfs needs root")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


@pytest.mark.parametrize("engine", ["local", pytest.param("prefect", marks=pytest.mark.prefect)])
@pytest.mark.parametrize("fault", ["read-only", "full"])
def test_a_read_only_or_full_output_folder_fails_in_one_line_and_keeps_the_last_run(
    tmp_path, small_disk, engine, fault
):
    out = small_disk / "out"
    config, before = _setup(tmp_path, out)
    latest = (out / "latest").resolve()
    if fault == "read-only":
        assert subprocess.run(["mount", "-o", "remount,ro", str(small_disk)]).returncode == 0
    else:
        free = shutil.disk_usage(small_disk).free
        (small_disk / "filler").write_bytes(b"\0" * max(free - 4096, 0))
    proc = _cli(config, out, engine=engine, env=_env(tmp_path))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    line = _operator_line(proc.stderr, "run failed:")
    assert re.search(r"Read-only file system|No space left on device", line), proc.stderr
    assert (out / "latest").resolve() == latest
    _history_unchanged(out, before)
