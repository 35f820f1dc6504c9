"""The analysts' guide (docs/analysts.md) runs as written, against outputs of the bundled samples."""

from __future__ import annotations

import contextlib
import io
import re

from conftest import ROOT

from aggregator.config import load_config
from aggregator.pipeline import run
from aggregator.schema import SCHEMA_VERSION

GUIDE = re.compile(r"<!-- analysts:begin -->(.*?)<!-- analysts:end -->", re.DOTALL)
BLOCK = re.compile(r"```python\n(.*?)```", re.DOTALL)


def test_readme_examples_run_as_written(tmp_path, monkeypatch):
    guide = GUIDE.search((ROOT / "docs" / "analysts.md").read_text(encoding="utf-8"))
    assert guide, "docs/analysts.md has the guide's markers"
    blocks = BLOCK.findall(guide.group(1))
    assert len(blocks) >= 4  # pandas, DuckDB, Polars, pyarrow metadata
    config = load_config(ROOT / "sources.yaml")
    for _ in range(2):  # two nights, so that runs/ holds two runs
        assert run(config, tmp_path / "data").status == "success"
    monkeypatch.chdir(tmp_path)  # the examples use the relative path data/
    outputs = []
    for code in blocks:
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            exec(compile(code, "docs/analysts.md", "exec"), {})
        outputs.append(printed.getvalue())
    assert "Nouvelle-Aquitaine" in outputs[0] and "of events are listed by several sources" in outputs[0]
    assert "Nouvelle-Aquitaine" in outputs[1] and "added" in outputs[1]
    assert "atelier" in outputs[2]
    assert outputs[3].startswith(f"{SCHEMA_VERSION} Null while some source lists the event")
