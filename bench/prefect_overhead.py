"""Benchmark: what Prefect adds to a run, with no server configured and against a running ``prefect server``.

Run: ``.venv/bin/python bench/prefect_overhead.py`` from the project folder. Times three runs of
``aggregator run`` on the bundled samples, each in a fresh process (imports included): the library
alone (``--engine local``), the flow with Prefect's temporary server, and the flow against a real
server started here on a free loopback port. Overhead = flow - library.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

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
    base = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    base.update({"PREFECT_HOME": str(ROOT / ".prefect"), "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
                 "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "90", "PREFECT_LOGGING_LEVEL": "WARNING"})  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        timed_run("local", base, out / "warm-up")  # page cache, .pyc files
        library = timed_run("local", base, out / "local")
        ephemeral = timed_run("prefect", base, out / "ephemeral")
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        api = f"http://127.0.0.1:{port}/api"
        server = subprocess.Popen(
            [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
            env={**base, "PREFECT_HOME": str(out / "server-home")}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 180
            while time.monotonic() < deadline:
                try:
                    urllib.request.urlopen(f"{api}/health", timeout=2)
                    break
                except OSError:
                    time.sleep(1)
            served = timed_run("prefect", {**base, "PREFECT_API_URL": api}, out / "served")
        finally:
            server.terminate()
            server.wait(timeout=30)
    print(f"library alone (aggregator run --engine local): {library:.1f} s")
    print(f"flow, no server configured (temporary server): {ephemeral:.1f} s -> overhead {ephemeral - library:.1f} s")
    print(f"flow, against a running prefect server:        {served:.1f} s -> overhead {served - library:.1f} s")


if __name__ == "__main__":
    main()
