"""Figures drawn in a helper process, started early so that matplotlib loads while a run collects."""

from __future__ import annotations

import atexit
import contextlib
import os
import pickle
import signal
import subprocess
import sys
import threading
import traceback
from collections.abc import Mapping
from concurrent.futures import Future
from typing import IO

import pandas as pd

from aggregator.figures import TABLES, Figures


class HelperEndedError(RuntimeError):
    """The helper process ended before it answered (killed, out of memory)."""


class _Helper:
    """One ``python -m aggregator.drawing`` process, drawing what it is sent, one request at a time."""

    def __init__(self) -> None:
        # A fresh interpreter that imports the drawing code only, not the caller's program (as
        # multiprocessing's spawn would): about a second and a half, on the other core.
        self.process = subprocess.Popen([sys.executable, "-P", "-m", "aggregator.drawing"], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE)  # fmt: skip
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        self._requests, self._replies = self.process.stdin, self.process.stdout
        self._turn = threading.Lock()

    def draw(self, tables: dict[str, pd.DataFrame]) -> Future[Figures]:
        future: Future[Figures] = Future()
        # A thread sends and waits: a request bigger than the pipe would block until the helper reads it.
        threading.Thread(target=self._exchange, args=(tables, future), name="figures", daemon=True).start()
        return future

    def _exchange(self, tables: dict[str, pd.DataFrame], future: Future[Figures]) -> None:
        try:
            with self._turn:
                pickle.dump(tables, self._requests, protocol=pickle.HIGHEST_PROTOCOL)
                self._requests.flush()
                done, answer = pickle.load(self._replies)
        except (OSError, EOFError, pickle.UnpicklingError) as exc:
            future.set_exception(HelperEndedError(f"the figures' helper process ended: {type(exc).__name__}: {exc}"))
            return
        if done:
            future.set_result(answer)
        else:
            future.set_exception(RuntimeError(f"drawing the figures failed in the helper process:\n{answer}"))

    def close(self) -> None:
        # Ended at once: it holds nothing worth waiting for, and may still be importing (a run that
        # failed before drawing); left alone, it would end at the end of its input.
        self.process.kill()
        self.process.wait()
        with contextlib.suppress(OSError):
            self._requests.close()


_lock = threading.Lock()
_helper: _Helper | None = None


def start_helper() -> None:
    """Start the helper process unless it runs already (returns at once; thread-safe).

    It first imports matplotlib and the drawing code, while the run collects its sources; it then
    serves every run of the program (one for the CLI, many for a served flow or the test suite)
    and ends with it.
    """
    global _helper
    with _lock:
        if _helper is None or _helper.process.poll() is not None:
            _helper = _Helper()


def draw_elsewhere(tables: Mapping[str, pd.DataFrame]) -> Future[Figures]:
    """``charts.draw`` of ``tables`` in the helper process (started if need be), while the caller goes on.

    Args:
        tables: The statistics tables by name (``stats.all_tables``); only ``figures.TABLES`` are sent.

    Returns:
        The figures to come: give the future to ``figures_of``.
    """
    start_helper()
    assert _helper is not None
    return _helper.draw(_figure_tables(tables))


def figures_of(pending: Future[Figures] | None, tables: Mapping[str, pd.DataFrame]) -> Figures:
    """The figures the helper drew (waiting for them), or drawn here when none was asked or the helper ended.

    An error of the drawing itself is raised: drawing here again would only repeat it.
    """
    if pending is not None:
        with contextlib.suppress(HelperEndedError):  # the next run starts another helper
            return pending.result()
    return _draw(_figure_tables(tables))


def _figure_tables(tables: Mapping[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    return {name: tables[name] for name in TABLES}


def _draw(tables: Mapping[str, pd.DataFrame]) -> Figures:
    # Imported here: only a process that draws loads matplotlib (the helper, or a run drawing itself).
    from aggregator.charts import draw

    return draw(tables)


def _serve(requests: IO[bytes], replies: IO[bytes]) -> None:
    """The helper's loop: pickled tables in, pickled ``(True, figures)`` or ``(False, traceback)`` out."""
    from aggregator import charts  # before the first request: loaded while the run collects

    while True:
        try:
            tables = pickle.load(requests)
        except EOFError:  # the program that started it ended
            return
        try:
            answer: tuple[bool, object] = (True, charts.draw(tables))
        except Exception:
            answer = (False, traceback.format_exc())
        pickle.dump(answer, replies, protocol=pickle.HIGHEST_PROTOCOL)
        replies.flush()


@atexit.register
def _stop_helper() -> None:
    with _lock:
        if _helper is not None:
            _helper.close()


if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the program; the helper ends with its input
    replies = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # what the drawing code prints never mixes with replies
    _serve(sys.stdin.buffer, replies)
