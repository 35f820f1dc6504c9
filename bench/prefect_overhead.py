"""Benchmark: what Prefect adds to a run, with no server configured and against a running ``prefect server``.

Run: ``.venv/bin/python bench/prefect_overhead.py`` from the project folder. Times three runs of
``aggregator run`` on the bundled samples, each in a fresh process (imports included): the library
alone (``--engine local``), the flow with Prefect's temporary server, and the flow against a real
server started here on a free loopback port. Overhead = flow - library.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def timed_run(engine: str, env: dict[str, str], out: Path) -> float:
    started = time.perf_counter()
    subprocess.run(
        [str(BIN / "aggregator"), "run", "--sources", str(ROOT / "sources.yaml"), "--out", str(out), "--engine", engine],
        env=env, check=True, capture_output=True,
    )  # fmt: skip
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each kind; medians are reported")
    measure(parser.parse_args().repeat)


def measure(repeat: int) -> dict[str, Any]:
    """Run each kind ``repeat`` times, interleaved; print the medians and return them (seconds)."""
    base = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    base.update({"PREFECT_HOME": str(ROOT / ".prefect"), "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
                 "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "90", "PREFECT_LOGGING_LEVEL": "WARNING"})  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        api = f"http://127.0.0.1:{port}/api"
        server = subprocess.Popen(
            [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
            env={**base, "PREFECT_HOME": str(out / "server-home")}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            timed_run("local", base, out / "warm-up")  # page cache, .pyc files
            deadline = time.monotonic() + 180
            while time.monotonic() < deadline:
                try:
                    urllib.request.urlopen(f"{api}/health", timeout=2)
                    break
                except OSError:
                    time.sleep(1)
            # Interleaved, so that a slow spell of the machine hits every kind alike.
            library, ephemeral, served = [], [], []
            for i in range(repeat):
                library.append(timed_run("local", base, out / f"local-{i}"))
                ephemeral.append(timed_run("prefect", base, out / f"ephemeral-{i}"))
                served.append(timed_run("prefect", {**base, "PREFECT_API_URL": api}, out / f"served-{i}"))
        finally:
            server.terminate()
            server.wait(timeout=30)
    lib = statistics.median(library)
    print(f"medians of {repeat} runs each (all runs: library {_list(library)}, temporary server "
          f"{_list(ephemeral)}, running server {_list(served)})")  # fmt: skip
    print(f"library alone (aggregator run --engine local): {lib:.1f} s")
    for label, times in (
        ("no server configured (temporary server)", ephemeral),
        ("against a running prefect server", served),
    ):
        flow_time = statistics.median(times)
        print(f"flow, {label + ':':<40} {flow_time:.1f} s -> overhead {flow_time - lib:.1f} s")
    return {"library_s": lib, "temporary_server_s": statistics.median(ephemeral),
            "running_server_s": statistics.median(served), "library_runs": library,
            "temporary_server_runs": ephemeral, "running_server_runs": served}  # fmt: skip


def _list(times: list[float]) -> str:
    return ", ".join(f"{t:.1f}" for t in times)


if __name__ == "__main__":
    main()
