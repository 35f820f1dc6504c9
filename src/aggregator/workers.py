"""Worker processes that normalise a run's partitions, started early when a big source is being read."""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor

import pandas as pd

from aggregator.normalise import Part, warm_up

# A fetched source this big (in bytes) holds tens of thousands of listings (an iCalendar event is
# about 500 bytes, a DATAtourisme object about 2,000): worth starting the workers while it is parsed.
PRESTART_BYTES = 8_000_000


class Workers:
    """A ``MapChunks`` over up to ``processes`` worker processes, used for one normalisation.

    Starting the workers and loading the reference tables in each takes about 3 s: ``start``
    (thread-safe, idempotent) lets a run begin it while its sources are still being fetched and
    parsed, so that it overlaps work of the run's own process. The workers are shut down as soon as
    the partitions are normalised, giving their memory back before deduplication. One partition (or
    ``processes`` 1) is normalised in the calling process. Workers come from a forkserver (a clean,
    single-threaded process that has imported normalisation once), never forked from this threaded one.
    """

    def __init__(self, processes: int) -> None:
        """Workers not started yet.

        Args:
            processes: Most worker processes (``run.processes``); 1: everything in the calling process.
        """
        self.processes = processes
        self.started_early = False
        self._pool: ProcessPoolExecutor | None = None
        self._starting: threading.Thread | None = None
        self._error: BaseException | None = None
        self._lock = threading.Lock()

    @property
    def running(self) -> bool:
        """Whether worker processes are up or starting (and not shut down yet)."""
        return self._starting is not None

    def start(self, early: bool = True) -> None:
        """Start the worker processes and warm them up, in the background (no-op if started).

        Starting the forkserver blocks until it has imported normalisation (about 1.3 s here): a
        thread does it, so that the caller goes on parsing meanwhile.
        """
        if self.processes <= 1:
            return
        with self._lock:
            if self._starting is not None:
                return
            self.started_early = early
            self._starting = threading.Thread(target=self._spawn, name="workers-start", daemon=True)
            self._starting.start()

    def _spawn(self) -> None:
        try:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(["aggregator.normalise"])  # imported once, before the forks
            self._pool = ProcessPoolExecutor(max_workers=self.processes, mp_context=context, initializer=warm_up)
            # Each submission spawns one worker (up to max_workers), which runs ``warm_up`` first.
            for _ in range(self.processes):
                self._pool.submit(os.getpid)
        except BaseException as exc:  # raised where the workers are used
            self._error = exc

    def _ready(self) -> ProcessPoolExecutor:
        """The pool, once started (re-raising what went wrong when starting it)."""
        assert self._starting is not None
        self._starting.join()
        if self._error is not None:
            raise self._error
        assert self._pool is not None
        return self._pool

    def on_fetched(self, n_bytes: int) -> None:
        """Collection's hook, called once a source is fetched and before it is parsed: start if it is big."""
        if n_bytes >= PRESTART_BYTES:
            self.start()

    def __call__(self, func: Callable[[pd.DataFrame], Part], items: list[pd.DataFrame]) -> list[Part]:
        """Normalise ``items`` with ``func``, on the workers when there are several, in their order."""
        try:
            if self.processes <= 1 or len(items) <= 1:
                return [func(item) for item in items]
            self.start(early=False)
            return list(self._ready().map(func, items))
        finally:
            self.close()  # started early for a source that gave few rows: not needed any more

    def close(self) -> None:
        """Shut the workers down (they are started again if used again)."""
        with self._lock:
            starting, self._starting = self._starting, None
        if starting is None:
            return
        starting.join()
        pool, self._pool, self._error = self._pool, None, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
