"""The garbage collector in a run: fewer collections while it holds millions of objects, none while parsing."""

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
    """Counts the callers inside each context (threads, nested calls): the last one out restores."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.depth = 0
        self.saved: tuple[int, int, int] = gc.get_threshold()
        self.pauses = 0
        self.was_enabled = True


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


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a parser builds many small objects.

    Parsed documents and records hold few reference cycles: collections while building them only
    cost time (``json.loads`` of a 200 MB export: 6.0 s with it, 3.6 s without, here). Whatever
    cycles they do hold (parsed HTML trees) are collected once it runs again. Sources parsed in
    several threads at once share one pause: the collector comes back when the last of them is
    done, and only if it was on before the first.
    """
    with _POLICY.lock:
        if _POLICY.pauses == 0:
            _POLICY.was_enabled = gc.isenabled()
            gc.disable()
        _POLICY.pauses += 1
    try:
        yield
    finally:
        with _POLICY.lock:
            _POLICY.pauses -= 1
            if _POLICY.pauses == 0 and _POLICY.was_enabled:
                gc.enable()
