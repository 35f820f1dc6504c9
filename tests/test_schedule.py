"""The nightly deployment against a real ``prefect server``: schedule, concurrency limit, a triggered run."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pandas as pd
import pytest
from conftest import ROOT

BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait(check, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = check()
        except Exception:
            value = None
        if value:
            return value
        time.sleep(1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


@pytest.fixture
def prefect_server(tmp_path):
    """A real Prefect server (SQLite in a fresh PREFECT_HOME) on a free loopback port."""
    port = _free_port()
    api = f"http://127.0.0.1:{port}/api"
    env = {
        **os.environ,
        "PREFECT_HOME": str(tmp_path / "prefect-home"),
        "PREFECT_API_URL": api,
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_LOGGING_LEVEL": "WARNING",
        "PREFECT_RUNNER_POLL_FREQUENCY": "2",
    }
    log = (tmp_path / "server.log").open("w")
    server = subprocess.Popen(
        [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    try:
        _wait(lambda: urllib.request.urlopen(f"{api}/health", timeout=2).status == 200, 180, "the Prefect server")
        yield api, env
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        log.close()


@pytest.mark.slow
def test_served_deployment_has_the_schedule_and_limit_and_runs(prefect_server, tmp_path):
    from prefect.client.orchestration import get_client
    from prefect.deployments import run_deployment
    from prefect.settings import PREFECT_API_URL, temporary_settings

    api, env = prefect_server
    out = tmp_path / "out"
    serve_log = (tmp_path / "serve.log").open("w")
    served = subprocess.Popen(
        [str(BIN / "aggregator"), "serve", "--sources", str(ROOT / "sources.yaml"), "--out", str(out)],
        cwd=ROOT, env=env, stdout=serve_log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    try:
        with temporary_settings({PREFECT_API_URL: api}), get_client(sync_client=True) as client:
            deployment = _wait(lambda: client.read_deployment_by_name("nightly/nightly"), 180, "the deployment")
            assert len(deployment.schedules) == 1
            schedule = deployment.schedules[0].schedule
            assert schedule.cron == "0 2 * * *"
            assert schedule.timezone == "Europe/Paris"
            assert deployment.schedules[0].active
            assert deployment.global_concurrency_limit is not None
            assert deployment.global_concurrency_limit.limit == 1
            assert deployment.parameters["out"] == str(out.resolve())

            flow_run = run_deployment("nightly/nightly", timeout=300, poll_interval=2)
            assert flow_run.state is not None
            assert flow_run.state.is_completed(), flow_run.state
            assert flow_run.state.name == "Completed"  # every bundled sample source is fresh
    finally:
        os.killpg(served.pid, signal.SIGTERM)
        served.wait(timeout=30)
        serve_log.close()
    report = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert report["status"] == "success" and report["engine"] == "prefect"
    assert len(pd.read_parquet(out / "events.parquet")) == report["counts"]["events"] > 0


def _prefect(env: dict[str, str], cwd: Path, *args: str) -> str:
    proc = subprocess.run(
        [str(BIN / "prefect"), *args], cwd=cwd, env=env, capture_output=True, text=True, check=False, timeout=300
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


@pytest.mark.slow
def test_pool_deployment_from_prefect_yaml_beside_the_served_one_and_runs(prefect_server, tmp_path):
    from prefect.client.orchestration import get_client
    from prefect.deployments import run_deployment
    from prefect.settings import PREFECT_API_URL, temporary_settings

    api, env = prefect_server
    home = tmp_path / "checkout"  # a checkout elsewhere: the pool's run writes into its data/, not ours
    home.mkdir()
    for name in ("flows", "sources.yaml", "prefect.yaml"):
        (home / name).symlink_to(ROOT / name)
    env = {**env, "AGGREGATOR_HOME": str(home), "PATH": f"{BIN}:{env['PATH']}"}
    served = subprocess.Popen(
        [str(BIN / "aggregator"), "serve", "--sources", str(ROOT / "sources.yaml"), "--out", str(tmp_path / "served")],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    try:
        with temporary_settings({PREFECT_API_URL: api}), get_client(sync_client=True) as client:
            serving = _wait(lambda: client.read_deployment_by_name("nightly/nightly"), 180, "the served deployment")
            _prefect(env, home, "work-pool", "create", "aggregator", "--type", "process")
            _prefect(env, home, "--no-prompt", "deploy", "--all")  # what `make deploy` runs
            pool = client.read_deployment_by_name("nightly/nightly-pool")
            still = client.read_deployment_by_name("nightly/nightly")
            assert pool.id != still.id and still.id == serving.id  # neither replaced the other
            assert still.work_pool_name is None and pool.work_pool_name == "aggregator"
            assert pool.parameters == {"sources": str(home / "sources.yaml"), "out": str(home / "data")}
            assert all(Path(p).is_absolute() for p in pool.parameters.values())
            assert pool.pull_steps == [{"prefect.deployments.steps.set_working_directory": {"directory": str(home)}}]
            assert pool.entrypoint == "flows/nightly.py:nightly"
            assert pool.global_concurrency_limit is not None and pool.global_concurrency_limit.limit == 1
            cron = pool.schedules[0].schedule
            assert (cron.cron, cron.timezone) == ("0 2 * * *", "Europe/Paris")
    finally:
        os.killpg(served.pid, signal.SIGTERM)
        served.wait(timeout=30)
    with temporary_settings({PREFECT_API_URL: api}):
        flow_run = run_deployment("nightly/nightly-pool", timeout=0)
    worker = subprocess.run(
        [str(BIN / "prefect"), "worker", "start", "--pool", "aggregator", "--run-once"],
        cwd=tmp_path, env=env, capture_output=True, text=True, check=False, timeout=600,
    )  # fmt: skip
    assert worker.returncode == 0, worker.stdout + worker.stderr
    with temporary_settings({PREFECT_API_URL: api}), get_client(sync_client=True) as client:
        final = _wait(lambda: (s := client.read_flow_run(flow_run.id).state) and s.is_final() and s, 300, "the run")
    assert final.is_completed(), final
    report = json.loads((home / "data" / "run.json").read_text(encoding="utf-8"))
    assert report["status"] == "success" and report["config"] == str(home / "sources.yaml")
