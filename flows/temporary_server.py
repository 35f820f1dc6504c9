"""Prefect's temporary server, started as the flow's program starts, so that it comes up while the program loads."""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import time

import prefect
from prefect.logging import get_logger
from prefect.logging.configuration import ensure_logging_setup
from prefect.settings import get_current_settings

logger = get_logger("temporary_server")

PR_SET_PDEATHSIG = 1  # linux/prctl.h
# Loaded here, not between fork and exec, where only async-signal-safe calls belong.
LIBC = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None


def _die_with_parent() -> None:
    # Linux: the kernel sends the server SIGTERM when the program ends, however it ends (the CLI
    # kills the program when the sources file is bad): no server is left behind, holding a port.
    if LIBC is not None:
        LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class TemporaryServer:
    """The server Prefect starts for a flow when no API URL is configured, started earlier.

    Prefect starts its temporary server (``SubprocessASGIServer``) at the flow's first call to the
    API, once the program has loaded Prefect and the library (seconds), then waits for it to come
    up (seconds more). Started here, before those imports, it comes up while they run: the same
    command and settings as Prefect's own (no UI, the services of an ephemeral server), on a free
    loopback port, stopped when the program exits and killed with it. Prefect's class itself is not
    used: importing its module loads the server's own modules first (seconds, measured), which is
    the time this saves.
    """

    def __init__(self, process: subprocess.Popen[bytes], port: int) -> None:
        """Wrap a started server process listening on ``port``."""
        self.process = process
        self.api_url = f"http://127.0.0.1:{port}/api"

    @classmethod
    def start(cls) -> TemporaryServer | None:
        """Start the server if Prefect would start one (no API URL set, temporary servers allowed), else None."""
        settings = get_current_settings()
        if settings.api.url or not settings.server.ephemeral.enabled:
            return None
        port = _free_port()
        command = [
            sys.executable, "-m", "uvicorn", "--app-dir", str(prefect.__module_path__.parent),
            "--factory", "prefect.server.api.server:create_app", "--host", "127.0.0.1", "--port", str(port),
            "--log-level", "error", "--lifespan", "on",
        ]  # fmt: skip
        env = {
            **os.environ,
            "PREFECT_UI_ENABLED": "0",
            "PREFECT__SERVER_EPHEMERAL": "1",
            "PREFECT__SERVER_FINAL": "1",
            **settings.to_environment_variables(exclude_unset=True),
        }
        ensure_logging_setup()  # as ``import prefect.main`` does, which has not run yet
        logger.info(
            "Starting a temporary Prefect server on http://127.0.0.1:%s while the flow loads; a running "
            "server (make serve, then PREFECT_API_URL) saves its start-up",
            port,
        )
        # Started from the program's main thread, first: the server's parent-death signal follows that thread.
        server = cls(subprocess.Popen(command, env=env, preexec_fn=_die_with_parent), port)
        # Stopped at exit, after Prefect's services have sent their last logs and events to it
        # (they drain when threads are shut down, before ``atexit`` handlers run), as Prefect does.
        atexit.register(server.stop)
        return server

    def ready(self, timeout_s: float | None = None) -> bool:
        """Wait until the server answers its health check; False if it ended or ``timeout_s`` passed first.

        The default time limit is Prefect's own for its temporary server
        (``PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS``).
        """
        import httpx

        limit = timeout_s if timeout_s is not None else get_current_settings().server.ephemeral.startup_timeout_seconds
        deadline = time.monotonic() + limit
        with httpx.Client(timeout=2) as client:
            while time.monotonic() < deadline and self.process.poll() is None:
                with contextlib.suppress(httpx.HTTPError):
                    if client.get(f"{self.api_url}/health").status_code == 200:
                        return True
                time.sleep(0.1)
        code = self.process.poll()
        logger.warning(
            "The temporary Prefect server on %s %s; Prefect starts its own",
            self.api_url.removesuffix("/api"),
            f"ended with status {code}" if code is not None else f"did not answer within {limit:g} s",
        )
        return False

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL after 5 s), as Prefect stops its own."""
        if self.process.poll() is None:
            logger.info("Stopping the temporary Prefect server on %s", self.api_url.removesuffix("/api"))
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
