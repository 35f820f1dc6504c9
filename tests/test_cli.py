"""The command line as a user runs it: exit codes, one-line errors, run.json, no secret printed."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from conftest import FIXTURES, write_config


def _cli(*args, env=None):
    return subprocess.run(
        [sys.executable, "-m", "aggregator.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            "sources:\n  - {id: a, kind: rss, url: x}\n",
            "sources[0] (id=a).kind: unknown kind 'rss' (valid kinds: csv, datatourisme, feed, html, ical, json, jsonld, openagenda, opendatasoft)",
        ),
        ("sources:\n  - {id: a, kind: ical}\n", "sources[0] (id=a).url: Field required"),
        ("sources:\n  - {id: A B, kind: ical, url: x}\n", "sources[0] (id=A B).id: 'A B' is not a slug"),
        (
            "sources:\n  - {id: a, kind: ical, url: x}\n  - {id: a, kind: ical, url: y}\n",
            "sources[1] (id=a).id: duplicate id 'a'",
        ),
    ],
)
@pytest.mark.parametrize("command", ["validate", "run", "run-prefect"])
def test_broken_config_fails_fast_with_one_line(tmp_path, body, expected, command):
    path = write_config(tmp_path, body)
    extra = {"run": ["--engine", "local"], "run-prefect": []}.get(command)  # the flow's program is started first
    arguments = ["run", "--out", str(tmp_path / "out"), *extra] if extra is not None else [command]
    proc = _cli(*arguments, "--sources", str(path))
    assert proc.returncode == 2
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    assert expected in lines[0]
    assert str(path) in lines[0]
    assert not (tmp_path / "out").exists()


def test_validate_lists_sources_without_secrets(tmp_path):
    path = write_config(tmp_path, "sources:\n  - {id: a, kind: ical, url: 'https://x.example.org/c.ics?key=${K}'}\n")
    proc = _cli("validate", "--sources", str(path), env={**__import__("os").environ, "K": "hush-hush-42"})
    assert proc.returncode == 0
    assert "hush-hush-42" not in proc.stdout + proc.stderr


def test_a_failing_source_does_not_stop_the_others(tmp_path, httpserver):
    httpserver.expect_request("/broken.ics").respond_with_data("oops", status=500)
    body = f"""
sources:
  - id: lab
    kind: ical
    url: {FIXTURES / "ical" / "lab-calendar.ics"}
  - id: broken
    kind: ical
    url: "{httpserver.url_for("/broken.ics")}?token=${{TOKEN}}"
    http: {{retries: 0}}
"""
    path = write_config(tmp_path, body)
    out = tmp_path / "out"
    env = {**__import__("os").environ, "TOKEN": "tok-secret-123"}
    proc = _cli("run", "--sources", str(path), "--out", str(out), "--engine", "local", env=env)
    assert proc.returncode == 3, proc.stderr
    assert "source broken failed" in proc.stderr
    run = json.loads((out / "run.json").read_text())
    assert run["status"] == "partial"
    by_id = {s["id"]: s for s in run["sources"]}
    assert by_id["lab"]["status"] == "ok" and by_id["lab"]["listings"] == 5
    assert by_id["broken"]["status"] == "failed" and "HTTP 500" in by_id["broken"]["error"]
    assert run["counts"]["events"] == 5
    assert len(pd.read_parquet(out / "events.parquet")) == 5
    everything = (
        proc.stdout + proc.stderr + "".join(p.read_text(errors="ignore") for p in out.rglob("*") if p.is_file())
    )
    assert "tok-secret-123" not in everything
    assert "token=***" in (out / "run.json").read_text()


def test_nothing_collected_is_a_failure(tmp_path):
    path = write_config(tmp_path, f"sources:\n  - {{id: a, kind: ical, url: {tmp_path / 'absent.ics'}}}\n")
    proc = _cli("run", "--sources", str(path), "--out", str(tmp_path / "out"), "--engine", "local")
    assert proc.returncode == 1
    run = json.loads((tmp_path / "out" / "run.json").read_text())
    assert run["status"] == "failed"
    assert not (tmp_path / "out" / "events.parquet").exists()


def test_docs_check_detects_a_stale_dictionary_or_kinds_reference(tmp_path):
    stale, kinds = tmp_path / "dd.md", tmp_path / "kinds.md"
    stale.write_text("old")
    paths = ("--path", str(stale), "--kinds-path", str(kinds))
    assert _cli("docs", "--check", *paths).returncode == 1
    assert _cli("docs", *paths).returncode == 0
    assert _cli("docs", "--check", *paths).returncode == 0
    assert Path(stale).read_text().startswith("# Data dictionary")
    assert Path(kinds).read_text().startswith("# Source kinds")
    kinds.write_text("old")
    checked = _cli("docs", "--check", *paths)
    assert checked.returncode == 1 and "kinds.md is stale" in checked.stderr


def test_sources_check_prints_a_table_and_tells_the_truth(tmp_path, httpserver):
    httpserver.expect_request("/down.ics").respond_with_data("no", status=503)
    body = f"""
