"""Outputs on any fsspec URL (``s3://…`` with s3fs installed, ``memory://`` in tests): a mirror of the local layout.

A run always works on a local output folder (``runs/``, ``latest``, ``.state``…). For a remote
``--out``, that folder is a local mirror (``.aggregator/<url as a name>``); after the run, the new
run folder is uploaded under ``<url>/runs/<name>/`` and only then the ``<url>/LATEST`` object is
rewritten to name it (object stores replace one object whole: readers see the old run or the
new one). A machine without the mirror first downloads the latest run from the URL.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlparse

import fsspec

from aggregator.runs import RUN_FOLDER_NAME, promote, published_runs

LOCAL_SCHEMES = ("", "file")


def is_remote(out: str) -> bool:
    """Whether ``out`` is an fsspec URL other than a local path."""
    return urlparse(out).scheme not in LOCAL_SCHEMES and "://" in out


def local_mirror(url: str, root: Path = Path(".aggregator")) -> Path:
    """The local folder that mirrors the remote output ``url``."""
    return root / re.sub(r"[^A-Za-z0-9._-]+", "_", url.rstrip("/"))


def own_report(out: str, run_id: str) -> dict[str, object] | None:
    """The run.json of run ``run_id`` under ``out`` (its local mirror for a remote URL), or None."""
    import json

    local = local_mirror(out) if is_remote(out) else Path(out)
    found = sorted((local / "runs").glob(f"*-{run_id}/run.json")) if (local / "runs").is_dir() else []
    return dict(json.loads(found[-1].read_text(encoding="utf-8"))) if found else None


def _latest_name(fs: fsspec.AbstractFileSystem, url: str, pointer: str = "LATEST") -> str | None:
    path = f"{url.rstrip('/')}/{pointer}"
    if not fs.exists(path):
        return None
    name = fs.cat_file(path).decode("utf-8").strip()
    return name if RUN_FOLDER_NAME.fullmatch(name) else None  # never a path from outside


def hydrate(url: str, local: Path, keep: int) -> str | None:
    """Download the latest published run from ``url`` into ``local`` when the mirror lacks it; returns its name."""
    fs, _ = fsspec.core.url_to_fs(url)
    name = _latest_name(fs, url)
    if name is None or (local / "runs" / name).exists():
        return name
    target = local / "runs" / name
    target.parent.mkdir(parents=True, exist_ok=True)
    fs.get(f"{url.rstrip('/')}/runs/{name}/", str(target) + "/", recursive=True)
    promote(local, target, published=True, keep=keep)
    return name


def upload(local: Path, url: str, keep: int) -> None:
    """Upload the local mirror's last run to ``url``, switch ``LATEST`` when it published, prune old runs."""
    fs, _ = fsspec.core.url_to_fs(url)
    base = url.rstrip("/")
    last = (local / "last-run").resolve()
    fs.makedirs(f"{base}/runs/{last.name}", exist_ok=True)
    fs.put(str(last) + "/", f"{base}/runs/{last.name}/", recursive=True)
    fs.pipe_file(f"{base}/LAST_RUN", (last.name + "\n").encode())
    latest = (local / "latest").resolve() if (local / "latest").exists() else None
    if latest is not None and latest.name == last.name:
        fs.pipe_file(f"{base}/LATEST", (last.name + "\n").encode())  # the switch: one object, written whole
    keep_names = {p.name for p in published_runs(local)[-keep:]} | {last.name}
    if latest is not None:
        keep_names.add(latest.name)
    if fs.exists(f"{base}/runs"):
        for entry in fs.ls(f"{base}/runs", detail=False):
            if str(entry).rstrip("/").rsplit("/", 1)[-1] not in keep_names:
                fs.rm(entry, recursive=True)
