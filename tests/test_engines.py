"""The CLI's local engine and the Prefect flow run the same loop: they publish the same outputs."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest
import yaml
from conftest import ROOT, SHARED, realworld_dir

# Columns that say when a run happened, not what it found.
WHEN = {"fetched_at", "first_seen_at", "last_seen_at", "run_at", "run_id", "removed_at", "changed_at", "duration_s"}


def _tables(out) -> dict[str, pd.DataFrame]:
    found = {}
    for path in sorted(out.glob("*.parquet")) + sorted((out / "stats").glob("*.parquet")):
        frame = pd.read_parquet(path)
        keep = [c for c in frame.columns if c not in WHEN]
        found[str(path.relative_to(out))] = frame[keep].astype(str).sort_values(keep).reset_index(drop=True)
    return found


def _totals(out) -> dict:
    totals = json.loads((out / "totals.json").read_text(encoding="utf-8"))
    return {k: v for k, v in totals.items() if not k.startswith(("data_as_of", "generated"))}


def _corpus_sources(corpus) -> list[dict]:
    """One source per file of the real-world corpus (tests/realworld/corpus.yaml), with its settings."""
    manifest = yaml.safe_load((ROOT / "tests" / "realworld" / "corpus.yaml").read_text(encoding="utf-8"))
    sources = []
    for entry in manifest["entries"]:
        if entry["kind"] == "openagenda":  # the kind reads the API (its url is the API root), not a saved file
            continue
        if "shared" in entry:
            files = [SHARED / entry["shared"]]
        elif "file" in entry:
            files = [corpus / entry["file"]]
        else:
            files = sorted((corpus / entry["files"]).iterdir())
        for path in files:
            if path.is_file():
                name = re.sub(r"[^a-z0-9]+", "-", f"{entry['kind']}-{path.stem}".lower()).strip("-")[:48]
                sources.append({"id": f"{name}-{len(sources)}", "kind": entry["kind"], "url": str(path),
                                **entry["settings"]})  # fmt: skip
    return sources


@pytest.mark.prefect
def test_local_engine_and_flow_publish_the_same_outputs(prefect_harness, tmp_path):
    text = (ROOT / "sources.yaml").read_text(encoding="utf-8")
    path = tmp_path / "sources.yaml"
    path.write_text(text.replace("url: data/samples/", f"url: {ROOT / 'data' / 'samples'}/"), encoding="utf-8")
    _compare_engines(path, tmp_path)


@pytest.mark.prefect
def test_local_engine_and_flow_publish_the_same_outputs_on_the_real_world_corpus(prefect_harness, tmp_path):
    corpus = realworld_dir()
    if not corpus.is_dir():
        pytest.skip(f"real-world corpus absent ({corpus}): build it with scripts/realworld_corpus.py")
    sources = _corpus_sources(corpus)
    assert len(sources) >= 13
    path = tmp_path / "sources.yaml"
    path.write_text(yaml.safe_dump({"sources": sources}, allow_unicode=True), encoding="utf-8")
    _compare_engines(path, tmp_path, expected="partial")  # corpus files without events look broken


def _compare_engines(path, tmp_path, expected: str = "success") -> None:
    from aggregator.config import load_config
    from aggregator.pipeline import run
    from flows import nightly as module

    local = run(load_config(path), tmp_path / "local")
    state = module.nightly(sources=str(path), out=str(tmp_path / "flow"), return_state=True)
    assert local.status in (expected, "success") and state.is_completed()
    flow_report = json.loads((tmp_path / "flow" / "run.json").read_text(encoding="utf-8"))
    assert (local.engine, flow_report["engine"]) == ("local", "prefect")
    assert local.counts == flow_report["counts"] and local.headline == flow_report["headline"]
    ours, theirs = _tables(tmp_path / "local"), _tables(tmp_path / "flow")
    assert ours.keys() == theirs.keys() and len(ours) >= 12
    for name, frame in ours.items():
        pd.testing.assert_frame_equal(frame, theirs[name], obj=name)
    assert _totals(tmp_path / "local") == _totals(tmp_path / "flow")
