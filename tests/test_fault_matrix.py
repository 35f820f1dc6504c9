"""The operator's fault matrix: each fault on a second night, with its exit code, source status and kept data.

A first run publishes two sources; on the second, source ``lab`` meets the fault while ``other``
stays healthy. The second run is the real command (``aggregator run``, a process of its own), so
that its exit code is the operator's.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from conftest import FIXTURES, fixture_bytes, page_requests, raw_server, serve_openagenda, write_config
from werkzeug import Response

from aggregator.config import load_config
from aggregator.pipeline import run
from aggregator.storage import local_mirror

pytestmark = pytest.mark.slow  # a command per night: seconds each

ICS = (FIXTURES / "ical" / "lab-calendar.ics").read_bytes()  # five events
OTHER = FIXTURES / "ical" / "recurring.ics"
HEADERS = b"HTTP/1.1 200 OK\r\nContent-Type: text/calendar\r\nConnection: close\r\n\r\n"
# The deadline the faulty nights run under: every fault must end within it, not hang.
DEADLINE_S = 3


def _config(tmp_path: Path, lab_url: str) -> Path:
    return write_config(
        tmp_path,
        "sources:\n"
        f"  - {{id: lab, kind: ical, url: '{lab_url}',"
        f" http: {{deadline_s: {DEADLINE_S}, timeout_s: 10, retries: 1, backoff_s: 0}}}}\n"
        f"  - {{id: other, kind: ical, url: '{OTHER}', reference_date: 2026-11-01}}\n",
    )


def _cli(config: Path, out: str, cwd: Path) -> tuple[subprocess.CompletedProcess[str], float]:
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "aggregator.cli", "run", "--sources", str(config), "--out", out, "--engine", "local"],
        capture_output=True, text=True, check=False, cwd=cwd, timeout=120,
    )  # fmt: skip
    return proc, time.monotonic() - started


def _first_night(httpserver, tmp_path: Path, out: str) -> tuple[Path, pd.DataFrame]:
    httpserver.expect_request("/lab.ics").respond_with_data(ICS, content_type="text/calendar")
    config = _config(tmp_path, httpserver.url_for("/lab.ics"))
    assert run(load_config(config), out).status == "success"
    return config, _events(Path(out) if "://" not in out else local_mirror(out, tmp_path / ".aggregator"))


def _second_night(httpserver, body: bytes, status: int = 200, robots: str = "User-agent: *\nAllow: /\n") -> None:
    """What the server says on the second night: its robots.txt, and ``body`` for lab.ics."""
    httpserver.clear()
    httpserver.expect_request("/robots.txt").respond_with_data(robots)
    httpserver.expect_request("/lab.ics").respond_with_data(body, status=status, content_type="text/calendar")


def _events(out: Path) -> pd.DataFrame:
    return pd.read_parquet(out / "events.parquet")


def _assert_lab_kept(out: Path, events_before: pd.DataFrame, status: str) -> dict:
    """The second night: lab stale with its five listings kept, no event removed, first_seen_at unchanged."""
    report = json.loads((out / "run.json").read_text())
    assert report["status"] == "partial"
    lab = next(s for s in report["sources"] if s["id"] == "lab")
    other = next(s for s in report["sources"] if s["id"] == "other")
    assert (lab["status"], lab["stale_listings"], other["status"]) == (status, 5, "ok"), lab
    listings = pd.read_parquet(out / "listings.parquet")
    kept = listings[listings["source_id"] == "lab"]
    assert len(kept) == 5 and kept["stale_since"].notna().all()
    events = _events(out).set_index("event_id")
    before = events_before.set_index("event_id")
    assert set(events.index) == set(before.index)  # nothing vanished
    assert events["removed_at"].isna().all()  # nothing marked removed
    assert (events.loc[before.index, "first_seen_at"] == before["first_seen_at"]).all()
    return lab


def drip_body(conn) -> None:
    conn.sendall(HEADERS)
    while True:  # one byte every 0.2 s: each read is quick, the download never ends
        conn.sendall(b"B")
        time.sleep(0.2)


def drip_headers(conn) -> None:
    for byte in HEADERS[:-2]:
        conn.sendall(bytes([byte]))
        time.sleep(0.2)
    time.sleep(30)


def never_answer(conn) -> None:
    time.sleep(30)


@pytest.mark.parametrize(
    ("fault", "answer"), [("dripping body", drip_body), ("dripping headers", drip_headers), ("silent", never_answer)]
)
def test_a_server_that_drips_or_never_answers_fails_the_source_by_its_deadline(
    httpserver, tmp_path, fault: str, answer: Callable
) -> None:
    out = tmp_path / "out"
    config, before = _first_night(httpserver, tmp_path, str(out))
    with raw_server(answer) as base:
        _config(tmp_path, f"{base}/lab.ics")
        proc, elapsed = _cli(config, str(out), tmp_path)
    assert proc.returncode == 3, proc.stderr
    lab = _assert_lab_kept(out, before, "failed")
    assert f"deadline of {DEADLINE_S} s passed" in lab["error"], fault
    assert elapsed < DEADLINE_S + 25, fault  # the deadline, plus the command's start and the run


def test_a_source_past_its_deadline_over_several_pages_fails(httpserver, tmp_path) -> None:
    out = tmp_path / "out"
    config, before = _first_night(httpserver, tmp_path, str(out))
    httpserver.clear()
    httpserver.expect_request("/robots.txt").respond_with_data("User-agent: *\nAllow: /\n")
    # Each answer (a 503, retried once) comes in 1.6 s, within the read timeout; two are past the deadline.
    httpserver.expect_request("/slow.ics").respond_with_handler(lambda _r: (time.sleep(1.6), Response("x", 503))[1])
    _config(tmp_path, httpserver.url_for("/slow.ics"))
    proc, _ = _cli(config, str(out), tmp_path)
    assert proc.returncode == 3, proc.stderr
    lab = _assert_lab_kept(out, before, "failed")
    assert "deadline" in lab["error"]


def test_a_source_whose_records_are_all_rejected_is_broken_and_keeps_its_data(httpserver, tmp_path) -> None:
    out = tmp_path / "out"
    config, before = _first_night(httpserver, tmp_path, str(out))
    undated = re.sub(rb"DTSTART[^\r\n]*\r?\n", b"", ICS)  # a renamed field upstream: every event undated
    _second_night(httpserver, undated)
    proc, _ = _cli(config, str(out), tmp_path)
    assert proc.returncode == 3, proc.stderr
    lab = _assert_lab_kept(out, before, "broken")
    assert lab["alarm"].startswith("all 6 records rejected")  # six VEVENTs, one of them cancelled
    assert lab["reject_mix"] == {"ical_no_start": 6}
    health = pd.read_parquet(out / "history" / "source_health.parquet")
    last = health[health["source_id"] == "lab"].iloc[-1]
    assert last["status"] == "broken" and json.loads(last["reject_mix"]) == {"ical_no_start": 6}
    assert "looks broken: all 6 records rejected" in proc.stderr


def test_a_robots_txt_wildcard_refuses_the_source_and_its_page_is_never_fetched(httpserver, tmp_path) -> None:
    out = tmp_path / "out"
    config, before = _first_night(httpserver, tmp_path, str(out))
    shutil.rmtree(out / ".state")  # robots.txt is otherwise reused for 24 h (RFC 9309), from the HTTP cache
    _second_night(httpserver, ICS, robots="User-agent: *\nDisallow: /*.ics$\n")
    proc, _ = _cli(config, str(out), tmp_path)
    assert proc.returncode == 3, proc.stderr
    lab = _assert_lab_kept(out, before, "failed")
    assert "disallowed by robots.txt" in lab["error"]
    assert page_requests(httpserver) == []  # robots.txt read, the page itself never asked for


def test_a_new_machine_with_the_previous_outputs_only_keeps_a_failing_source_s_data(httpserver, tmp_path) -> None:
    out = tmp_path / "shared-disk" / "out"
    config, before = _first_night(httpserver, tmp_path, str(out))
    shutil.rmtree(out / ".state")  # machine B: nothing but the published outputs
    _second_night(httpserver, b"gone", status=404)
    proc, _ = _cli(config, str(out), tmp_path)
    assert proc.returncode == 3, proc.stderr
    lab = _assert_lab_kept(out, before, "failed")
    assert "HTTP 404" in lab["error"]
    health = pd.read_parquet(out / "history" / "source_health.parquet")
    assert health[health["source_id"] == "lab"]["status"].tolist() == ["ok", "failed"]  # history carried on


def test_a_new_machine_on_s3_keeps_a_failing_source_s_data(httpserver, tmp_path, s3_endpoint) -> None:
    import s3fs

    s3fs.S3FileSystem.clear_instance_cache()
    url = "s3://mip/aggregator"
    machine_a, machine_b = tmp_path / "a", tmp_path / "b"
    machine_a.mkdir()
    machine_b.mkdir()
    httpserver.expect_request("/lab.ics").respond_with_data(ICS, content_type="text/calendar")
    config = _config(tmp_path, httpserver.url_for("/lab.ics"))
    proc, _ = _cli(config, url, machine_a)
    assert proc.returncode == 0, proc.stderr
    before = _events(local_mirror(url, machine_a / ".aggregator"))
    shutil.rmtree(machine_a)  # machine A is gone; B has never run
    _second_night(httpserver, b"down", status=500)
    proc, _ = _cli(config, url, machine_b)
    assert proc.returncode == 3, proc.stderr
    _assert_lab_kept(local_mirror(url, machine_b / ".aggregator"), before, "failed")
    fs = s3fs.S3FileSystem()
    latest = fs.cat_file("mip/aggregator/LATEST").decode().strip()
    listings = pd.read_parquet(fs.open(f"mip/aggregator/runs/{latest}/listings.parquet"))
    assert (listings["source_id"] == "lab").sum() == 5  # what readers of the bucket see


def test_a_new_machine_carries_on_an_incremental_read_from_the_published_cursor(httpserver, tmp_path) -> None:
    pages = [json.loads(fixture_bytes("openagenda", f"events-page{i}.json")) for i in (1, 2)]

    serve_openagenda(httpserver, pages, key="k")
    config = load_config(
        write_config(
            tmp_path,
            f"sources:\n  - {{id: oa, kind: openagenda, url: '{httpserver.url_for('/')}', agenda: '12345',"
            " key: k, incremental: true}\n",
        )
    )
    out = tmp_path / "out"
    first = run(config, out)
    assert first.status == "success"
    assert (out / "latest" / "state" / "sources" / "oa" / "openagenda.json").is_file()  # published with the data
    assert not any("updatedAt" in entry[0].url for entry in httpserver.log)
    shutil.rmtree(out / ".state")  # machine B
    httpserver.clear_log()
    second = run(config, out)
    assert second.status == "success"
    assert any("updatedAt" in entry[0].url for entry in httpserver.log)  # carried on from the cursor
    assert second.counts["listings"] == first.counts["listings"]
