"""A run's outputs: what it publishes, and writing them into the run's own folder."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from aggregator.health import SourceHealth
from aggregator.publish import remove_leftovers, write_json, write_stat, write_table, write_text
from aggregator.schema import CHANGES, EVENTS, LISTINGS, MATCHES, REJECTS, SOURCE_HEALTH
from aggregator.state import health_path, publish_source_state
from aggregator.totals import render_markdown


@dataclass
class Outputs:
    """Everything a run publishes, before it is written."""

    listings: pd.DataFrame
    events: pd.DataFrame
    rejects: pd.DataFrame
    matches: pd.DataFrame
    stats: dict[str, pd.DataFrame]
    totals: dict[str, Any]
    warnings: list[str] = field(default_factory=list)
    health: dict[str, SourceHealth] = field(default_factory=dict)
    health_rows: pd.DataFrame | None = None  # the whole source health history, this run's rows last
    report_html: str | None = None
    changes: pd.DataFrame | None = None  # the whole change history, this run's rows last


def write_outputs(outputs: Outputs, out_dir: Path, folder: Path | None = None) -> dict[str, str]:
    """Write every output into the run's ``folder`` (a new folder under ``out_dir/runs``).

    Nothing is visible to readers until ``promote`` switches ``latest`` to the folder. Histories
    (changes, source health) are written whole, as ``build_outputs`` made them; the sources' cursors are copied
    into the folder's ``state/``, so that everything the next run needs is published with the
    data. Returns output name -> path.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    remove_leftovers(out_dir)
    state_root = out_dir
    out_dir = folder if folder is not None else out_dir
    out_dir.mkdir(parents=True, exist_ok=True)
    written: dict[str, str] = {}
    for table, frame in (
        (EVENTS, outputs.events),
        (LISTINGS, outputs.listings),
        (REJECTS, outputs.rejects),
        (MATCHES, outputs.matches),
    ):
        path = out_dir / f"{table.name}.parquet"
        write_table(frame, table, path)
        written[table.name] = str(path)
    for name, frame in outputs.stats.items():
        write_stat(frame, out_dir / "stats", name)
    written["stats"] = str(out_dir / "stats")
    write_json(outputs.totals, out_dir / "totals.json")
    write_text(render_markdown(outputs.totals), out_dir / "totals.md")
    written["totals"] = str(out_dir / "totals.json")
    written["totals_md"] = str(out_dir / "totals.md")
    if outputs.report_html is not None:
        write_text(outputs.report_html, out_dir / "report.html")
        written["report"] = str(out_dir / "report.html")
    for table, rows, path in (
        (SOURCE_HEALTH, outputs.health_rows, health_path(out_dir)),
        (CHANGES, outputs.changes, out_dir / "changes.parquet"),
    ):
        if rows is not None:  # whole histories: earlier runs' rows, then this run's (``build_outputs``)
            write_table(rows, table, path)
            written[table.name] = str(path)
    # What sources need next run travels with the data (last good listings are the listings).
    if publish_source_state(state_root, out_dir):
        written["state"] = str(out_dir / "state")
    return written
