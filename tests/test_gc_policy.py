"""The collector's thresholds: raised while a run builds and writes, the program's own restored after."""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import pandas as pd
import pytest

from aggregator import build, outputs, pipeline
from aggregator.config import load_config
from aggregator.gc_policy import THRESHOLDS, fewer_collections, gc_paused

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def program_thresholds() -> Iterator[tuple[int, int, int]]:
    """Thresholds no test of this module should leave behind; the interpreter's put back after each."""
    before = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    yield (700, 10, 10)
    assert gc.get_threshold() == (700, 10, 10)
    gc.set_threshold(*before)


def test_raised_inside_restored_after_even_on_error(program_thresholds: tuple[int, int, int]) -> None:
    with fewer_collections():
        assert gc.get_threshold() == THRESHOLDS
    assert gc.get_threshold() == program_thresholds
    with pytest.raises(ValueError, match="a stage failed"), fewer_collections():
        raise ValueError("a stage failed")
    assert gc.get_threshold() == program_thresholds


def test_nested_and_decorated_uses_share_one_raise(program_thresholds: tuple[int, int, int]) -> None:
    @fewer_collections()
    def stage() -> tuple[int, int, int]:
        return gc.get_threshold()

    with fewer_collections():
        assert stage() == THRESHOLDS
        assert gc.get_threshold() == THRESHOLDS  # the inner exit did not restore: the outer is still inside
    assert stage() == THRESHOLDS
    assert gc.get_threshold() == program_thresholds


@contextmanager
def inside_another_thread(context: Callable[[], AbstractContextManager[None]]) -> Iterator[None]:
    """Another thread enters ``context`` and stays inside until this block is over; then it leaves."""
    inside, leave = threading.Event(), threading.Event()

    def other() -> None:
        with context():
            inside.set()
            leave.wait(10)

    thread = threading.Thread(target=other)
    thread.start()
    try:
        assert inside.wait(10)
        yield
    finally:
        leave.set()
        thread.join()


def test_threads_restore_when_the_last_one_leaves(program_thresholds: tuple[int, int, int]) -> None:
    with inside_another_thread(fewer_collections):
        with fewer_collections():
            assert gc.get_threshold() == THRESHOLDS
        assert gc.get_threshold() == THRESHOLDS  # this thread left; the other one is still building
    assert gc.get_threshold() == program_thresholds


def test_the_programs_own_choices_are_kept() -> None:
    gc.set_threshold(200_000, 5, 5_000)
    with fewer_collections():
        assert gc.get_threshold() == (200_000, 50, 5_000)  # higher ones kept, lower ones raised
    assert gc.get_threshold() == (200_000, 5, 5_000)
    gc.set_threshold(0, 10, 10)  # automatic collection off: it stays off
    with fewer_collections():
        assert gc.get_threshold() == (0, 10, 10)
    gc.set_threshold(700, 10, 10)


def test_a_run_builds_and_writes_under_the_raised_thresholds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, program_thresholds: tuple[int, int, int]
) -> None:
    seen: dict[str, tuple[int, int, int]] = {}
    returned: dict[str, object] = {}

    def spy(module: object, name: str) -> None:
        real = getattr(module, name)

        def wrapper(*args: object, **kwargs: object) -> object:
            seen[name] = gc.get_threshold()
            returned[name] = real(*args, **kwargs)
            return returned[name]

        monkeypatch.setattr(module, name, wrapper)

    spy(pipeline, "collect_all")  # collection: parsing a big file makes millions of objects
    spy(build, "dedupe")
    spy(outputs, "write_table")
    config = load_config(ROOT / "sources.yaml")
    report = pipeline.run(config, tmp_path / "out")
    assert not report.errors_fatal, report.errors
    assert seen == {"collect_all": THRESHOLDS, "dedupe": THRESHOLDS, "write_table": THRESHOLDS}
    assert gc.get_threshold() == program_thresholds
    assert pd.read_parquet(tmp_path / "out" / "latest" / "events.parquet").shape[0] > 0

    # Called alone, as bench/core_bench.py and notebooks do: each stage raises them itself.
    seen.clear()
    collected = returned["collect_all"]
    assert isinstance(collected, list)
    built = build.build_outputs(collected, config, pd.Timestamp("2026-11-26T02:00Z"))
    assert seen == {"dedupe": THRESHOLDS}
    assert gc.get_threshold() == program_thresholds
    outputs.write_outputs(built, tmp_path / "alone", tmp_path / "alone" / "runs" / "one")
    assert seen == {"dedupe": THRESHOLDS, "write_table": THRESHOLDS}
    assert gc.get_threshold() == program_thresholds


def test_parsers_in_threads_share_one_pause() -> None:
    assert gc.isenabled()
    with inside_another_thread(gc_paused):
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the other source is still being parsed
    assert gc.isenabled()
    gc.disable()  # a program that turned the collector off keeps it off
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
