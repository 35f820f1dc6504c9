"""Prefect's temporary server, started as the flow's program starts, so that it comes up while the program loads."""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import importlib.util
import logging
import os
import signal
import socket
import subprocess
import sys
import time

PR_SET_PDEATHSIG = 1  # linux/prctl.h
# Loaded here, not between fork and exec, where only async-signal-safe calls belong.
LIBC = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None
SERVER_APP = "prefect.server.api.server:create_app"
_FALSE = ("0", "false", "no", "off")


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


def _logger() -> logging.Logger:
    from prefect.logging import get_logger
    from prefect.logging.configuration import ensure_logging_setup

    ensure_logging_setup()  # as ``import prefect.main`` does, which may not have run yet
    return get_logger("temporary_server")


class TemporaryServer:
    """The server Prefect starts for a flow when no API URL is configured, started earlier.

    Prefect starts its temporary server (``SubprocessASGIServer``) at the flow's first call to the
    API, once the program has loaded Prefect and the library (seconds), then waits for it to come
    up (seconds more). Launched here, before Prefect itself is imported (about a second), it comes
    up while those imports run: the same command and settings as Prefect's own (no UI, the services
    of an ephemeral server), on a free loopback port, stopped when the program exits and killed
    with it. Prefect's class itself is not used: importing its module loads the server's own
    modules first (seconds, measured), which is the time this saves.
    """

    def __init__(self, process: subprocess.Popen[bytes], port: int) -> None:
        """Wrap a started server process listening on ``port``."""
        self.process = process
        self.port = port
        self.api_url = f"http://127.0.0.1:{port}/api"

    @classmethod
    def launch(cls) -> TemporaryServer | None:
        """Start the server unless the environment configures one (or forbids it); Prefect is not imported.

        Prefect's settings can also come from its profile or a ``prefect.toml``, which only Prefect
        reads: ``keep_if_prefect_would_start_one`` checks them once Prefect is loaded, and stops
        a server launched here that Prefect would not have started.
        """
        switches = ("PREFECT_SERVER_EPHEMERAL_ENABLED", "PREFECT_SERVER_ALLOW_EPHEMERAL_MODE")  # the name, its alias
        if os.environ.get("PREFECT_API_URL") or any(
            os.environ.get(name, "").strip().lower() in _FALSE for name in switches
        ):
            return None
        spec = importlib.util.find_spec("prefect")  # its folder, without running its (slow) __init__
        if spec is None or not spec.submodule_search_locations:
            return None  # no Prefect to start a server from: the program's import of it says so
        port = _free_port()
        command = [
            sys.executable, "-m", "uvicorn", "--app-dir", os.path.dirname(spec.submodule_search_locations[0]),
            "--factory", SERVER_APP, "--host", "127.0.0.1", "--port", str(port),
            "--log-level", "error", "--lifespan", "on",
        ]  # fmt: skip
        # The server reads Prefect's settings itself, from this environment, profile and files.
        env = {**os.environ, "PREFECT_UI_ENABLED": "0", "PREFECT__SERVER_EPHEMERAL": "1", "PREFECT__SERVER_FINAL": "1"}
        # Started from the program's main thread, first: the server's parent-death signal follows that thread.
        server = cls(subprocess.Popen(command, env=env, preexec_fn=_die_with_parent), port)
        # Stopped at exit, after Prefect's services have sent their last logs and events to it
        # (they drain when threads are shut down, before ``atexit`` handlers run), as Prefect does.
        atexit.register(server.stop)
        return server

    def keep_if_prefect_would_start_one(self) -> bool:
        """True if Prefect's settings (no API URL, temporary servers allowed) call for this server; else stop it."""
        from prefect.settings import get_current_settings

        settings = get_current_settings()
        if settings.api.url or not settings.server.ephemeral.enabled:
            self.stop(quietly=True)
            return False
        return True

    def ready(self, timeout_s: float | None = None) -> bool:
        """Wait until the server answers its health check; False if it ended or ``timeout_s`` passed first.

        The default time limit is Prefect's own for its temporary server
        (``PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS``).
        """
        import httpx
        from prefect.settings import get_current_settings

        limit = timeout_s if timeout_s is not None else get_current_settings().server.ephemeral.startup_timeout_seconds
        # Said here, once the flow has loaded, not at the launch: a bad sources file stops the
        # program before this, and its error must stay the CLI's one line.
        _logger().info(
            "Waiting for the temporary Prefect server on http://127.0.0.1:%s, started with the flow's program; "
            "a running server (make serve, then PREFECT_API_URL) saves its start-up",
            self.port,
        )
        deadline = time.monotonic() + limit
        with httpx.Client(timeout=2) as client:
            while time.monotonic() < deadline and self.process.poll() is None:
                with contextlib.suppress(httpx.HTTPError):
                    if client.get(f"{self.api_url}/health").status_code == 200:
                        return True
                time.sleep(0.1)
        code = self.process.poll()
        _logger().warning(
            "The temporary Prefect server on %s %s; Prefect starts its own",
            self.api_url.removesuffix("/api"),
            f"ended with status {code}" if code is not None else f"did not answer within {limit:g} s",
        )
        return False

    def stop(self, quietly: bool = False) -> None:
        """Stop the server (SIGTERM, then SIGKILL after 5 s), as Prefect stops its own."""
        if self.process.poll() is None:
            if not quietly:
                _logger().info("Stopping the temporary Prefect server on %s", self.api_url.removesuffix("/api"))
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
