"""Fewer garbage collections while a run holds millions of objects, the interpreter's own thresholds restored after."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

# CPython's defaults (700, 10, 10) make it walk every tracked object again and again while a run
# holds millions of them (the events' lists of sources, records, index objects), freeing almost nothing:
# in the one-million-listing benchmark, 7 full collections took 1.1 s of the build and writing
# (1.3 s with the young ones; 0.1 s with these thresholds: docs/benchmarks.md). Young collections
# still run, so short-lived cycles are freed as before.
THRESHOLDS = (100_000, 50, 1_000)


class _Policy:
    """Counts the callers inside ``fewer_collections`` (threads, nested calls): the last one out restores."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.depth = 0
        self.saved: tuple[int, int, int] = gc.get_threshold()


_POLICY = _Policy()


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Raise the collector's thresholds to ``THRESHOLDS`` for the duration (also a decorator).

    Thresholds set higher by the program are kept, and a program that turned automatic collection
    off (a first threshold of 0) keeps it off. Nested and concurrent uses (a Prefect flow's threads)
    share one raise; the interpreter's thresholds come back when the last of them leaves.
    """
    with _POLICY.lock:
        if _POLICY.depth == 0:
            _POLICY.saved = gc.get_threshold()
            if _POLICY.saved[0] > 0:
                gc.set_threshold(*(max(a, b) for a, b in zip(_POLICY.saved, THRESHOLDS, strict=True)))
        _POLICY.depth += 1
    try:
        yield
    finally:
        with _POLICY.lock:
            _POLICY.depth -= 1
            if _POLICY.depth == 0:
                gc.set_threshold(*_POLICY.saved)