sources:
  - id: lab
    kind: ical
    url: {FIXTURES / "ical" / "lab-calendar.ics"}
  - id: down
    kind: ical
    url: "{httpserver.url_for("/down.ics")}"
    http: {{retries: 0}}
"""
    path = write_config(tmp_path, body)
    proc = _cli("sources", "check", "--sources", str(path))
    assert proc.returncode == 3, proc.stderr  # one of two sources is not usable
    lines = {line.split()[0]: line for line in proc.stdout.splitlines()[1:] if line.strip()}  # plain in a pipe
    assert "ok" in lines["lab"] and " 6 " in lines["lab"]  # six items read from the calendar
    assert "failed" in lines["down"] and "HTTP 503" in lines["down"]
    assert not (tmp_path / ".state").exists()  # a check writes no state
    only = _cli("sources", "check", "--sources", str(path), "--only", "lab")
    assert only.returncode == 0, only.stdout


# --- for operators: pipes, cron mails, scripts -----------------------------------------------

LONG_IDS = [
    "agenda-de-la-prefecture-de-la-region-nouvelle-aquitaine-2026",
    "laboratoire-d-innovation-publique-occitanie",
]


def _long_config(tmp_path: Path) -> Path:
    ics = FIXTURES / "ical" / "lab-calendar.ics"
    return write_config(
        tmp_path, "sources:\n" + "".join(f"  - {{id: {i}, kind: ical, url: '{ics}'}}\n" for i in LONG_IDS)
    )


@pytest.mark.slow  # several commands: seconds each
def test_piped_output_is_plain_and_never_cuts_a_source_name(tmp_path):
    path = _long_config(tmp_path)
    env = {**os.environ, "COLUMNS": "60"}  # a narrow terminal setting must not matter in a pipe either
    for command in (["run", "--engine", "local", "--out", str(tmp_path / "out")], ["validate"]):
        proc = _cli(*command, "--sources", str(path), env=env)
        assert proc.returncode == 0, proc.stderr
        names = [line.split()[0] for line in proc.stdout.splitlines() if line.split() and "-" in line.split()[0]]
        assert set(LONG_IDS) <= set(names), proc.stdout
        assert "…" not in proc.stdout and "\x1b[" not in proc.stdout  # nothing cut, no colour codes
        assert all(line == line.rstrip() for line in proc.stdout.splitlines())


@pytest.mark.slow  # a command: seconds
def test_json_summary_is_run_json_and_alone_on_stdout(tmp_path):
    out = tmp_path / "out"
    proc = _cli("run", "--engine", "local", "--json", "--sources", str(_long_config(tmp_path)), "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)  # stdout holds the JSON and nothing else
    assert summary == json.loads((out / "run.json").read_text())
    assert summary["status"] == "success" and [s["id"] for s in summary["sources"]] == LONG_IDS


@pytest.mark.slow  # several commands: seconds each
def test_quiet_prints_nothing_but_errors_and_verbose_prints_each_source(tmp_path):
    path = _long_config(tmp_path)
    quiet = _cli("run", "--engine", "local", "-q", "--sources", str(path), "--out", str(tmp_path / "q"))
    assert quiet.returncode == 0 and quiet.stdout == "" and quiet.stderr == ""
    loud = _cli("run", "--engine", "local", "-v", "--sources", str(path), "--out", str(tmp_path / "v"))
    assert loud.returncode == 0
    assert all(f"{i} (ical): 6 items" in loud.stderr for i in LONG_IDS), loud.stderr


@pytest.mark.slow  # several commands: seconds each
def test_verbose_shows_a_failure_s_traceback_which_is_otherwise_kept_out(tmp_path):
    bad = tmp_path / "bad.ics"
    bad.write_text("<html>not a calendar</html>")
    good = FIXTURES / "ical" / "lab-calendar.ics"
    path = write_config(
        tmp_path, f"sources:\n  - {{id: bad, kind: ical, url: '{bad}'}}\n  - {{id: good, kind: ical, url: '{good}'}}\n"
    )
    plain = _cli("run", "--engine", "local", "--sources", str(path), "--out", str(tmp_path / "a"))
    assert plain.returncode == 3 and "Traceback" not in plain.stdout + plain.stderr
    loud = _cli("run", "--engine", "local", "-v", "--sources", str(path), "--out", str(tmp_path / "b"))
    assert loud.returncode == 3 and "Traceback (most recent call last)" in loud.stderr


def test_version_and_help_texts(tmp_path):
    from importlib.metadata import version

    proc = _cli("--version")
    assert proc.returncode == 0 and proc.stdout.strip() == f"aggregator {version('aggregator')}"
    env = {**os.environ, "COLUMNS": "100"}
    for command in ([], ["run"], ["validate"], ["sources", "check"], ["serve"], ["docs"]):
        text = _cli(*command, "--help", env=env).stdout
        assert "``" not in text and "`" not in text.replace("`make serve`", ""), (command, text)
    run_help = _cli("run", "--help", env=env).stdout
    assert "3 published with warnings (some sources failed or" in run_help  # a sentence flows, not cut per line
