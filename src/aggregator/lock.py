"""One run at a time per output: a lock on the output folder (flock) or on the object-storage prefix (a lock object)."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import fsspec
import pandas as pd

LOCK_NAME = ".lock"
# A lock object whose heartbeat is older than this belongs to a run that died (object storage has
# no lock that dies with its process); its holder rewrites it every HEARTBEAT_S.
STALE_AFTER_S = 600.0
HEARTBEAT_S = 60.0


def new_run_id() -> str:
    """A fresh run id, 12 hexadecimal digits: what names a run's lock, folder and report."""
    return uuid.uuid4().hex[:12]


class OutputLockedError(RuntimeError):
    """Another run holds the output; the message says which, since when, and what to do."""


def _owner(run_id: str) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "since": pd.Timestamp.now(tz="UTC").isoformat(),
        "heartbeat_at": pd.Timestamp.now(tz="UTC").isoformat(),
    }


def _describe(owner: dict[str, Any] | None) -> str:
    if not owner:
        return "another run"
    where = f"host {owner.get('host', '?')}, pid {owner.get('pid', '?')}"
    return f"run {owner.get('run_id', '?')} ({where}, since {owner.get('since', '?')})"


@contextmanager
def local_lock(
    out_dir: Path,
    run_id: str,
    wait_s: float,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[None]:
    """Hold the output folder for this run: an exclusive ``flock`` on ``<out>/.lock``.

    The kernel releases it when the process ends, however it ends (kill -9 included): a lock is
    never left behind by a dead run. The file names the holder, for the message of a run that
    finds it taken.

    Args:
        out_dir: The output folder (created if needed).
        run_id: This run, written into the lock file.
        wait_s: How long to wait for a run holding it to finish; 0: not at all.
        clock: Monotonic seconds (tests pass a fake one).
        sleep: Waits that many seconds.

    Raises:
        OutputLockedError: When the folder is still held after ``wait_s``.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / LOCK_NAME
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = clock() + wait_s
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if clock() >= deadline:
                    raise OutputLockedError(
                        f"{out_dir} is in use by {_describe(_read_owner(path))}; "
                        f"waited {wait_s:g} s (run.lock_wait_s); try again when it has finished"
                    ) from None
                sleep(min(1.0, max(deadline - clock(), 0.01)))
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(_owner(run_id)).encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _read_owner(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8") or "null")
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


@contextmanager
def remote_lock(
    url: str,
    run_id: str,
    wait_s: float,
    stale_after_s: float = STALE_AFTER_S,
    heartbeat_s: float = HEARTBEAT_S,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[None]:
    """Hold an object-storage output for this run: a lock object ``<url>/LOCK`` with a heartbeat.

    Object stores have no lock that dies with its holder: the object names its owner and is
    rewritten every ``heartbeat_s``; one whose heartbeat is older than ``stale_after_s`` belongs to
    a dead run and is taken over. Taking it is write-then-read-back (the store keeps the last
    write): of two runs starting in the same instant, the one that reads back another owner backs
    off.

    Raises:
        OutputLockedError: When another live run still holds it after ``wait_s``.
    """
    fs, _ = fsspec.core.url_to_fs(url)
    path = f"{url.rstrip('/')}/LOCK"
    me = _owner(run_id)
    deadline = clock() + wait_s
    while True:
        holder = _remote_owner(fs, path)
        if holder is None or holder.get("run_id") == run_id or _stale(holder, stale_after_s):
            fs.pipe_file(path, json.dumps(me).encode())
            sleep(0.2)  # let a concurrent writer's object land before reading back
            if (_remote_owner(fs, path) or {}).get("run_id") == run_id:
                break
            continue
        if clock() >= deadline:
            raise OutputLockedError(
                f"{url} is in use by {_describe(holder)}; waited {wait_s:g} s (run.lock_wait_s); "
                f"try again when it has finished (a lock without heartbeat for {stale_after_s:g} s is taken over)"
            )
        sleep(min(5.0, max(deadline - clock(), 0.01)))
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(heartbeat_s):
            me["heartbeat_at"] = pd.Timestamp.now(tz="UTC").isoformat()
            with contextlib.suppress(Exception):  # a missed beat is retried at the next one
                fs.pipe_file(path, json.dumps(me).encode())

    beating = threading.Thread(target=beat, daemon=True, name="lock-heartbeat")
    beating.start()
    try:
        yield
    finally:
        stop.set()
        beating.join(5)
        with contextlib.suppress(Exception):
            if (_remote_owner(fs, path) or {}).get("run_id") == run_id:
                fs.rm(path)


def _remote_owner(fs: fsspec.AbstractFileSystem, path: str) -> dict[str, Any] | None:
    try:
        data = json.loads(fs.cat_file(path).decode("utf-8"))
    except FileNotFoundError:
        return None
    except ValueError:
        return {}  # unreadable: treated as stale below
    return data if isinstance(data, dict) else {}


def _stale(holder: dict[str, Any], stale_after_s: float) -> bool:
    try:
        beat = pd.Timestamp(holder["heartbeat_at"])
    except (KeyError, ValueError, TypeError):
        return True
    return (pd.Timestamp.now(tz="UTC") - beat).total_seconds() > stale_after_s
