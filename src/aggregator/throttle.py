"""Per-host politeness shared by every source of a process: requests in flight and spacing."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field


@dataclass
class _Host:
    semaphore: threading.BoundedSemaphore
    lock: threading.Lock = field(default_factory=threading.Lock)
    next_at: float = 0.0


class HostLimiter:
    """At most ``concurrency`` requests in flight to one host, started at least ``interval`` apart.

    One instance (``LIMITER``) serves the whole process, so that sources fetched in parallel from
    the same site share its budget.

    Args:
        clock: Monotonic seconds; tests pass a fake one, so spacing is checked without waiting.
        sleep: Waits that many seconds (a fake one advances the fake clock).
    """

    def __init__(
        self, clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._hosts: dict[str, _Host] = {}

    def _host(self, host: str, concurrency: int) -> _Host:
        with self._lock:
            if host not in self._hosts:
                self._hosts[host] = _Host(threading.BoundedSemaphore(concurrency))
            return self._hosts[host]

    @contextmanager
    def slot(self, host: str, interval: float, concurrency: int = 1) -> Iterator[float]:
        """Wait for a turn on ``host``; yields the seconds waited for spacing.

        Args:
            host: ``host[:port]`` of the URL.
            interval: Least time between the starts of two requests to the host.
            concurrency: Requests allowed in flight to the host (fixed by its first caller).
        """
        state = self._host(host, concurrency)
        with state.semaphore:
            with state.lock:  # waiters queue here, so starts stay ``interval`` apart
                waited = max(0.0, state.next_at - self._clock())
                if waited:
                    self._sleep(waited)
                state.next_at = self._clock() + interval
            yield waited


LIMITER = HostLimiter()
