"""A wall-clock deadline over all of one source's requests, kept even against a server that drips bytes."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.response import BaseHTTPResponse
from urllib3.util.retry import Retry


class DeadlineError(Exception):
    """Raised inside a request when the source's deadline has passed (turned into a ``FetchError``)."""


class Deadline:
    """The time by which every request of one source must be over, retries and their waits included.

    A read timeout bounds each wait for a byte, not a download: a server sending one byte a second
    never trips it. So while a request runs (``guard``), the sockets it reads from are watched,
    and a timer shuts them down when the deadline passes: the blocked read returns at once.

    Args:
        seconds: Time allowed from now.
        retry_after_max_s: Longest wait between retries, ``Retry-After`` included.
        clock: Monotonic seconds.
    """

    def __init__(
        self, seconds: float, retry_after_max_s: float = 120.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.seconds = seconds
        self.retry_after_max_s = retry_after_max_s
        self._clock = clock
        self._at = clock() + seconds
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self.passed = False

    def remaining(self) -> float:
        """Seconds left, negative once passed."""
        return self._at - self._clock()

    @contextmanager
    def guard(self) -> Iterator[None]:
        """Run one request under the deadline (this thread's requests report their sockets to it).

        Raises:
            DeadlineError: At once when no time is left.
        """
        left = self.remaining()
        if left <= 0:
            self.passed = True
            raise DeadlineError
        timer = threading.Timer(left, self._expire)
        timer.daemon = True
        outer = _CURRENT.deadline
        _CURRENT.deadline = self
        timer.start()
        try:
            yield
        finally:
            timer.cancel()
            _CURRENT.deadline = outer
            with self._lock:
                self._sockets.clear()

    def watch(self, sock: socket.socket | None) -> None:
        """Shut ``sock`` down when the deadline passes (at once if it has)."""
        if sock is None:
            return
        with self._lock:
            if self.passed:
                _shut(sock)
            else:
                self._sockets.add(sock)

    def _expire(self) -> None:
        with self._lock:
            self.passed = True
            for sock in self._sockets:
                _shut(sock)


def _shut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):  # already closed
        sock.shutdown(socket.SHUT_RDWR)


class _Current(threading.local):
    deadline: Deadline | None = None


_CURRENT = _Current()


class _Watched:
    """Mixin for urllib3 connections: the socket an answer is read from is reported to the deadline."""

    sock: socket.socket | None

    def getresponse(self, *args: Any, **kwargs: Any) -> Any:
        if _CURRENT.deadline is not None:
            _CURRENT.deadline.watch(self.sock)
        return super().getresponse(*args, **kwargs)  # type: ignore[misc]


class _WatchedHTTPConnection(_Watched, HTTPConnection):
    pass


class _WatchedHTTPSConnection(_Watched, HTTPSConnection):
    pass


class _WatchedPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


class WatchedAdapter(HTTPAdapter):
    """requests' adapter whose connections report their sockets to the running request's ``Deadline``."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        """The usual pool manager, making watched connections."""
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _WatchedPool, "https": _WatchedHTTPSPool}


class BoundedRetry(Retry):
    """urllib3's retries, whose waits are capped and never outlast the running request's deadline.

    A ``Retry-After`` of hours is honoured up to ``Deadline.retry_after_max_s``; a wait that
    would end past the deadline is not started.
    """

    def sleep(self, response: BaseHTTPResponse | None = None) -> None:
        """Wait before the next attempt, or raise ``DeadlineError`` when there is no time for it."""
        wait = self.get_retry_after(response) if self.respect_retry_after_header and response else None
        if wait is None:
            wait = self.get_backoff_time()
        deadline = _CURRENT.deadline
        if deadline is not None:
            wait = min(wait, deadline.retry_after_max_s)
            if wait >= deadline.remaining():
                deadline.passed = True
                raise DeadlineError
        if wait > 0:
            time.sleep(wait)
