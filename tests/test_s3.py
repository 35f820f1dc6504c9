"""Outputs on S3: against a local S3-compatible endpoint (moto's server mode on loopback)."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest
from conftest import FIXTURES, write_config

from aggregator.config import load_config
from aggregator.pipeline import run
from aggregator.storage import local_mirror


def test_outputs_written_to_s3_and_read_back(tmp_path, s3_endpoint, monkeypatch):
    import s3fs

    monkeypatch.chdir(tmp_path)
    s3fs.S3FileSystem.clear_instance_cache()
    url = "s3://mip/aggregator"
    calendar = tmp_path / "lab.ics"
    calendar.write_bytes((FIXTURES / "ical" / "lab-calendar.ics").read_bytes())
    config = load_config(write_config(tmp_path, f"sources:\n  - {{id: lab, kind: ical, url: {calendar}}}\n"))
    first = run(config, url)
    assert first.status == "success"
    fs = s3fs.S3FileSystem(client_kwargs={"endpoint_url": s3_endpoint})
    latest = fs.cat_file("mip/aggregator/LATEST").decode().strip()
    assert latest.endswith(first.run_id)
    opts = {"client_kwargs": {"endpoint_url": s3_endpoint}}
    events = pd.read_parquet(f"{url}/runs/{latest}/events.parquet", storage_options=opts)
    assert len(events) == first.counts["events"] == 5
    assert "Par région" in fs.cat_file(f"mip/aggregator/runs/{latest}/report.html").decode()
    shutil.rmtree(local_mirror(url))  # a new machine: the latest run comes back from S3
    second = run(config, url)
    assert second.status == "success"
    latest = fs.cat_file("mip/aggregator/LATEST").decode().strip()
    events = pd.read_parquet(f"{url}/runs/{latest}/events.parquet", storage_options=opts)
    assert (events["first_seen_at"] == first.started_at).all()


def _calendar_config(tmp_path, wait=0):
    calendar = tmp_path / "lab.ics"
    calendar.write_bytes((FIXTURES / "ical" / "lab-calendar.ics").read_bytes())
    return load_config(
        write_config(
            tmp_path, f"run: {{lock_wait_s: {wait}}}\nsources:\n  - {{id: lab, kind: ical, url: {calendar}}}\n"
        )
    )


def test_a_live_lock_object_keeps_a_second_machine_out_and_a_stale_one_is_taken_over(
    tmp_path, s3_endpoint, monkeypatch
):
    import json

    import s3fs

    from aggregator.lock import OutputLockedError

    monkeypatch.chdir(tmp_path)
    s3fs.S3FileSystem.clear_instance_cache()
    fs = s3fs.S3FileSystem()
    url = "s3://mip/aggregator"
    config = _calendar_config(tmp_path)
    now = pd.Timestamp.now(tz="UTC")
    holder = {"run_id": "0123456789ab", "host": "machine-a", "pid": 4242, "since": now.isoformat()}
    fs.pipe_file("mip/aggregator/LOCK", json.dumps({**holder, "heartbeat_at": now.isoformat()}).encode())
    with pytest.raises(OutputLockedError, match=r"in use by run 0123456789ab \(host machine-a, pid 4242"):
        run(config, url)
    assert not fs.exists("mip/aggregator/LATEST")  # nothing written
    # Machine A died an hour ago: its heartbeat stopped; the lock is taken over.
    old = (now - pd.Timedelta(hours=1)).isoformat()
    fs.pipe_file("mip/aggregator/LOCK", json.dumps({**holder, "heartbeat_at": old}).encode())
    assert run(config, url).status == "success"
    assert fs.exists("mip/aggregator/LATEST") and not fs.exists("mip/aggregator/LOCK")  # released after the run


def test_the_lock_object_s_heartbeat_is_renewed_while_the_run_lasts(tmp_path, s3_endpoint):
    import json
    import time

    import s3fs

    from aggregator.lock import remote_lock

    s3fs.S3FileSystem.clear_instance_cache()
    fs = s3fs.S3FileSystem()
    with remote_lock("s3://mip/beat", "feedfacecafe", wait_s=0, heartbeat_s=0.3):
        first = json.loads(fs.cat_file("mip/beat/LOCK"))["heartbeat_at"]
        time.sleep(1.0)
        later = json.loads(fs.cat_file("mip/beat/LOCK"))
    assert later["run_id"] == "feedfacecafe" and later["heartbeat_at"] > first
    assert not fs.exists("mip/beat/LOCK")


def _lock_fs():
    import s3fs

    s3fs.S3FileSystem.clear_instance_cache()
    return s3fs.S3FileSystem()


def _a_late_run_sees_the_holder(monkeypatch, fs, prefix, first_look):
    """Run B, whose first look at the lock saw ``first_look``, writes after run A took it: B backs off."""
    import json

    from aggregator import lock

    real_read = lock._LockObject.read
    looks = iter([first_look])
    monkeypatch.setattr(lock._LockObject, "read", lambda self: next(looks, None) or real_read(self))
    late = lock.remote_lock(f"s3://mip/{prefix}", "bbbbbbbbbbbb", wait_s=0, heartbeat_s=60)
    with pytest.raises(lock.OutputLockedError, match="in use by run aaaaaaaaaaaa"), late:
        pass
    monkeypatch.undo()
    assert json.loads(fs.cat_file(f"mip/{prefix}/LOCK"))["run_id"] == "aaaaaaaaaaaa"


def test_of_two_runs_that_both_found_the_lock_free_only_one_holds_it(s3_endpoint, monkeypatch):
    # Run B looked before run A wrote its lock (it found none), and writes after A has read its own
    # back: B's write is conditional on the object being absent, fails, and B sees A holding it.
    from aggregator.lock import remote_lock

    fs = _lock_fs()
    with remote_lock("s3://mip/race", "aaaaaaaaaaaa", wait_s=0, heartbeat_s=60):
        _a_late_run_sees_the_holder(monkeypatch, fs, "race", first_look=(None, None))  # before A's write
    assert not fs.exists("mip/race/LOCK")


def test_of_two_runs_taking_over_the_same_dead_lock_only_one_holds_it(s3_endpoint, monkeypatch):
    import json

    from aggregator import lock
    from aggregator.lock import remote_lock

    fs = _lock_fs()
    dead = {"run_id": "deaddeaddead", "host": "gone", "pid": 1, "since": "2026-11-01T00:00:00+00:00",
            "heartbeat_at": "2026-11-01T00:00:00+00:00"}  # fmt: skip
    fs.pipe_file("mip/takeover/LOCK", json.dumps(dead).encode())
    seen = lock._LockObject(fs, "s3://mip/takeover/LOCK").read()  # what B read: the dead run's lock
    assert seen[0] == dead and seen[1]
    with remote_lock("s3://mip/takeover", "aaaaaaaaaaaa", wait_s=0, heartbeat_s=60):  # A took it over
        _a_late_run_sees_the_holder(monkeypatch, fs, "takeover", first_look=seen)


def test_a_heartbeat_does_not_overwrite_a_lock_another_run_took_over(s3_endpoint):
    import json
    import time

    from aggregator.lock import remote_lock

    fs = _lock_fs()
    other = {"run_id": "cccccccccccc", "host": "b", "pid": 2, "since": "x", "heartbeat_at": "2099-01-01T00:00:00+00:00"}
    with remote_lock("s3://mip/stolen", "aaaaaaaaaaaa", wait_s=0, heartbeat_s=0.2):
        fs.pipe_file("mip/stolen/LOCK", json.dumps(other).encode())  # this run was taken for dead
        time.sleep(1.0)  # several heartbeats
        assert json.loads(fs.cat_file("mip/stolen/LOCK"))["run_id"] == "cccccccccccc"
    assert json.loads(fs.cat_file("mip/stolen/LOCK"))["run_id"] == "cccccccccccc"  # not released: not ours


def test_a_run_ending_does_not_delete_a_lock_another_run_took_over_meanwhile(s3_endpoint, monkeypatch):
    # The ending run reads its own lock, then another run replaces it before the delete: the delete
    # is conditional on the object read, so the other run's lock stays.
    import json

    from aggregator import lock

    fs = _lock_fs()
    other = {"run_id": "cccccccccccc", "host": "b", "pid": 2, "since": "x", "heartbeat_at": "2099-01-01T00:00:00+00:00"}
    real_read = lock._LockObject.read

    def read_then_lose_it(self):
        seen = real_read(self)
        if seen[0] and seen[0].get("run_id") == "aaaaaaaaaaaa":
            fs.pipe_file("mip/ending/LOCK", json.dumps(other).encode())  # taken over just after the read
        return seen

    with lock.remote_lock("s3://mip/ending", "aaaaaaaaaaaa", wait_s=0, heartbeat_s=60):
        monkeypatch.setattr(lock._LockObject, "read", read_then_lose_it)
    assert json.loads(fs.cat_file("mip/ending/LOCK"))["run_id"] == "cccccccccccc"


@pytest.mark.parametrize(
    ("age", "written", "stale"),
    [
        (pd.Timedelta(seconds=5), lambda t: t.isoformat(), False),
        (pd.Timedelta(hours=1), lambda t: t.isoformat(), True),
        (pd.Timedelta(seconds=5), lambda t: t.strftime("%Y-%m-%dT%H:%M:%SZ"), False),  # "Z", as other tools write
        (pd.Timedelta(seconds=5), lambda t: t.tz_localize(None).isoformat(), False),  # no offset: read as UTC
        (pd.Timedelta(hours=1), lambda t: t.tz_localize(None).isoformat(), True),
        (pd.Timedelta(0), lambda t: "yesterday", True),  # unreadable: the holder is taken for dead
    ],
)
def test_a_lock_holder_is_stale_when_its_heartbeat_is_old_or_unreadable(age, written, stale):
    from aggregator.lock import _stale

    beat = pd.Timestamp.now(tz="UTC") - age
    assert _stale({"heartbeat_at": written(beat)}, stale_after_s=600) is stale
