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
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import fsspec

LOCK_NAME = ".lock"
# A lock object whose heartbeat is older than this belongs to a run that died (object storage has
# no lock that dies with its process); its holder rewrites it every HEARTBEAT_S.
STALE_AFTER_S = 600.0
HEARTBEAT_S = 60.0


def _now() -> str:
    # datetime, not pandas: the CLI takes a run id from this module before it loads pandas.
    return datetime.now(UTC).isoformat()


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
        "since": _now(),
        "heartbeat_at": _now(),
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
    a dead run and is taken over. On S3 every write of the lock is conditional: it is created only
    if absent (``If-None-Match: *``) and replaced only if it is still the object read
    (``If-Match`` its ETag), so of two runs starting in the same instant, or taking over the same
    dead run's lock, one wins and the other sees it; a heartbeat does not overwrite a lock another
    run took over. Every write is then read back, which also decides on stores that ignore the
    conditions.

    Raises:
        OutputLockedError: When another live run still holds it after ``wait_s``.
    """
    fs, _ = fsspec.core.url_to_fs(url)
    path = f"{url.rstrip('/')}/LOCK"
    store = _LockObject(fs, path)
    me = _owner(run_id)
    deadline = clock() + wait_s
    while True:
        holder, etag = store.read()
        if holder is None or holder.get("run_id") == run_id or _stale(holder, stale_after_s):
            if store.write(me, expected=etag, absent=holder is None):
                sleep(0.2)  # let a concurrent writer's object land before reading back
                if (store.read()[0] or {}).get("run_id") == run_id:
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
            me["heartbeat_at"] = _now()
            with contextlib.suppress(Exception):  # a missed beat is retried at the next one
                store.write(me, expected=store.written, absent=False)

    beating = threading.Thread(target=beat, daemon=True, name="lock-heartbeat")
    beating.start()
    try:
        yield
    finally:
        stop.set()
        beating.join(5)
        with contextlib.suppress(Exception):
            store.remove(run_id)


class _LockObject:
    """The lock object, read with its ETag and written on condition where the store is S3."""

    def __init__(self, fs: fsspec.AbstractFileSystem, path: str) -> None:
        self.fs = fs
        self.path = path
        protocols = fs.protocol if isinstance(fs.protocol, tuple | list) else (fs.protocol,)
        self.conditional = any(p in ("s3", "s3a") for p in protocols)  # s3fs: If-None-Match, If-Match
        self.written: str | None = None  # the ETag of this run's last write

    def read(self) -> tuple[dict[str, Any] | None, str | None]:
        """The owner the object names (None: no object; {}: unreadable) and its ETag (None if unknown).

        The ETag is read before and after the content: equal, they are the content's.
        """
        for _ in range(3):
            try:
                before = self._etag()
                data = self.fs.cat_file(self.path)
                after = self._etag()
            except FileNotFoundError:
                return None, None
            if before == after:
                break
        else:
            before = None  # the object keeps changing: no ETag to replace it on
        try:
            owner = json.loads(data.decode("utf-8"))
        except ValueError:
            return {}, before  # unreadable: treated as stale
        return (owner if isinstance(owner, dict) else {}), before

    def _etag(self) -> str | None:
        if not self.conditional:
            return None
        self.fs.invalidate_cache(self.path)
        etag = self.fs.info(self.path).get("ETag")
        return None if etag is None else str(etag)

    def write(self, owner: dict[str, Any], expected: str | None, absent: bool) -> bool:
        """Write ``owner`` if the object is still as read: absent, or the object of ETag ``expected``.

        Returns:
            False when another run created or changed it since (or its ETag is unknown).
        """
        body = json.dumps(owner).encode()
        if not self.conditional:
            self.fs.pipe_file(self.path, body)
            return True
        if not absent and expected is None:
            return False
        try:
            if absent:
                out = self.fs.pipe_file(self.path, body, mode="create")
            else:
                out = self.fs.pipe_file(self.path, body, IfMatch=expected)
        except FileExistsError:
            return False
        except OSError as exc:
            if "pre-condition" in str(exc).lower() or "precondition" in str(exc).lower():
                return False
            # An S3-compatible store that does not take the conditions: written as before, read back.
            self.conditional = False
            self.fs.pipe_file(self.path, body)
            return True
        etag = out.get("ETag") if isinstance(out, dict) else None
        self.written = str(etag) if etag is not None else self._etag()
        return True

    def remove(self, run_id: str) -> None:
        """Delete the object if it is this run's, and on S3 only if it is still the object read (``If-Match``)."""
        holder, etag = self.read()
        if (holder or {}).get("run_id") != run_id:
            return
        if not self.conditional or etag is None:
            self.fs.rm(self.path)
            return
        bucket, key, _ = self.fs.split_path(self.path)
        try:
            self.fs.call_s3("delete_object", Bucket=bucket, Key=key, IfMatch=etag)
        except Exception as exc:  # botocore's ClientError; s3fs does not pass conditions to rm
            if "PreconditionFailed" in str(exc) or "pre-condition" in str(exc).lower():
                return  # another run took it over between the read and the delete: its lock stays
            self.fs.rm(self.path)  # a store that refuses the condition: deleted as before
        finally:
            self.fs.invalidate_cache(self.path)


def _stale(holder: dict[str, Any], stale_after_s: float) -> bool:
    try:
        beat = datetime.fromisoformat(holder["heartbeat_at"])
    except (KeyError, ValueError, TypeError):
        return True
    if beat.tzinfo is None:  # written without an offset: read as UTC, as every run writes it
        beat = beat.replace(tzinfo=UTC)
    return (datetime.now(UTC) - beat).total_seconds() > stale_after_s
