"""Figures drawn in the helper process: the same as drawn here, and a run that survives its helper."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from aggregator import drawing
from aggregator.charts import draw
from aggregator.figures import TABLES

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "data" / "samples"


@pytest.fixture(scope="module")
def tables(tmp_path_factory) -> dict[str, pd.DataFrame]:
    """The statistics tables of a run on the bundled samples (drawn from, as a run draws)."""
    from aggregator.config import load_config
    from aggregator.pipeline import run

    tmp = tmp_path_factory.mktemp("drawing")
    text = (ROOT / "sources.yaml").read_text(encoding="utf-8").replace("data/samples/", f"{SAMPLES}/")
    (tmp / "sources.yaml").write_text(text, encoding="utf-8")
    run(load_config(tmp / "sources.yaml"), tmp / "out")
    stats = tmp / "out" / "latest" / "stats"
    return {path.stem: pd.read_parquet(path) for path in stats.glob("*.parquet")}


def _same(one, other) -> None:
    assert one.charts == other.charts  # PNG embedded: equal bytes
    for level in ("regions", "departements"):
        assert one.maps[level]["png"] == other.maps[level]["png"]
        # SVG element ids are random per process (matplotlib's hash salt): the drawing is compared without them.
        assert _svg_shapes(one.maps[level]["svg"]) == _svg_shapes(other.maps[level]["svg"])


def _svg_shapes(svg: bytes) -> str:
    return re.sub(r"\b[mp][0-9a-f]{10}\b", "ID", svg.decode("utf-8"))


def test_the_helper_draws_what_this_process_draws(tables):
    pending = drawing.draw_elsewhere(tables)
    _same(pending.result(timeout=120), draw(tables))
    assert drawing.figures_of(pending, tables) is pending.result()


def test_without_a_helper_the_figures_are_drawn_here(tables):
    _same(drawing.figures_of(None, tables), draw(tables))


def test_only_the_figures_tables_are_sent(tables, monkeypatch):
    sent = []
    monkeypatch.setattr(drawing._Helper, "draw", lambda self, t: sent.append(sorted(t)) or drawing.Future())
    drawing.draw_elsewhere({**tables, "by_source": pd.DataFrame({"x": range(10**6)})})
    assert sent == [sorted(TABLES)]


def test_a_killed_helper_is_replaced_and_its_figures_drawn_here(tables):
    drawing.start_helper()
    first = drawing._helper
    assert first is not None
    first.process.kill()
    first.process.wait()
    pending = drawing.draw_elsewhere(tables)  # the dead helper is seen and replaced
    assert drawing._helper is not first
    _same(drawing.figures_of(pending, tables), draw(tables))
    drawing._helper.process.kill()  # dies with a request under way: drawn here instead
    drawing._helper.process.wait()
    late = drawing.Future()
    drawing._helper._exchange(dict(tables), late)
    with pytest.raises(drawing.HelperEndedError):
        late.result()
    _same(drawing.figures_of(late, tables), draw(tables))


def test_an_error_while_drawing_is_raised_not_drawn_again(tables):
    broken = {**tables, "by_region": tables["by_region"].drop(columns="events")}
    pending = drawing.draw_elsewhere(broken)
    with pytest.raises(RuntimeError, match=r"(?s)drawing the figures failed in the helper process:.*KeyError"):
        drawing.figures_of(pending, broken)


@pytest.mark.parametrize(("processes", "loaded"), [(2, False), (1, True)])
def test_a_run_loads_matplotlib_only_when_it_draws_itself(tmp_path, processes, loaded):
    text = (ROOT / "sources.yaml").read_text(encoding="utf-8").replace("data/samples/", f"{SAMPLES}/")
    (tmp_path / "sources.yaml").write_text(f"run: {{processes: {processes}}}\n{text}", encoding="utf-8")
    script = (
        "import sys\n"
        "from aggregator.config import load_config\n"
        "from aggregator.pipeline import run\n"
        f"report = run(load_config({str(tmp_path / 'sources.yaml')!r}), {str(tmp_path / 'out')!r})\n"
        "assert report.status == 'success', report.errors\n"
        "print('matplotlib' in sys.modules)\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == str(loaded)
    maps = tmp_path / "out" / "latest" / "maps"
    assert sorted(p.name for p in maps.iterdir()) == [
        f"{m}.{f}" for m in ("departements", "regions") for f in ("png", "svg")
    ]
    assert (tmp_path / "out" / "latest" / "report.html").read_text(encoding="utf-8").count("data:image/png") == 6


def test_the_helper_ends_with_the_program_even_while_it_starts():
    script = "from aggregator import drawing\ndrawing.start_helper()\nprint(drawing._helper.process.pid)\n"
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60)
    pid = int(proc.stdout)
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
