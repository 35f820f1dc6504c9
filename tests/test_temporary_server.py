"""The flow's program starts Prefect's temporary server itself, first, and never leaves it behind."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "data" / "samples"
SERVER_APP = "prefect.server.api.server:create_app"


def _without_server() -> dict[str, str]:
    """This environment with no Prefect server configured: Prefect would start a temporary one."""
    return {k: v for k, v in os.environ.items() if k not in ("PREFECT_API_URL", "PREFECT_SERVER_EPHEMERAL_ENABLED")}


def _servers(process: psutil.Process) -> list[psutil.Process]:
    found = []
    for child in process.children(recursive=True):
        try:
            if SERVER_APP in " ".join(child.cmdline()):
                found.append(child)
        except psutil.Error:
            continue
    return found


def _config(tmp_path: Path) -> Path:
    path = tmp_path / "sources.yaml"
    path.write_text(f"sources:\n  - {{id: lab, kind: ical, url: '{SAMPLES / 'laboc-agenda.ics'}'}}\n")
    return path


@pytest.mark.parametrize(
    ("name", "value"),
    [("PREFECT_API_URL", "http://127.0.0.1:9/api"), ("PREFECT_SERVER_EPHEMERAL_ENABLED", "false"),
     ("PREFECT_SERVER_ALLOW_EPHEMERAL_MODE", "0")],
)  # fmt: skip
def test_no_server_is_launched_where_the_environment_configures_one_or_forbids_it(monkeypatch, name, value):
    from flows.temporary_server import TemporaryServer

    monkeypatch.setenv(name, value)
    assert TemporaryServer.launch() is None


@pytest.mark.parametrize(
    "setting", [("PREFECT_API_URL", "http://127.0.0.1:9/api"), ("PREFECT_SERVER_EPHEMERAL_ENABLED", False)]
)
def test_a_server_prefect_would_not_start_is_stopped_once_its_settings_are_read(monkeypatch, setting):
    # A profile or prefect.toml can configure a server where the environment does not: only
    # Prefect's settings, read after the launch, know.
    import prefect.settings
    from prefect.settings import temporary_settings

    from flows.temporary_server import TemporaryServer

    for variable in ("PREFECT_API_URL", "PREFECT_SERVER_EPHEMERAL_ENABLED", "PREFECT_SERVER_ALLOW_EPHEMERAL_MODE"):
        monkeypatch.delenv(variable, raising=False)
    server = TemporaryServer.launch()
    assert server is not None
    name, value = setting
    with temporary_settings({getattr(prefect.settings, name): value}):
        assert not server.keep_if_prefect_would_start_one()
    assert server.process.poll() is not None


def test_the_launch_does_not_wait_for_prefect_to_load():
    # The point of launching from this module: it starts the server before Prefect's (slow) import.
    code = "import sys; import flows.temporary_server; assert 'prefect' not in sys.modules, sorted(sys.modules)"
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)


@pytest.mark.slow  # a flow run in a process of its own, with its own server: seconds
def test_a_run_with_no_server_configured_starts_its_server_first_and_stops_it(tmp_path):
    out = tmp_path / "out"
    command = [sys.executable, "-m", "aggregator.cli", "run", "--sources", str(_config(tmp_path)), "--out", str(out)]
    env = {k: v for k, v in _without_server().items() if k != "PREFECT_LOGGING_LEVEL"}  # Prefect's INFO lines
    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    cli = psutil.Process(proc.pid)
    started: dict[int, psutil.Process] = {}
    while proc.poll() is None:
        started.update({s.pid: s for s in _servers(cli)})
        time.sleep(0.05)
    _, stderr = proc.communicate()
    assert proc.returncode == 0, stderr
    assert json.loads((out / "run.json").read_text())["counts"]["listings"] > 0
    # The program's own server, and only it: Prefect says when it starts one of its own.
    assert "Waiting for the temporary Prefect server on http://127.0.0.1:" in stderr
    assert "Starting temporary server on" not in stderr
    assert "View at http" not in stderr  # no link to a UI the server does not serve, and that ends with it
    assert len(started) == 1
    assert "Stopping the temporary Prefect server on" in stderr
    assert not any(s.is_running() and s.status() != psutil.STATUS_ZOMBIE for s in started.values())


@pytest.mark.slow  # starts a server: seconds
def test_the_server_dies_with_the_program_however_it_ends(tmp_path):
    # The CLI kills the program when the sources file is bad, by then the server has started.
    program = [sys.executable, str(ROOT / "flows" / "program.py"), str(_config(tmp_path)), str(tmp_path / "o"), "r1"]
    proc = subprocess.Popen(program, env=_without_server(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        parent = psutil.Process(proc.pid)
        deadline = time.monotonic() + 60
        servers: list[psutil.Process] = []
        while not servers and time.monotonic() < deadline and proc.poll() is None:
            servers = _servers(parent)
            time.sleep(0.05)
        assert servers, "the program started no server"
    finally:
        proc.kill()
        proc.wait()
    _, alive = psutil.wait_procs(servers, timeout=30)
    for server in alive:
        server.kill()
    assert not alive, "the server outlived its program"
